"""vntrace.node.witness: ``vntrace witness``, a C2SP tlog-witness for vntrace logs.

Run by a second party (a regulator, an exporters' association, another node) with its
own key and data folder. ``core`` holds the protocol (pure but for its durable state in
``state``), ``app`` the HTTP binding, ``cli`` the commands. See docs/witness.md.
"""
