"""Offline checks a consumer runs: a bundle's ``log`` section, and equivocation evidence.

Pure (bytes and dicts in, a verdict or a :class:`~.errors.TlogError` out), importable
with only ``cryptography`` and the stdlib, so the SDK calls it without server
dependencies. The policy is "the log's key signed it and at least k of these n witness
keys cosigned it": with k independent witnesses a split view needs k colluders.

The ``log`` section (docs/witness.md)::

    {"origin": str, "leafIndex": int, "treeSize": int, "leaf": base64 (153 bytes),
     "inclusionProof": [base64, ...], "checkpoint": "<signed note with cosignatures>"}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import NoteError, PolicyError, ProofError, SignatureError, TlogError
from .leaf import EpochLeaf
from .merkle import leaf_hash, verify_inclusion
from .note import COSIGNATURE_V1, ED25519, Checkpoint, Note, Verifier, parse_note, unb64

__all__ = ["LogVerdict", "check_equivocation", "verify_checkpoint", "verify_log_section"]


@dataclass(frozen=True, slots=True)
class LogVerdict:
    """What a verified ``log`` section rests on."""

    checkpoint: Checkpoint
    leaf: EpochLeaf
    leaf_index: int
    cosigners: tuple[str, ...]
    """Names of the trusted witnesses whose cosignatures verified."""
    cosigned_at: tuple[int, ...]


def _verifier(key: str | Verifier, sig_type: int, what: str) -> Verifier:
    v = key if isinstance(key, Verifier) else Verifier.from_vkey(key)
    if v.sig_type != sig_type:
        raise NoteError(f"{what} {v.name} must be a type 0x{sig_type:02x} key")
    return v


def verify_checkpoint(
    note: Note | str | bytes,
    log_key: str | Verifier,
    witnesses: Sequence[str | Verifier] = (),
    min_witnesses: int = 0,
) -> tuple[Checkpoint, list[tuple[str, int]]]:
    """Check the log's signature and count trusted cosignatures (k of n).

    Returns the checkpoint and ``(witness name, timestamp)`` for each witness whose
    cosignature verified. A trusted key's bad signature rejects the note (signed-note).
    """
    if not isinstance(note, Note):
        note = parse_note(note)
    log = _verifier(log_key, ED25519, "log key")
    trusted = [_verifier(w, COSIGNATURE_V1, "witness key") for w in witnesses]
    if min_witnesses < 0 or min_witnesses > len(trusted):
        raise PolicyError(f"cannot require {min_witnesses} of {len(trusted)} witnesses")
    cp = Checkpoint.parse(note.text)
    if cp.origin != log.name:
        raise SignatureError(f"checkpoint origin {cp.origin!r} is not the log {log.name!r}")
    signed = False
    cosigned: dict[str, int] = {}
    for sig in note.signatures:
        if log.matches(sig):
            log.verify(note.text, sig)
            signed = True
            continue
        for w in trusted:
            if w.matches(sig):
                ts = w.verify(note.text, sig)
                cosigned.setdefault(w.name, ts or 0)
    if not signed:
        raise SignatureError("the checkpoint is not signed by the log's key")
    if len(cosigned) < min_witnesses:
        who = f" ({', '.join(sorted(cosigned))})" if cosigned else ""
        raise PolicyError(
            f"{len(cosigned)} of the trusted witnesses cosigned{who}; "
            f"the policy needs {min_witnesses}"
        )
    return cp, sorted(cosigned.items())


def _hex_eq(a: Any, b: bytes) -> bool:
    return isinstance(a, str) and a.lower().removeprefix("0x") == b.hex()


def _match_bundle(leaf: EpochLeaf, bundle: Mapping[str, Any]) -> None:
    """The log's leaf must say what the bundle says about the epoch and its anchor."""
    wrong: list[str] = []
    if bundle.get("epoch") != leaf.epoch:
        wrong.append("epoch")
    if not _hex_eq(bundle.get("root"), leaf.root):
        wrong.append("root")
    if bundle.get("chainId") is not None and int(bundle["chainId"]) != leaf.chain_id:
        wrong.append("chainId")
    if bundle.get("registry") is not None and not _hex_eq(bundle["registry"], leaf.registry):
        wrong.append("registry")
    anchor = bundle.get("anchor") or {}
    if isinstance(anchor, Mapping):
        if anchor.get("txHash") is not None and not _hex_eq(anchor["txHash"], leaf.tx_hash):
            wrong.append("anchor.txHash")
        for key, value in (
            ("blockNumber", leaf.block_number),
            ("blockTimestamp", leaf.block_timestamp),
        ):
            if anchor.get(key) is not None and anchor[key] != value:
                wrong.append(f"anchor.{key}")
    if wrong:
        raise ProofError("the log's leaf disagrees with the bundle on " + ", ".join(wrong))


def verify_log_section(
    section: Mapping[str, Any],
    *,
    log_key: str | Verifier,
    witnesses: Sequence[str | Verifier] = (),
    min_witnesses: int = 0,
    bundle: Mapping[str, Any] | None = None,
) -> LogVerdict:
    """Verify the epoch's inclusion in a checkpoint signed by the log and cosigned by k.

    ``bundle`` (optional): the proof bundle the section came with; its epoch, root and
    anchor must equal the leaf's. Raises a :class:`TlogError` saying what failed.
    """
    try:
        index = section["leafIndex"]
        size = section["treeSize"]
        leaf_bytes = unb64(str(section["leaf"]), "leaf")
        proof = [unb64(str(h), "proof hash", 32) for h in section["inclusionProof"]]
        note_text = section["checkpoint"]
        if not (isinstance(index, int) and isinstance(size, int) and isinstance(note_text, str)):
            raise TypeError("leafIndex and treeSize must be integers, checkpoint a string")
    except (KeyError, TypeError) as e:
        raise NoteError(f"malformed log section: {e}") from e
    cp, cosigned = verify_checkpoint(note_text, log_key, witnesses, min_witnesses)
    if cp.size != size:
        raise ProofError(f"treeSize {size} is not the checkpoint's size {cp.size}")
    leaf = EpochLeaf.decode(leaf_bytes)
    if leaf.epoch != index + 1:
        raise ProofError(f"leaf {index} holds epoch {leaf.epoch}, not {index + 1}")
    verify_inclusion(leaf_hash(leaf_bytes), index, size, proof, cp.root)
    if bundle is not None:
        _match_bundle(leaf, bundle)
    return LogVerdict(cp, leaf, index, tuple(n for n, _ in cosigned), tuple(t for _, t in cosigned))


def check_equivocation(a: str | bytes, b: str | bytes, log_key: str | Verifier) -> str:
    """Confirm two notes prove the log equivocated: same origin and size, both signed
    by the log's key, different roots. Returns a one-line statement; raises otherwise.

    Checkpoints of different sizes prove nothing alone (a consistency proof between
    them may exist); they are evidence only with the log's leaves, which a monitor has.
    """
    cps: list[Checkpoint] = []
    for note in (a, b):
        cp, _ = verify_checkpoint(note, log_key)
        cps.append(cp)
    first, second = cps
    if first.origin != second.origin or first.size != second.size:
        raise TlogError("not an equivocation: the checkpoints differ in origin or size")
    if first.root == second.root:
        raise TlogError("not an equivocation: both checkpoints have the same root")
    return (
        f"log {first.origin} signed two different trees of size {first.size}: "
        f"{first.text.splitlines()[2]} and {second.text.splitlines()[2]}"
    )
