"""vntrace.node.tlog: the append-only, witnessed log of anchored epochs.

Pure parts (no store, no network; only ``cryptography`` and the stdlib): ``merkle``
(RFC 9162 tree and proofs), ``note`` (C2SP signed notes, checkpoints, cosignatures),
``leaf`` (the epoch leaf encoding), ``verify`` (what the SDK checks). The node's side,
``service.LogService`` and ``store``, is imported explicitly (it needs SQLAlchemy).
"""
