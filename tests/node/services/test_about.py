"""AboutService: the facts clients sign against, and the node's published identity."""

from __future__ import annotations

from vntrace.node.identity import b64url
from vntrace.node.service import TraceNode
from vntrace.node.services import AboutService


def test_info_names_the_signing_domain(node: TraceNode) -> None:
    info = AboutService(node.context).info()
    assert info["chainId"] == node.chain.chain_id
    assert info["registry"] == node.chain.registry_address
    assert info["profile"] == node.profile.id and info["gtins"] == list(node.profile.gtins)
    assert info["chain"] == "embedded"


def test_identity_is_published_on_chain_and_in_the_document(node: TraceNode) -> None:
    about = AboutService(node.context)
    doc = about.identity_document()
    assert doc["ed25519"] == b64url(node.identity.public_key)
    wanted = node.identity.anchorer_metadata(node.chain.chain_id, node.chain.registry_address)
    assert node.chain.anchorer_metadata(node.chain.operator_address) == wanted
    about.publish_identity()  # idempotent: already there, nothing sent
    assert node.chain.anchorer_metadata(node.chain.operator_address) == wanted
