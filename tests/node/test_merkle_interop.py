"""Our Merkle engine against OpenZeppelin's, byte for byte.

Proofs the node serves must verify with OpenZeppelin's ``MerkleProof`` on chain and with
``@openzeppelin/merkle-tree`` in JavaScript, and dumps must move both ways. Two sources
of truth are used:

- the JS library itself (tests marked ``node_js``): random trees built on both sides,
  compared on roots, dumps, every proof and multiproofs, each side verifying the other's
  proofs and loading the other's dumps; one Node.js process answers the whole batch;
- committed vectors (``tests/node/vectors``, no Node.js needed): OpenZeppelin's published
  dumps, verbatim, and outputs of the pinned npm package; the published dumps are also
  mutated (a node, a value, a tree index) and must then be refused.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from eth_utils import to_checksum_address

from tests.support.js import require_oz, run_oz_batch, to_js
from vntrace.node.merkle import (
    EmptyMultiproofError,
    InvalidTreeError,
    MerkleError,
    MultiProof,
    StandardMerkleTree,
    leaf_hash,
    make_tree,
    validate_tree,
    verify_multiproof,
    verify_proof,
)

VECTORS = Path(__file__).parent / "vectors"
OZ_DUMPS = sorted((VECTORS / "oz_dumps").glob("*.json"))
OZ_STANDARD_DUMPS = [p for p in OZ_DUMPS if p.name.startswith("standard-v1")]
OZ_SIMPLE_DUMPS = [p for p in OZ_DUMPS if p.name.startswith("simple-v1")]
OZ_GENERATED = sorted((VECTORS / "oz_generated").glob("*.json"))

SEED = 20240611
# Every tree shape up to 17 leaves, then around powers of two. The fast path gets all
# of them; the ABI encodings a lighter set (the JS side costs about 1 ms per proof).
SIZES = [*range(1, 18), 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 300]
SIZES_ABI = [*range(1, 10), 16, 17, 33, 64, 127, 300]
ENCODINGS: dict[str, list[str]] = {
    "pair": ["bytes32", "bytes32"],  # the node's leaves: the fast path
    "address_uint": ["address", "uint256"],
    "string": ["string"],
    "uint": ["uint256"],
    "bytes_bool": ["bytes", "bool"],
}
# Larger trees of the node's leaves (their dumps are loaded by OZ without re-proving
# every leaf: root and multiproofs only).
BIG_CASES = [("pair", False, 3000), ("pair", True, 2000)]
LOAD_PROOFS_UP_TO = 300

node_js = pytest.mark.node_js
# Every test runs once per Merkle engine (C accelerator when built, pure Python):
# both must be OpenZeppelin's tree byte for byte (fixture in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("merkle_engine")


def hx(node: bytes) -> str:
    return "0x" + node.hex()


def hxs(nodes: list[bytes]) -> list[str]:
    return [hx(n) for n in nodes]


# -- random values per encoding ------------------------------------------------------


def _random_value(kind: str, rnd: random.Random, lot: bytes) -> list[Any]:
    if kind == "pair":
        return [lot, rnd.randbytes(32)]
    if kind == "address_uint":
        address = "0x" + rnd.randbytes(20).hex()
        if rnd.random() < 0.3:
            address = to_checksum_address(address)
        return [address, _random_uint(rnd)]
    if kind == "string":
        alphabet = "abcxyz019 -_/àêươđ🌱☕"
        return ["".join(rnd.choice(alphabet) for _ in range(rnd.choice([0, 1, 5, 31, 32, 33, 90])))]
    if kind == "uint":
        return [_random_uint(rnd)]
    if kind == "bytes_bool":
        return [rnd.randbytes(rnd.choice([0, 1, 20, 32, 33, 64, 100])), rnd.random() < 0.5]
    raise AssertionError(kind)


def _random_uint(rnd: random.Random) -> int:
    bits = rnd.choice([8, 64, 256])
    return rnd.choice([0, 1, 2**256 - 1, rnd.getrandbits(bits)])


def random_values(kind: str, n: int, rnd: random.Random) -> list[list[Any]]:
    """``n`` values, grouped in lots of a few records, with some exact duplicates."""
    values: list[list[Any]] = []
    lot = rnd.randbytes(32)
    for i in range(n):
        if rnd.random() < 0.25:
            lot = rnd.randbytes(32)
        if i and rnd.random() < 0.04:
            values.append(list(values[rnd.randrange(i)]))
        else:
            values.append(_random_value(kind, rnd, lot))
    return values


def index_sets(tree: StandardMerkleTree, rnd: random.Random) -> list[list[int]]:
    """Value-index sets to multiprove: single, contiguous runs in the tree, scattered, all."""
    n = len(tree)
    by_position = sorted(range(n), key=lambda i: -tree.tree_index(i))  # leaf order
    sets = [[rnd.randrange(n)], list(range(n))]
    rnd.shuffle(sets[1])  # input order must not matter
    if n >= 3:
        k = rnd.randint(2, min(n, 64))
        start = rnd.randrange(n - k + 1)
        sets.append(by_position[start : start + k])  # adjacent in the tree
        sets.append(list(range(start, start + k)))  # adjacent in insertion order
        sets.append(rnd.sample(range(n), rnd.randint(2, max(2, n // 3))))  # scattered
    return sets


# -- one interop case: our side computed eagerly, OZ's side answered in a batch ------------


@dataclass
class Case:
    kind: str
    sort: bool
    n: int
    seed: int
    oz: dict[str, Any] = field(default_factory=dict)

    @property
    def encoding(self) -> list[str]:
        return ENCODINGS[self.kind]

    @property
    def name(self) -> str:
        return f"{self.kind}-{'sorted' if self.sort else 'unsorted'}-{self.n}"

    @cached_property
    def values(self) -> list[list[Any]]:
        return random_values(self.kind, self.n, random.Random(self.seed))

    @cached_property
    def tree(self) -> StandardMerkleTree:
        return StandardMerkleTree.of(self.values, self.encoding, sort_leaves=self.sort)

    @cached_property
    def sets(self) -> list[list[int]]:
        return index_sets(self.tree, random.Random(self.seed + 1))

    @cached_property
    def proofs(self) -> list[list[bytes]]:
        return [self.tree.get_proof(i) for i in range(self.n)]

    @cached_property
    def multiproofs(self) -> list[MultiProof]:
        return [self.tree.get_multiproof(s) for s in self.sets]

    def wrong_value(self) -> list[Any]:
        """A value of the right type that is not in the tree."""
        rnd = random.Random(self.seed + 2)
        while True:
            value = _random_value(self.kind, rnd, rnd.randbytes(32))
            if value not in self.values:
                return value

    def requests(self) -> list[dict[str, Any]]:
        """build (OZ's own tree), verify (our proofs), load (our dump), in this order."""
        enc, sets = self.encoding, [list(s) for s in self.sets]
        build = {
            "op": "build",
            "values": to_js(self.values),
            "leafEncoding": enc,
            "sortLeaves": self.sort,
            "multiproofs": sets,
        }
        verify = {
            "op": "verify",
            "root": hx(self.tree.root),
            "leafEncoding": enc,
            "items": self._verify_items(),
            "multiproofs": [mp.to_json() for mp in self.multiproofs] + [self._forged_multiproof()],
        }
        load = {
            "op": "load",
            "dump": self.tree.dump(),
            "proofs": self.n <= LOAD_PROOFS_UP_TO,
            "multiproofs": sets,
        }
        return [build, verify, load]

    def _verify_items(self) -> list[dict[str, Any]]:
        """Our proof of every value, then a wrong value and a tampered proof (both false)."""
        items = [
            {"value": to_js(v), "proof": hxs(p)}
            for v, p in zip(self.values, self.proofs, strict=True)
        ]
        items.append({"value": to_js(self.wrong_value()), "proof": hxs(self.proofs[0])})
        if self.proofs[-1]:
            tampered = bytearray(self.proofs[-1][-1])
            tampered[7] ^= 0x40
            proof = [*hxs(self.proofs[-1][:-1]), hx(bytes(tampered))]
            items.append({"value": to_js(self.values[-1]), "proof": proof})
        return items

    def _forged_multiproof(self) -> dict[str, Any]:
        """Our last multiproof with its first leaf swapped for a value not in the tree."""
        forged = self.multiproofs[-1].to_json()
        forged["leaves"] = [to_js(self.wrong_value()), *forged["leaves"][1:]]
        return forged


def _all_cases() -> list[Case]:
    cases = []
    for k, kind in enumerate(ENCODINGS):
        for sort in (True, False):
            for n in SIZES if kind == "pair" else SIZES_ABI:
                cases.append(Case(kind, sort, n, SEED + 1000 * k + 2 * n + sort))
    for kind, sort, n in BIG_CASES:
        cases.append(Case(kind, sort, n, SEED + 7 * n + sort))
    return cases


GROUPS = sorted({(c.kind, c.sort) for c in _all_cases()})
GROUP_IDS = [f"{kind}-{'sorted' if sort else 'unsorted'}" for kind, sort in GROUPS]

# OZ's answers by request, shared by both engines: when the engines agree (they must),
# the second one sends nothing new to Node.js.
_OZ_ANSWERS: dict[str, dict[str, Any]] = {}


def _ask_oz(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = [json.dumps(r, sort_keys=True) for r in requests]
    todo = {k: r for k, r in zip(keys, requests, strict=True) if k not in _OZ_ANSWERS}
    if todo:
        answers = run_oz_batch(list(todo.values()), timeout=600, jobs=2)
        _OZ_ANSWERS.update(zip(todo, answers, strict=True))
    return [_OZ_ANSWERS[k] for k in keys]


@pytest.fixture(scope="module")
def oz_cases(merkle_engine: str) -> dict[tuple[str, bool], list[Case]]:
    """Every case built by the current engine, with OZ's answers attached."""
    require_oz()  # skips (or fails under VNTRACE_REQUIRE_JS) with the reason
    cases = _all_cases()
    responses = _ask_oz([r for case in cases for r in case.requests()])
    groups: dict[tuple[str, bool], list[Case]] = {}
    for i, case in enumerate(cases):
        build, verify, load = responses[3 * i : 3 * i + 3]
        case.oz = {"build": build, "verify": verify, "load": load}
        groups.setdefault((case.kind, case.sort), []).append(case)
    return groups


def _ok(response: dict[str, Any], case: Case) -> dict[str, Any]:
    assert "error" not in response, f"{case.name}: OZ error {response['error']}"
    return response


def for_each_case(oz_cases: dict, group: tuple[str, bool], check: Callable[[Case], None]) -> None:
    cases = oz_cases[group]
    assert cases
    for case in cases:
        check(case)


# -- JS built vs Python built ----------------------------------------------------------------


@node_js
@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_roots_dumps_and_every_proof_match(oz_cases: dict, group: tuple[str, bool]) -> None:
    def check(case: Case) -> None:
        oz = _ok(case.oz["build"], case)
        assert oz["root"] == hx(case.tree.root), case.name
        assert oz["dump"] == case.tree.dump(), case.name
        assert oz["proofs"] == [hxs(p) for p in case.proofs], case.name

    for_each_case(oz_cases, group, check)


@node_js
@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_multiproofs_match(oz_cases: dict, group: tuple[str, bool]) -> None:
    """Same leaves (in the order the contract consumes them), proof and flags."""

    def check(case: Case) -> None:
        oz = _ok(case.oz["build"], case)
        pairs = zip(case.sets, case.multiproofs, oz["multiproofs"], strict=True)
        for indices, ours, theirs in pairs:
            assert theirs == ours.to_json(), f"{case.name} indices={sorted(indices)}"

    for_each_case(oz_cases, group, check)


@node_js
@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_oz_verifies_our_proofs(oz_cases: dict, group: tuple[str, bool]) -> None:
    def check(case: Case) -> None:
        oz = _ok(case.oz["verify"], case)
        verdicts = oz["items"]
        assert verdicts[: case.n] == [True] * case.n, case.name
        assert all(v is False for v in verdicts[case.n :]), f"{case.name}: tampered accepted"
        mps = oz["multiproofs"]
        assert mps[:-1] == [True] * len(case.multiproofs), case.name
        assert mps[-1] is False, f"{case.name}: multiproof with a foreign leaf accepted"

    for_each_case(oz_cases, group, check)


@node_js
@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_we_verify_oz_proofs(oz_cases: dict, group: tuple[str, bool]) -> None:
    """OZ's JSON values and hex proofs, as a consumer would receive them."""

    def check(case: Case) -> None:
        oz = _ok(case.oz["build"], case)
        root = bytes.fromhex(oz["root"][2:])
        values = [entry["value"] for entry in oz["dump"]["values"]]
        for i, (value, proof) in enumerate(zip(values, oz["proofs"], strict=True)):
            assert verify_proof(root, leaf_hash(value, case.encoding), proof), (case.name, i)
            assert case.tree.verify(i, proof), (case.name, i)
            assert case.tree.verify(value, proof), (case.name, i)
        if oz["proofs"][0]:
            wrong = leaf_hash(case.wrong_value(), case.encoding)
            assert not verify_proof(root, wrong, oz["proofs"][0]), case.name
        for mp in oz["multiproofs"]:
            hashes = [leaf_hash(v, case.encoding) for v in mp["leaves"]]
            assert verify_multiproof(root, hashes, mp["proof"], mp["proofFlags"]), case.name
            proof = [bytes.fromhex(p[2:]) for p in mp["proof"]]
            ours = MultiProof(mp["leaves"], hashes, proof, mp["proofFlags"])
            assert case.tree.verify_multiproof(ours), case.name
            if len(hashes) < case.n:  # swap in a leaf that is not in the tree
                forged = [leaf_hash(case.wrong_value(), case.encoding), *hashes[1:]]
                assert not verify_multiproof(root, forged, mp["proof"], mp["proofFlags"])

    for_each_case(oz_cases, group, check)


@node_js
@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_dumps_load_both_ways(oz_cases: dict, group: tuple[str, bool]) -> None:
    def check(case: Case) -> None:
        # OZ loads our dump and reproduces our root, proofs and multiproofs.
        oz_load = _ok(case.oz["load"], case)
        assert oz_load["root"] == hx(case.tree.root), case.name
        if case.n <= LOAD_PROOFS_UP_TO:
            assert oz_load["proofs"] == [hxs(p) for p in case.proofs], case.name
        assert oz_load["multiproofs"] == [mp.to_json() for mp in case.multiproofs], case.name
        # We load OZ's dump and reproduce its root, proofs, and the dump itself.
        oz = _ok(case.oz["build"], case)
        loaded = StandardMerkleTree.load(json.loads(json.dumps(oz["dump"])))
        assert hx(loaded.root) == oz["root"], case.name
        assert [hxs(loaded.get_proof(i)) for i in range(case.n)] == oz["proofs"], case.name
        assert loaded.dump() == oz["dump"], case.name

    for_each_case(oz_cases, group, check)


@node_js
def test_empty_multiproof_is_refused_although_oz_accepts_it(oz_cases: dict) -> None:
    """OZ proves zero leaves with ``proof=[root]``; we refuse it: it proves nothing."""
    case = next(c for c in oz_cases[("pair", False)] if c.n == 5)
    root = hx(case.tree.root)
    empty = {"leaves": [], "proof": [root], "proofFlags": []}
    [oz] = run_oz_batch(
        [{"op": "verify", "root": root, "leafEncoding": case.encoding, "multiproofs": [empty]}]
    )
    assert oz["multiproofs"] == [True]
    with pytest.raises(EmptyMultiproofError):
        verify_multiproof(case.tree.root, [], [case.tree.root], [])
    with pytest.raises(EmptyMultiproofError):
        case.tree.get_multiproof([])


# Values the JS library accepts in non-canonical JSON forms: same leaf hash both sides.
LENIENT_VALUES = [
    (["uint256"], ["0x10"]),
    (["uint256"], [" 5"]),
    (["int256"], ["-5"]),
    (["address"], ["0x52908400098527886E0F7030069857D2E4169EE7"]),
    (["address"], ["0x52908400098527886e0f7030069857d2e4169ee7"]),
    (["bytes32"], ["0x12"]),  # right-padded, as abi.encode does
    (["bytes32"], ["0x" + "AB" * 32]),
    (["bytes"], ["0x"]),
    (["uint256[]"], [["1", "2"]]),
    (["(uint256,bool)"], [["1", True]]),
]


@node_js
@pytest.mark.parametrize(("encoding", "value"), LENIENT_VALUES)
def test_json_value_forms_hash_like_oz(encoding: list[str], value: list[Any]) -> None:
    [oz] = run_oz_batch(
        [{"op": "build", "values": [value], "leafEncoding": encoding, "proofs": False}]
    )
    assert "error" not in oz, oz
    assert hx(leaf_hash(value, encoding)) == oz["root"]


@node_js
@pytest.mark.parametrize(
    ("encoding", "value"),
    [
        (["uint256"], ["-1"]),
        (["uint256"], [str(2**256)]),
        (["uint8"], ["256"]),
        (["uint256"], ["1e3"]),
        (["bool"], [1]),
        (["uint256"], ["1_000"]),
    ],
)
def test_values_oz_refuses_are_refused(encoding: list[str], value: list[Any]) -> None:
    """Else we could build a dump that OZ (and a consumer using it) cannot load."""
    [oz] = run_oz_batch(
        [{"op": "build", "values": [value], "leafEncoding": encoding, "proofs": False}]
    )
    assert "error" in oz
    with pytest.raises(MerkleError):
        leaf_hash(value, encoding)


# -- committed vectors: no Node.js needed ----------------------------------------------


def _load_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _reference_proof(tree: list[str], index: int) -> list[str]:
    """Sibling walk over the array layout, written independently of the engine."""
    proof = []
    while index > 0:
        proof.append(tree[index - 1 if index % 2 == 0 else index + 1])
        index = (index - 1) // 2
    return proof


@pytest.mark.parametrize("path", OZ_STANDARD_DUMPS, ids=lambda p: p.name)
def test_published_dump_loads_with_its_root_and_proofs(path: Path) -> None:
    dump = _load_json(path)
    tree = StandardMerkleTree.load(dump)
    assert hx(tree.root) == dump["tree"][0]
    assert len(tree) == len(dump["values"])
    for i, entry in enumerate(dump["values"]):
        proof = tree.get_proof(i)
        assert hxs(proof) == _reference_proof(dump["tree"], entry["treeIndex"])
        assert tree.verify(i, proof)
        assert verify_proof(tree.root, leaf_hash(entry["value"], dump["leafEncoding"]), proof)
    assert tree.dump() == dump  # dict equality: key order in the file does not matter


def test_published_dumps_cover_sorted_and_unsorted() -> None:
    names = {p.name for p in OZ_STANDARD_DUMPS}
    assert {"standard-v1.sorted.1_0_6.json", "standard-v1.unsorted.1_0_6.json"} <= names


def _flip(hex_node: str) -> str:
    raw = bytearray.fromhex(hex_node[2:])
    raw[31] ^= 0x01
    return "0x" + raw.hex()


def _mutations(dump: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """One tree node, one value, one treeIndex at a time (plus structural breakage)."""
    n_nodes, n_values = len(dump["tree"]), len(dump["values"])
    out: list[tuple[str, dict[str, Any]]] = []

    def mutated(label: str, change: Callable[[dict[str, Any]], None]) -> None:
        d = copy.deepcopy(dump)
        change(d)
        out.append((label, d))

    for pos in sorted({0, 1, n_nodes // 2 - 1, n_nodes // 2, n_nodes - 1}):
        mutated(f"tree[{pos}]", lambda d, p=pos: d["tree"].__setitem__(p, _flip(d["tree"][p])))
    for i in sorted({0, n_values - 1}):
        mutated(f"values[{i}].value", lambda d, i=i: d["values"][i].__setitem__("value", ["zz"]))
        other = dump["values"][(i + 1) % n_values]["treeIndex"]
        for label, idx in [("other leaf", other), ("root", 0), ("internal", 1),
                           ("past end", n_nodes), ("negative", -1)]:  # fmt: skip
            mutated(
                f"values[{i}].treeIndex={label}",
                lambda d, i=i, idx=idx: d["values"][i].__setitem__("treeIndex", idx),
            )
    mutated("swap treeIndex", lambda d: _swap_tree_index(d["values"]))
    mutated("format", lambda d: d.__setitem__("format", "simple-v1"))
    mutated("leafEncoding", lambda d: d.__setitem__("leafEncoding", ["bytes32"]))
    mutated("no leafEncoding", lambda d: d.pop("leafEncoding"))
    mutated("tree node dropped", lambda d: d["tree"].pop())
    mutated("tree node not hex", lambda d: d["tree"].__setitem__(1, "0x" + "zz" * 32))
    mutated("tree node short", lambda d: d["tree"].__setitem__(1, d["tree"][1][:-2]))
    return out


def _swap_tree_index(values: list[dict[str, Any]]) -> None:
    values[0]["treeIndex"], values[1]["treeIndex"] = values[1]["treeIndex"], values[0]["treeIndex"]


MUTATED = [
    pytest.param(d, id=f"{path.name}:{label}")
    for path in OZ_STANDARD_DUMPS
    for label, d in _mutations(_load_json(path))
]


@pytest.mark.parametrize("dump", MUTATED)
def test_mutated_published_dump_is_refused(dump: dict[str, Any]) -> None:
    with pytest.raises(MerkleError):
        StandardMerkleTree.load(dump)


@node_js
def test_oz_refuses_the_same_mutations() -> None:
    """The mutations are real breakage, not just strictness of ours."""
    dumps = [p.values[0] for p in MUTATED]
    responses = run_oz_batch([{"op": "load", "dump": d} for d in dumps])
    accepted = [p.id for p, r in zip(MUTATED, responses, strict=True) if "error" not in r]
    assert accepted == []


@pytest.mark.parametrize("path", OZ_SIMPLE_DUMPS, ids=lambda p: p.name)
def test_published_simple_dump_layout(path: Path) -> None:
    """SimpleMerkleTree dumps share the array layout: make_tree rebuilds them exactly."""
    dump = _load_json(path)
    tree = [bytes.fromhex(h[2:]) for h in dump["tree"]]
    validate_tree(tree)
    n = len(dump["values"])
    assert len(tree) == 2 * n - 1
    for entry in dump["values"]:
        assert dump["tree"][entry["treeIndex"]] == entry["value"]
    leaves = [tree[len(tree) - 1 - k] for k in range(n)]
    assert make_tree(leaves) == tree
    with pytest.raises(InvalidTreeError):
        StandardMerkleTree.load(dump)


@pytest.mark.parametrize("path", OZ_GENERATED, ids=lambda p: p.stem)
def test_generated_vector(path: Path) -> None:
    """Outputs of the pinned npm package, reproduced from its dump and from the values."""
    doc = _load_json(path)
    request, expected = doc["request"], doc["response"]
    encoding = request["leafEncoding"]
    for tree in (
        StandardMerkleTree.load(expected["dump"]),
        StandardMerkleTree.of(request["values"], encoding, sort_leaves=request["sortLeaves"]),
    ):
        assert hx(tree.root) == expected["root"]
        assert tree.dump() == expected["dump"]
        assert [hxs(tree.get_proof(i)) for i in range(len(tree))] == expected["proofs"]
        multiproofs = [tree.get_multiproof(s).to_json() for s in request["multiproofs"]]
        assert multiproofs == expected["multiproofs"]


def test_generated_pair_vector_via_the_fast_path() -> None:
    """The node's leaves given as bytes (fast path) give OZ's tree too."""
    doc = _load_json(VECTORS / "oz_generated" / "pair-unsorted-7.json")
    values = [[bytes.fromhex(a[2:]), bytes.fromhex(b[2:])] for a, b in doc["request"]["values"]]
    tree = StandardMerkleTree.of(values, ["bytes32", "bytes32"], sort_leaves=False)
    assert hx(tree.root) == doc["response"]["root"]
    assert tree.dump() == doc["response"]["dump"]
