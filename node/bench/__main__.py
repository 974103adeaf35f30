"""``python -m vntrace.node.bench`` runs the proof benchmark (same as ``vntrace bench proofs``)."""

import sys

from .proofs import main

sys.exit(main())
