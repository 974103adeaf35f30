"""The head page: the holder's latest block number, read by workers without a request."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from vntrace.node.chain import EmbeddedChain
from vntrace.node.chain.folder import chain_dir
from vntrace.node.chain.head import HEAD_FILE, HeadPage
from vntrace.node.chain.host import ChainHost
from vntrace.node.chain.hosted import HostedChain


def test_a_page_reads_what_was_published(tmp_path: Path) -> None:
    writer = HeadPage.create(tmp_path / HEAD_FILE, 7)
    reader = HeadPage.open(tmp_path / HEAD_FILE)
    assert reader is not None and not reader.writable
    assert reader.read() == 7
    writer.publish(2**40 + 3)
    assert reader.read() == 2**40 + 3
    again = HeadPage.create(tmp_path / HEAD_FILE, 9)  # a restarted holder reuses the file
    assert reader.read() == 9
    for page in (writer, reader, again):
        page.close()
    assert (tmp_path / HEAD_FILE).stat().st_mode & 0o777 == 0o600


def test_no_page_or_a_foreign_file_is_not_read(tmp_path: Path) -> None:
    assert HeadPage.open(tmp_path / "missing") is None
    (tmp_path / "short").write_bytes(b"\x01" * 8)
    assert HeadPage.open(tmp_path / "short") is None


def test_a_torn_page_is_not_believed(tmp_path: Path) -> None:
    HeadPage.create(tmp_path / HEAD_FILE, 5).close()
    reader = HeadPage.open(tmp_path / HEAD_FILE)
    assert reader is not None
    with open(tmp_path / HEAD_FILE, "r+b") as raw:  # a number without its complement
        raw.write(struct.pack("<Q", 6))
    assert reader.read() is None
    reader.close()


@pytest.fixture
def hosted(tmp_path: Path) -> Iterator[tuple[EmbeddedChain, HostedChain]]:
    chain = EmbeddedChain(tmp_path / "node", durable=False)
    host = ChainHost(chain, tmp_path / "node").start()
    worker = HostedChain(tmp_path / "node", host.url)
    try:
        yield chain, worker
    finally:
        worker.close()
        host.stop()
        chain.close()


def test_a_worker_sees_every_block_as_soon_as_its_transaction_is_answered(
    hosted: tuple[EmbeddedChain, HostedChain],
) -> None:
    chain, worker = hosted
    assert worker._head is not None  # the page is really what it reads
    assert worker.block_number() == chain.block_number() >= 2
    mined = worker.anchor(os.urandom(32), 1, 1)  # through the host
    assert worker.block_number() == mined.block_number == chain.block_number()
    mined = chain.anchor(os.urandom(32), 2, 1)  # by the holder itself
    assert worker.block_number() == mined.block_number
    assert worker.block_number() == int(worker._request("eth_blockNumber", []), 16)


def test_a_worker_asks_the_host_when_the_page_is_unreadable(
    hosted: tuple[EmbeddedChain, HostedChain], tmp_path: Path
) -> None:
    chain, worker = hosted
    with open(chain_dir(tmp_path / "node") / HEAD_FILE, "r+b") as raw:
        raw.write(struct.pack("<Q", 10**6))  # torn: the complement does not match
    assert worker.block_number() == chain.block_number() < 10**6
