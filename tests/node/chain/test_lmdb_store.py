"""The LMDB-backed py-evm database: dict semantics, batch atomicity, durability."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vntrace.node.chain.lmdb_store import LmdbAtomicDB

HEAD = b"v1:canonical_head_hash"


def test_reads_see_writes_and_deletes(tmp_path: Path) -> None:
    with LmdbAtomicDB(tmp_path, sync=False) as db:
        assert b"k" not in db
        db[b"k"] = b"v"
        assert db[b"k"] == b"v" and b"k" in db and db.exists(b"k")
        del db[b"k"]
        assert b"k" not in db
        with pytest.raises(KeyError):
            db[b"k"]
        with pytest.raises(KeyError):
            del db[b"k"]
        db.delete(b"k")  # BaseDB.delete ignores missing keys
        db[b"k2"] = b"v2"
    with LmdbAtomicDB(tmp_path, sync=False) as db:  # close() flushed it
        assert db[b"k2"] == b"v2"


def test_batch_is_all_or_nothing(tmp_path: Path) -> None:
    with LmdbAtomicDB(tmp_path, sync=False) as db:
        db[b"old"] = b"1"
        with db.atomic_batch() as batch:
            batch[b"a"] = b"A"
            assert batch[b"a"] == b"A" and b"a" in batch  # visible inside the batch
            del batch[b"old"]
            assert b"old" not in batch
            assert b"a" not in db  # not outside it before commit
        assert db[b"a"] == b"A" and b"old" not in db
        with pytest.raises(RuntimeError), db.atomic_batch() as batch:
            batch[b"b"] = b"B"
            del batch[b"a"]
            raise RuntimeError("crash mid-block")
        assert b"b" not in db and db[b"a"] == b"A"


def _on_disk(db: LmdbAtomicDB) -> set[bytes]:
    """Keys committed to LMDB (bypassing what the store holds in memory)."""
    with db.env.begin() as txn:
        return {bytes(k) for k, _ in txn.cursor()}


def test_commit_keys_make_a_block_one_transaction(tmp_path: Path) -> None:
    db = LmdbAtomicDB(tmp_path / "db", sync=False, commit_keys={HEAD})
    db[b"trie-node"] = b"x"  # unbatched
    with db.atomic_batch() as batch:  # state commit, head unchanged
        batch[b"state"] = b"s"
    assert db[b"trie-node"] == b"x" and db[b"state"] == b"s"  # readable
    assert _on_disk(db) == set()  # but nothing on disk yet
    with db.atomic_batch() as batch:  # the block: moves the head
        batch[b"header"] = b"h"
        batch[HEAD] = b"h"
    assert _on_disk(db) == {b"trie-node", b"state", b"header", HEAD}
    db[b"pending"] = b"p"
    # Simulate a crash: drop the process's memory without close().
    db.env.close()
    db._env = None
    with LmdbAtomicDB(tmp_path / "db", sync=False) as again:
        assert again[HEAD] == b"h" and b"pending" not in again


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["set", "del", "batch"]),
            st.binary(min_size=1, max_size=3),
            st.binary(max_size=4),
        ),
        max_size=30,
    )
)
def test_behaves_like_a_dict(tmp_path_factory: pytest.TempPathFactory, ops: list) -> None:
    model: dict[bytes, bytes] = {}
    path = tmp_path_factory.mktemp("lmdb")
    with LmdbAtomicDB(path, sync=False, commit_keys={HEAD}) as db:
        for op, key, value in ops:
            if op == "set":
                db[key] = value
                model[key] = value
            elif op == "del":
                if key in model:
                    del db[key]
                    del model[key]
                else:
                    with pytest.raises(KeyError):
                        del db[key]
            else:
                with db.atomic_batch() as batch:
                    batch[key] = value
                    batch[HEAD] = value
                model[key] = value
                model[HEAD] = value
        for key, value in model.items():
            assert db[key] == value
    with LmdbAtomicDB(path, sync=False) as db:
        assert _on_disk(db) == set(model)
        for key, value in model.items():
            assert db[key] == value
