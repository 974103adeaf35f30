"""The consumer's witness policy: which log and which witnesses it trusts, and how many.

On the embedded chain the operator runs the chain, so "the registry says so" alone is
the operator's word. Each anchored epoch is also a leaf of the node's witnessed log
(docs/witness.md): a C2SP checkpoint signed by the log and cosigned by independent
witnesses. A :class:`WitnessPolicy` makes verification also require the epoch's
inclusion in a checkpoint signed by ``log_key`` and cosigned by at least
``min_witnesses`` of ``witnesses``; k honest witnesses mean a rewritten chain or a
history shown to one consumer only needs k colluders.

Get the keys from a source other than the node (the witnesses publish their own vkeys;
the log key is the node's identity key, also in its anchorer metadata on chain).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vntrace.node.bundles import Reason
from vntrace.node.tlog.errors import PolicyError, TlogError
from vntrace.node.tlog.note import COSIGNATURE_V1, ED25519, Verifier
from vntrace.node.tlog.verify import verify_log_section

from .errors import ConfigurationError

Finding = tuple[Reason, str]


def _split(value: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v for v in value.replace(",", " ").split() if v)
    return tuple(value)


@dataclass(frozen=True, slots=True)
class WitnessPolicy:
    """``log_key`` (a signed-note vkey, type 0x01) and ``min_witnesses`` of ``witnesses``
    (cosignature/v1 vkeys, type 0x04). ``min_witnesses`` defaults to 1 with witnesses,
    0 without (then only the log's signature and the inclusion are checked)."""

    log_key: str
    witnesses: tuple[str, ...] = ()
    min_witnesses: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "witnesses", _split(self.witnesses))
        if self.min_witnesses is None:
            object.__setattr__(self, "min_witnesses", 1 if self.witnesses else 0)
        k = self.min_witnesses
        assert k is not None
        try:
            log = Verifier.from_vkey(self.log_key)
            keys = [Verifier.from_vkey(w) for w in self.witnesses]
        except TlogError as exc:
            raise ConfigurationError(f"witness policy: {exc.detail}") from None
        if log.sig_type != ED25519:
            raise ConfigurationError("witness policy: the log key must be an Ed25519 (0x01) vkey")
        for w in keys:
            if w.sig_type != COSIGNATURE_V1:
                raise ConfigurationError(
                    f"witness policy: witness key {w.name} is not a cosignature/v1 (0x04) vkey"
                )
        if len({w.name for w in keys}) != len(keys):
            raise ConfigurationError("witness policy: a witness is listed twice")
        if not 0 <= k <= len(keys):
            raise ConfigurationError(
                f"witness policy: cannot require {k} of {len(keys)} witness(es)"
            )

    def check(
        self, section: Any, claims: Mapping[str, Any]
    ) -> tuple[list[Finding], tuple[str, ...]]:
        """Findings for one epoch's ``log`` section, and the witnesses that cosigned it.

        ``claims`` is what the bundle (or provenance epoch) says: epoch, root, chainId,
        registry, anchor; the log's leaf must say the same.
        """
        epoch = claims.get("epoch")
        if section is None:
            return [
                (
                    Reason.LOG_UNWITNESSED,
                    f"epoch {epoch} is not in the witnessed log the policy requires (yet)",
                )
            ], ()
        if not isinstance(section, Mapping):
            return [(Reason.LOG_MISMATCH, "the log section is not an object")], ()
        try:
            verdict = verify_log_section(
                section,
                log_key=self.log_key,
                witnesses=self.witnesses,
                min_witnesses=self.min_witnesses or 0,
                bundle=claims,
            )
        except PolicyError as exc:
            return [(Reason.LOG_UNWITNESSED, f"epoch {epoch}: {exc.detail}")], ()
        except TlogError as exc:
            return [(Reason.LOG_MISMATCH, f"epoch {epoch}: {exc.detail}")], ()
        return [], verdict.cosigners


__all__ = ["WitnessPolicy"]
