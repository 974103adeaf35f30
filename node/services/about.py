"""What the node says about itself: signing facts for clients, and its identity.

The node's Ed25519 identity signs receipts (and, with the log of epochs, checkpoints);
its public key is published in the registry's anchorer metadata and in the well-known
document, so a consumer can check both sources agree.
"""

from __future__ import annotations

import logging
from typing import Any

from vntrace.node.chain import ChainError
from vntrace.node.identity import b64url

from .context import NodeContext

log = logging.getLogger("vntrace.node")


class AboutService:
    """The node's public facts: chain, registry, profile, identity."""

    def __init__(self, ctx: NodeContext) -> None:
        self._ctx = ctx

    def info(self) -> dict[str, Any]:
        """What a client needs to sign and verify against this node."""
        ctx = self._ctx
        return {
            "chainId": ctx.chain.chain_id,
            "registry": ctx.chain.registry_address,
            "operator": ctx.chain.operator_address,
            "chain": ctx.settings.chain,
            "profile": ctx.profile.id,
            "gtins": list(ctx.profile.gtins),
            "digitalLinkBase": ctx.settings.base_url,
        }

    def identity_document(self) -> dict[str, Any]:
        """The well-known document: who this node is and how to check its receipts."""
        ctx = self._ctx
        return {
            "nodeId": ctx.identity.node_id,
            "ed25519": b64url(ctx.identity.public_key),
            "jwk": ctx.identity.public_jwk(),
            "chainId": ctx.chain.chain_id,
            "registry": ctx.chain.registry_address,
            "operator": ctx.chain.operator_address,
            "receipts": "Ed25519 over RFC 8785 JSON of the receipt without 'signature'",
        }

    def publish_identity(self) -> None:
        """Record the node's Ed25519 key in its anchorer metadata on chain, if not there.

        Best effort: an operator without the anchorer role (yet) or a chain outage is
        logged, and the well-known document still serves the key.
        """
        chain, identity = self._ctx.chain, self._ctx.identity
        wanted = identity.anchorer_metadata(chain.chain_id, chain.registry_address)
        try:
            operator = chain.operator_address
            if chain.is_anchorer(operator) and chain.anchorer_metadata(operator) != wanted:
                chain.set_anchorer_metadata(wanted)
        except ChainError as exc:
            log.warning("could not publish the node identity on chain: %s", exc)
