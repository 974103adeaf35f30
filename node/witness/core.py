"""The tlog-witness ``add-checkpoint`` protocol (c2sp.org/tlog-witness), checks in order:

1. body: ``old N`` line, up to 63 base64 proof lines, empty line, signed checkpoint
   (anything else: 400);
2. origin not among the trusted logs: 404;
3. no signature from the origin's trusted key, or such a signature fails: 403;
4. old size above the checkpoint size: 400;
5. old size is not the latest size this witness cosigned for the origin: 409, body the
   latest size and a newline, ``Content-Type: text/x.tlog.size``;
6. size 0 without the empty tree's root, a proof after ``old 0``, same size with
   another root, or a consistency proof that does not verify: 422;
7. otherwise: persist, then answer one cosignature/v1 line (tlog-cosignature).

Steps 5-7 run in one durable transaction. A validly signed checkpoint that fails 5 or 6
is kept as evidence when it conflicts with what this witness cosigned: same size and
another root (conclusive equivocation), or a failing proof (inconsistent).
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vntrace.node.tlog.errors import NoteError, ProofError, SignatureError
from vntrace.node.tlog.merkle import EMPTY_ROOT, verify_consistency
from vntrace.node.tlog.note import (
    COSIGNATURE_V1,
    ED25519,
    Checkpoint,
    Note,
    Signer,
    Verifier,
    parse_decimal,
    parse_note,
    unb64,
)

from .errors import ConflictSizeError, ProtocolError, WitnessError
from .state import WitnessState

KEY_FILE = "witness-key.pem"
CONFIG_FILE = "witness.json"
MAX_BODY = 1 << 16
MAX_PROOF_LINES = 63


def load_or_create_key(data_dir: Path, name: str | None = None) -> Signer:
    """The witness's cosigning key (``witness-key.pem``, 0600) and name (``witness.json``).

    Created on first use; ``name`` is only honoured then (a key's name never changes:
    it is part of its key ID).
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    key_path, cfg_path = data_dir / KEY_FILE, data_dir / CONFIG_FILE
    if not key_path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        pub = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        chosen = name or f"witness.vntrace/{pub.hex()[:16]}"
        Verifier(chosen, COSIGNATURE_V1, pub)  # validates the name
        cfg_path.write_text(json.dumps({"name": chosen}) + "\n")
    if key_path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise WitnessError(f"{key_path} is readable by others: chmod 600 it")
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cfg = json.loads(cfg_path.read_text())
    except (OSError, ValueError, TypeError) as e:
        raise WitnessError(f"cannot read the witness key in {data_dir}: {e}") from e
    if not isinstance(key, Ed25519PrivateKey) or not isinstance(cfg.get("name"), str):
        raise WitnessError(f"{key_path} is not an Ed25519 key with a name in {cfg_path}")
    if name and name != cfg["name"]:
        raise WitnessError(f"this witness is already named {cfg['name']!r}")
    return Signer(cfg["name"], key, COSIGNATURE_V1)


class ChainCheck(Protocol):
    """What a witness asks before cosigning (``monitor.ChainMonitor``)."""

    def check(self, cp: Checkpoint, old: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Request:
    """A parsed add-checkpoint body."""

    old: int
    proof: tuple[bytes, ...]
    note: Note
    checkpoint: Checkpoint
    raw_note: str


def parse_request(body: bytes) -> Request:
    """Parse the add-checkpoint body or raise a 400 :class:`ProtocolError`."""
    if len(body) > MAX_BODY:
        raise ProtocolError(413, f"body larger than {MAX_BODY} bytes")
    try:
        text = body.decode("utf-8")
        head, sep, rest = text.partition("\n\n")
        if not sep:
            raise NoteError("the body needs an empty line before the checkpoint")
        lines = head.split("\n")
        if not lines[0].startswith("old "):
            raise NoteError("the first line must be 'old <size>'")
        old = parse_decimal(lines[0][4:], "old size")
        if len(lines) - 1 > MAX_PROOF_LINES:
            raise NoteError(f"more than {MAX_PROOF_LINES} consistency proof lines")
        proof = tuple(unb64(line, "proof line", 32) for line in lines[1:])
        note = parse_note(rest)
        cp = Checkpoint.parse(note.text)
    except UnicodeDecodeError as e:
        raise ProtocolError(400, "the body must be UTF-8") from e
    except NoteError as e:
        raise ProtocolError(400, e.detail) from e
    return Request(old, proof, note, cp, rest)


class Witness:
    """A witness over its durable state, trusting the given log keys (type 0x01)."""

    def __init__(
        self,
        signer: Signer,
        state: WitnessState,
        logs: Sequence[Verifier],
        clock: Callable[[], float] = time.time,
        monitor: ChainCheck | None = None,
    ) -> None:
        if signer.sig_type != COSIGNATURE_V1:
            raise WitnessError("a witness signs cosignature/v1 (type 0x04)")
        self.signer = signer
        self.state = state
        self.logs: dict[str, list[Verifier]] = {}
        for v in logs:
            if v.sig_type != ED25519:
                raise WitnessError(f"log key {v.name} is not an Ed25519 (0x01) note key")
            self.logs.setdefault(v.name, []).append(v)
        self._clock = clock
        self.monitor = monitor

    @property
    def vkey(self) -> str:
        return self.signer.verifier.vkey

    def add_checkpoint(self, body: bytes) -> str:
        """Handle one request: the cosignature line(s), or raise :class:`ProtocolError`."""
        req = parse_request(body)
        cp = req.checkpoint
        trusted = self.logs.get(cp.origin)
        if not trusted:
            raise ProtocolError(404, f"unknown log origin {cp.origin!r}")
        verified = []
        log_key = ""
        for sig in req.note.signatures:
            for v in trusted:
                if v.matches(sig):
                    try:
                        v.verify(req.note.text, sig)
                    except SignatureError as e:
                        raise ProtocolError(403, e.detail) from e
                    verified.append(sig)
                    log_key = log_key or v.vkey
        if not verified:
            raise ProtocolError(403, "no signature from a trusted key for this origin")
        if req.old > cp.size:
            raise ProtocolError(400, f"old size {req.old} is above the checkpoint size {cp.size}")
        # Keep only the log's verified signatures: what we store and serve is checkable.
        logged = Note(req.note.text, tuple(verified))
        if self.monitor is not None:
            self._check_chain(req, log_key, str(logged))
        # One transaction: check, then cosign and persist, or record evidence. Refusals
        # are raised after the commit so the evidence they leave is durable.
        refusal: ProtocolError | None = None
        line = ""
        with self.state.transaction() as conn:
            latest = WitnessState.latest(conn, cp.origin)
            same = WitnessState.cosigned_at_size(conn, cp.origin, cp.size)
            if same is not None and same.root != cp.root:
                WitnessState.record_evidence(
                    conn,
                    cp.origin,
                    "equivocation",
                    f"two different trees of size {cp.size}, both signed by the log",
                    log_key,
                    str(logged),
                    same.note,
                )
            size = latest.size if latest else 0
            if req.old != size:
                refusal = ConflictSizeError(size)
            else:
                try:
                    self._check_consistency(req, latest.root if latest else EMPTY_ROOT)
                except ProtocolError as e:
                    refusal = e
                    if latest is not None and (same is None or same.root == cp.root):
                        WitnessState.record_evidence(
                            conn,
                            cp.origin,
                            "inconsistent",
                            e.detail,
                            log_key,
                            str(logged),
                            latest.note,
                        )
            if refusal is None:
                timestamp = max(1, int(self._clock()))
                line = self.signer.sign(cp.text, timestamp=timestamp).line
                WitnessState.record_cosigned(conn, cp.origin, cp.size, cp.root, str(logged) + line)
        if refusal is not None:
            raise refusal
        return line

    def _check_chain(self, req: Request, log_key: str, logged: str) -> None:
        """Before cosigning an extension, the chain must agree with its new leaves.

        Runs outside the state's transaction (it reads the network); the transaction
        below re-checks sizes and consistency, so a race cannot cosign a fork.
        """
        assert self.monitor is not None
        cp = req.checkpoint
        with self.state.transaction() as conn:
            latest = WitnessState.latest(conn, cp.origin)
        if req.old != (latest.size if latest else 0):
            return  # answered 409 below
        try:
            self._check_consistency(req, latest.root if latest else EMPTY_ROOT)
        except ProtocolError:
            return  # answered 422, with its evidence, below
        try:
            self.monitor.check(cp, req.old)
        except ProtocolError as e:
            if e.status == 422:
                with self.state.transaction() as conn:
                    WitnessState.record_evidence(
                        conn,
                        cp.origin,
                        "chain_mismatch",
                        e.detail,
                        log_key,
                        logged,
                        latest.note if latest else "",
                    )
            raise

    @staticmethod
    def _check_consistency(req: Request, old_root: bytes) -> None:
        cp = req.checkpoint
        if cp.size == 0 and cp.root != EMPTY_ROOT:
            raise ProtocolError(422, "a checkpoint of size 0 must have the empty tree's root")
        if req.old == 0:
            if req.proof:
                raise ProtocolError(422, "the proof must be empty when the old size is 0")
            return
        if req.old == cp.size and cp.root != old_root:
            raise ProtocolError(422, f"same size {cp.size} as cosigned, different root")
        try:
            verify_consistency(req.old, cp.size, old_root, cp.root, req.proof)
        except ProofError as e:
            raise ProtocolError(422, f"consistency proof: {e.detail}") from e

    def checkpoint_for(self, origin_hash: str) -> str | None:
        """The latest cosigned checkpoint of the log whose SHA-256(origin) hex is given."""
        import hashlib

        for origin, latest in self.state.all_latest().items():
            if hashlib.sha256(origin.encode()).hexdigest() == origin_hash:
                return latest.note
        return None
