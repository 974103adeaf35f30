"""The embedded chain's head block number, shared with the workers through one page.

Every verification asks for the head first (is there anything new on chain since the
last refresh?). A worker under ``serve --workers`` asked the chain host over HTTP: about
0.8 ms of CPU on the two sides for one number that changes only when a block is mined.
The process holding the chain now writes the number into a 16-byte file it maps in
memory (``chain/head``) before it answers the transaction that mined the block, and the
workers map the same file: reading the head is a memory read. A worker that reads the
page after a transaction's answer therefore sees that block, as it would have over HTTP.

The page holds the number and its bitwise complement; a reader that sees a pair that
does not match (a write in flight) reads again, and after a few tries asks the host.
Standard library only (the workers read it without py-evm).
"""

from __future__ import annotations

import mmap
import os
import struct
from pathlib import Path

__all__ = ["HEAD_FILE", "HeadPage"]

HEAD_FILE = "head"
"""In the chain folder: the latest block number, kept current by the chain's holder."""

_LAYOUT = struct.Struct("<QQ")
_MASK = (1 << 64) - 1
_TRIES = 4


class HeadPage:
    """A memory-mapped view of ``chain/head``: written by the holder, read by workers."""

    __slots__ = ("_map", "path", "writable")

    def __init__(self, path: Path, page: mmap.mmap, writable: bool) -> None:
        self.path, self._map, self.writable = path, page, writable

    @classmethod
    def create(cls, path: Path, number: int) -> HeadPage:
        """The holder's page, written with ``number`` (made if missing, reused if not:
        workers that mapped it keep seeing it)."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size != _LAYOUT.size:
                os.ftruncate(fd, _LAYOUT.size)
            page = cls(path, mmap.mmap(fd, _LAYOUT.size), writable=True)
        finally:
            os.close(fd)
        page.publish(number)
        return page

    @classmethod
    def open(cls, path: Path) -> HeadPage | None:
        """A reader's page, or ``None`` when there is none to read (an older holder)."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            if os.fstat(fd).st_size != _LAYOUT.size:
                return None
            return cls(path, mmap.mmap(fd, _LAYOUT.size, prot=mmap.PROT_READ), writable=False)
        finally:
            os.close(fd)

    def publish(self, number: int) -> None:
        """Make ``number`` the head every reader sees from now on."""
        self._map[:] = _LAYOUT.pack(number, number ^ _MASK)

    def read(self) -> int | None:
        """The head, or ``None`` if the page stayed unreadable (then ask the host)."""
        for _ in range(_TRIES):
            number, check = _LAYOUT.unpack(self._map)
            if number ^ _MASK == check:
                return number
        return None

    def close(self) -> None:
        if not self._map.closed:
            self._map.close()
