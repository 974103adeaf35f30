"""vntrace.client: the client SDK (built in a later issue)."""
