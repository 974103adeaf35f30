"""``LogService``: the node's side of the witnessed log of anchored epochs.

After each anchoring the node calls :meth:`LogService.sync` (cheap, store only): it
appends every newly anchored epoch as a leaf, in epoch order, and signs a checkpoint
for the new size. Both steps are idempotent and re-derivable from the anchored epochs,
so a crash at any point is repaired by the next call. Pushing checkpoints to witnesses
(C2SP tlog-witness ``add-checkpoint``) runs in a background thread with retries: a
witness that is down never blocks intake or anchoring, and the node serves the newest
checkpoint with whatever cosignatures it has collected.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from vntrace.node.background import BackgroundWorker

from .errors import NoteError, SizeNotFoundError, TlogError
from .leaf import EpochLeaf
from .merkle import consistency_proof, inclusion_proof, leaf_hash, root_of
from .note import (
    ED25519,
    Checkpoint,
    Note,
    Signer,
    Verifier,
    b64,
    parse_decimal,
    parse_note,
    parse_signature_lines,
)
from .store import LogStore, StoredCheckpoint, StoredLeaf

if TYPE_CHECKING:
    from vntrace.node.chain.base import ChainBackend
    from vntrace.node.identity import NodeIdentity
    from vntrace.node.store import Store

log = logging.getLogger("vntrace.tlog")

EpochSource = Callable[[int], Sequence[EpochLeaf]]
"""Anchored epochs numbered above ``after``, ascending and contiguous (a prefix)."""

SIZE_CONTENT_TYPE = "text/x.tlog.size"


@dataclass(frozen=True, slots=True)
class WitnessEndpoint:
    """A witness the node pushes to: its submission prefix and its cosigner key."""

    url: str
    verifier: Verifier

    @classmethod
    def parse(cls, spec: str) -> WitnessEndpoint:
        """``"URL VKEY"`` (the ``log_witnesses`` setting's form)."""
        parts = spec.split()
        if len(parts) != 2 or urlsplit(parts[0]).scheme not in ("http", "https"):
            raise NoteError(f"a witness is 'URL VKEY', got {spec!r}")
        v = Verifier.from_vkey(parts[1])
        if v.sig_type != 0x04:
            raise NoteError(f"witness key {v.name} is not a cosignature/v1 (0x04) key")
        return cls(parts[0].rstrip("/"), v)


def default_origin(base_url: str | None, node_id: str) -> str:
    """``<host[:port]><path>/vntrace-log`` of the public URL, else ``vntrace/<node id>``."""
    if base_url:
        u = urlsplit(base_url)
        if u.netloc:
            return f"{u.netloc}{u.path.rstrip('/')}/vntrace-log"
    return f"vntrace/{node_id}"


def chain_epoch_source(store: Store, chain: ChainBackend) -> EpochSource:
    """Anchored epochs from the store, with block hashes read from the chain once."""

    def source(after: int) -> list[EpochLeaf]:
        out: list[EpochLeaf] = []
        for row in store.list_epochs(status="anchored", after=after, limit=500):
            if row.number != after + len(out) + 1 or row.tx_hash is None:
                break  # a gap: wait until the earlier epoch is anchored
            mined = chain.wait_for_receipt(row.tx_hash, confirmations=1, timeout=0)
            if mined is None:
                break
            registry = row.contract or bytes.fromhex(chain.registry_address[2:])
            out.append(
                EpochLeaf(
                    epoch=row.number,
                    root=row.root,
                    record_count=row.record_count,
                    chain_id=row.chain_id if row.chain_id is not None else chain.chain_id,
                    registry=registry,
                    tx_hash=row.tx_hash,
                    block_number=mined.block_number,
                    block_hash=mined.block_hash,
                    block_timestamp=mined.block_timestamp,
                )
            )
        return out

    return source


class LogService:
    """Append, sign, prove and get witnessed; see the module docstring."""

    def __init__(
        self,
        store: Store,
        identity: NodeIdentity,
        epochs: EpochSource,
        *,
        origin: str,
        witnesses: Sequence[WitnessEndpoint] = (),
        retry_seconds: float = 30.0,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = LogStore(store.engine)
        self.origin = self._db.meta_once("origin", origin)
        if self.origin != origin:
            log.warning("log origin stays %r (fixed at first use), not %r", self.origin, origin)
        self.signer = Signer(self.origin, identity.private_key, ED25519)
        self.witnesses = tuple(witnesses)
        self._epochs = epochs
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.RLock()
        self._hashes: list[bytes] = []
        self._worker = BackgroundWorker(
            self._round,
            name="vntrace-tlog",
            interval=retry_seconds,
            log=log,
            failure="log sync or witness push failed; retrying",
        )

    @classmethod
    def for_node(cls, node: Any) -> LogService:
        """Built from a ``TraceNode``'s store, identity, chain and settings."""
        s = node.settings
        origin = s.log_origin or default_origin(s.public_base_url, node.identity.node_id)
        return cls(
            node.store,
            node.identity,
            chain_epoch_source(node.store, node.chain),
            origin=origin,
            witnesses=[WitnessEndpoint.parse(w) for w in s.log_witnesses],
            retry_seconds=s.log_witness_retry_seconds,
        )

    @property
    def verifier(self) -> Verifier:
        return self.signer.verifier

    @property
    def vkey(self) -> str:
        """The log's verifier key (type 0x01, name = origin): what witnesses trust."""
        return self.verifier.vkey

    # -- the tree ----------------------------------------------------------------

    def _leaf_hashes(self) -> list[bytes]:
        with self._lock:
            if len(self._hashes) < (n := self._db.size()):
                self._hashes.extend(self._db.leaf_hashes(len(self._hashes)))
            return self._hashes[:n]

    def size(self) -> int:
        return len(self._leaf_hashes())

    def sync(self) -> StoredCheckpoint | None:
        """Append newly anchored epochs and sign a checkpoint for the new size."""
        with self._lock:
            size = self.size()
            fresh = self._epochs(size)
            if fresh:
                leaves = []
                for i, e in enumerate(fresh):
                    if e.epoch != size + i + 1:
                        raise TlogError(f"epoch source returned {e.epoch}, expected {size + i + 1}")
                    data = e.encode()
                    leaves.append(StoredLeaf(size + i, e.epoch, data, leaf_hash(data)))
                self._db.append(size, leaves)
            hashes = self._leaf_hashes()
            if not hashes:
                return None
            have = self._db.checkpoint()
            if have is not None and have.size == len(hashes):
                return have
            root = root_of(hashes)
            text = Checkpoint(self.origin, len(hashes), root).text
            note = str(Note(text, (self.signer.sign(text),)))
            cp = self._db.put_checkpoint(len(hashes), root, note)
        self._worker.kick()
        return cp

    def checkpoint(self, size: int | None = None) -> StoredCheckpoint:
        cp = self._db.checkpoint(size)
        if cp is None:
            raise SizeNotFoundError(
                "the log has no checkpoint" + (f" of size {size}" if size else "")
            )
        return cp

    def checkpoint_note(self, size: int | None = None) -> str:
        """The signed checkpoint followed by the cosignatures collected for it."""
        cp = self.checkpoint(size)
        return cp.note + "".join(line for _, line in self._db.cosignature_lines(cp.size))

    def inclusion(self, epoch: int, size: int | None = None) -> dict[str, Any]:
        """The epoch's leaf and its inclusion proof in the tree of ``size`` (default: newest)."""
        hashes = self._leaf_hashes()
        n = len(hashes) if size is None else size
        if not 1 <= epoch <= n <= len(hashes):
            raise SizeNotFoundError(f"epoch {epoch} is not in a log of size {n}")
        leaf = self._db.leaf(epoch - 1)
        assert leaf is not None
        return {
            "origin": self.origin,
            "leafIndex": epoch - 1,
            "treeSize": n,
            "leaf": b64(leaf.data),
            "leafHash": b64(leaf.hash),
            "inclusionProof": [b64(h) for h in inclusion_proof(hashes, epoch - 1, n)],
            "rootHash": b64(root_of(hashes, n)),
        }

    def consistency(self, old: int, size: int | None = None) -> list[bytes]:
        hashes = self._leaf_hashes()
        n = len(hashes) if size is None else size
        if not 0 <= old <= n <= len(hashes):
            raise SizeNotFoundError(
                f"no consistency proof from {old} to {n} (log size {len(hashes)})"
            )
        return consistency_proof(hashes, old, n)

    def bundle_section(self, epoch: int) -> dict[str, Any] | None:
        """The bundle's ``log`` section: the best-cosigned checkpoint covering ``epoch``."""
        sizes = self._db.checkpoint_sizes(at_least=epoch)
        if not sizes:
            return None
        size = max(sizes, key=lambda sk: (sk[1], sk[0]))[0]
        section = self.inclusion(epoch, size)
        section.pop("leafHash")
        section.pop("rootHash")
        section["checkpoint"] = self.checkpoint_note(size)
        return section

    # -- witnesses -----------------------------------------------------------------

    def cosigners(self, section: dict[str, Any]) -> tuple[str, ...]:
        """The configured witnesses whose cosignature on a ``log`` section's checkpoint
        verifies (what the consumer page shows; consumers check with their own keys)."""
        from .verify import verify_checkpoint

        try:
            _, found = verify_checkpoint(
                section["checkpoint"], self.verifier, [w.verifier for w in self.witnesses]
            )
        except (TlogError, KeyError, TypeError):
            return ()
        return tuple(name for name, _ in found)

    def status(self) -> dict[str, Any]:
        cp = self._db.checkpoint()
        states = self._db.witness_states()
        return {
            "origin": self.origin,
            "logKey": self.vkey,
            "size": cp.size if cp else 0,
            "witnesses": [
                {
                    "name": w.verifier.name,
                    "vkey": w.verifier.vkey,
                    "url": w.url,
                    "cosignedSize": states.get(w.verifier.name, (0, None))[0],
                    "lastError": states.get(w.verifier.name, (0, None))[1],
                }
                for w in self.witnesses
            ],
        }

    def push(self) -> dict[str, str]:
        """Offer the newest checkpoint to every witness; never raises. Returns outcomes."""
        cp = self._db.checkpoint()
        if cp is None:
            return {}
        out: dict[str, str] = {}
        for w in self.witnesses:
            try:
                out[w.verifier.name] = self._push_one(w, cp)
            except Exception as e:  # a witness's fault must never reach intake
                out[w.verifier.name] = f"error: {e}"
                self._db.set_witness(w.verifier.name, size=None, error=str(e)[:500])
        return out

    def _push_one(self, w: WitnessEndpoint, cp: StoredCheckpoint) -> str:
        import httpx

        name = w.verifier.name
        have = dict(self._db.cosignature_lines(cp.size))
        old = self._db.witness_size(name)
        if name in have and old == cp.size:
            return "cosigned"
        text = parse_note(cp.note).text
        for _ in range(2):  # a 409 teaches us the witness's size; then one more try
            if old > cp.size:
                raise TlogError(f"witness is at size {old}, above the log's {cp.size}")
            proof = self.consistency(old, cp.size) if old else []
            body = f"old {old}\n" + "".join(b64(h) + "\n" for h in proof) + "\n" + cp.note
            r = httpx.post(
                w.url + "/add-checkpoint",
                content=body.encode(),
                headers={"Content-Type": "text/plain; charset=utf-8"},
                timeout=self._timeout,
            )
            if r.status_code == 409 and r.headers.get("content-type", "").startswith(
                SIZE_CONTENT_TYPE
            ):
                old = parse_decimal(r.text.removesuffix("\n"), "witness size")
                continue
            if r.status_code != 200:
                raise TlogError(f"witness answered {r.status_code}: {r.text[:200].strip()}")
            lines = [s for s in parse_signature_lines(r.content) if w.verifier.matches(s)]
            if not lines:
                raise TlogError("witness returned no cosignature from its key")
            sig = lines[0]
            timestamp = w.verifier.verify(text, sig) or 0
            self._db.add_cosignature(cp.size, name, sig.line, timestamp)
            self._db.set_witness(name, size=cp.size, error=None)
            return "cosigned"
        raise TlogError("witness keeps changing its size")

    # -- background ------------------------------------------------------------------

    def kick(self) -> None:
        """Ask the background thread to sync and push now."""
        self._worker.kick()

    def start(self) -> None:
        self._worker.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._worker.stop(timeout)

    def _round(self) -> None:
        """One round of the background thread (a failure is retried after
        ``retry_seconds``; the log is re-derivable)."""
        self.sync()
        if self.witnesses:
            self.push()
