"""vntrace.node: the node's core (Merkle engine, records, store, chain, anchoring, CLI)."""
