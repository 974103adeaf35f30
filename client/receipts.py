"""Keeping the node's signed intake receipts: one JSON object per line.

Every acknowledged record comes back with a receipt signed by the node's Ed25519 key
(``LotWritten.receipts``, ``RecordAck.receipt``). A producer appends them to a file as
they arrive and later hands the file to ``vntrace audit`` (or :meth:`Client.audit`):
it is the evidence that the node accepted each record and by when it promised to
anchor it. Receipts hold no secret (leaf, lot key, times, chain), so plain JSON lines.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import ConfigurationError


def save_receipts(path: str | os.PathLike[str], receipts: Iterable[dict[str, Any] | None]) -> int:
    """Append receipts to a JSON-lines file (created if absent); returns how many.

    Each line is written whole and the file is synced, so a crash loses no receipt
    already reported saved.
    """
    lines = [json.dumps(r, separators=(",", ":"), sort_keys=True) + "\n" for r in receipts if r]
    if not lines:
        return 0
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(lines))
        fh.flush()
        os.fsync(fh.fileno())
    return len(lines)


def load_receipts(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The receipts of a JSON-lines file, in order, exact duplicates dropped.

    Raises :class:`ConfigurationError` naming the line of anything that is not a JSON
    object (a receipt that is an object but forged or damaged is the audit's business).
    """
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    text = Path(path).read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            receipt = json.loads(line)
        except ValueError as exc:
            raise ConfigurationError(f"{path}:{number}: not JSON: {exc.args[0]}") from None
        if not isinstance(receipt, dict):
            raise ConfigurationError(f"{path}:{number}: a receipt is a JSON object")
        key = json.dumps(receipt, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(receipt)
    return out


__all__ = ["load_receipts", "save_receipts"]
