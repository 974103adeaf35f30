"""LogService over a real node (embedded chain, SQLite) and the /v1/log routes."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from tests.api.conftest import Gateway, open_gateway
from tests.api.helpers import new_lot
from vntrace.node.store.m0003_tlog import tlog_leaves
from vntrace.node.tlog.leaf import EpochLeaf
from vntrace.node.tlog.merkle import verify_consistency
from vntrace.node.tlog.note import Checkpoint, parse_note
from vntrace.node.tlog.service import LogService
from vntrace.node.tlog.verify import verify_checkpoint, verify_log_section


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from open_gateway(tmp_path_factory.mktemp("node"))


def test_log_follows_anchored_epochs_and_rederives(gw: Gateway) -> None:
    for _ in range(3):
        gw.lot_with_events(gw.producer(), new_lot(), 2)
        assert gw.node.anchor_now() == 1
    log = LogService.for_node(gw.node)
    cp = log.sync()
    assert cp is not None and cp.size == 3 and log.sync() == cp  # idempotent
    verify_checkpoint(cp.note, log.vkey)
    for n in (1, 2, 3):
        leaf = EpochLeaf.decode(base64.b64decode(log.inclusion(n)["leaf"]))
        assert leaf.root == gw.node.store.get_epoch(n).root and len(leaf.block_hash) == 32
        section = log.bundle_section(n)
        assert verify_log_section(section, log_key=log.vkey).leaf.epoch == n
    roots = {n: Checkpoint.parse(parse_note(log.checkpoint(n).note).text).root for n in (3,)}
    # Crash-safety: the leaves are re-derived from the anchored epochs, same tree.
    with gw.node.store.engine.begin() as conn:
        conn.execute(delete(tlog_leaves))
    again = LogService.for_node(gw.node)
    assert again.sync().root == roots[3] == cp.root
    gw.lot_with_events(gw.producer(), new_lot(), 1)
    gw.node.anchor_now()
    cp4 = again.sync()
    verify_consistency(3, 4, cp.root, cp4.root, again.consistency(3, 4))


def test_routes(gw: Gateway) -> None:
    c = gw.client
    r = c.get("/v1/log/checkpoint")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    status = c.get("/v1/log").json()
    cp, _ = verify_checkpoint(r.text, status["logKey"])
    assert cp.size == status["size"] >= 1
    inc = c.get("/v1/log/proof/inclusion", params={"epoch": 1}).json()
    assert inc["treeSize"] == cp.size
    con = c.get("/v1/log/proof/consistency", params={"from": 1, "to": cp.size})
    assert con.status_code == 200 and isinstance(con.json()["proof"], list)
    for path, params, status_code in (
        ("/v1/log/proof/inclusion", {"epoch": 0}, 422),
        ("/v1/log/proof/inclusion", {"epoch": 999}, 404),
        ("/v1/log/proof/consistency", {"from": 5, "to": 2}, 404),
        ("/v1/log/checkpoint", {"size": 999}, 404),
        ("/v1/log/epochs/999", {}, 404),
    ):
        r = c.get(path, params=params)
        assert r.status_code == status_code, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
