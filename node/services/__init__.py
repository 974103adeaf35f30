"""The node's capabilities as small services over shared parts.

Each module holds one capability and the rules that go with it:

- :mod:`.context` the parts every service shares (settings, store, chain, profile,
  identity, vault) and the memoised look-ups of immutable facts;
- :mod:`.producers` producers and their lots (who may write where);
- :mod:`.intake` signed records in, acknowledged once committed, with receipts;
- :mod:`.disclosures` confidential values: checked against commitments, sealed, opened;
- :mod:`.provenance` reading back: a record, its proof bundle, a lot's provenance;
- :mod:`.verification` verdicts for bundles and stored records, against the chain;
- :mod:`.recall` recalls, on the node and relayed on chain;
- :mod:`.about` what the node says about itself (info, identity document).

:class:`vntrace.node.service.TraceNode` wires them; the API's routers depend on the
service they use (``api/deps.py``). docs/architecture.md maps who calls whom.
"""

from __future__ import annotations

from .about import AboutService
from .context import Lookups, NodeContext
from .disclosures import DisclosureService
from .intake import IntakeService
from .models import Acknowledgement, Submission, Verdict
from .producers import ProducerService
from .provenance import LotReading, ProvenanceService
from .recall import RecallService
from .verification import VerificationService

__all__ = [
    "AboutService",
    "Acknowledgement",
    "DisclosureService",
    "IntakeService",
    "LotReading",
    "Lookups",
    "NodeContext",
    "ProducerService",
    "ProvenanceService",
    "RecallService",
    "Submission",
    "Verdict",
    "VerificationService",
]
