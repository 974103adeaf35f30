"""Known answers for digest and leaf, recomputed by hand and pinned as hex."""

from __future__ import annotations

import eth_abi
import pytest
import rfc8785
import sha3

from vntrace.node.records import (
    RecordError,
    as_bytes32,
    lot_key,
    new_salt,
    record_digest,
    record_leaf,
)

SALT = bytes(range(32))
EVENT = {
    "kind": "harvest",
    "eventTime": "2024-11-02T07:30:00+07:00",
    "countryOfProduction": "VN",
    "geolocation": {"type": "Point", "coordinates": [108.051234, 12.681234]},
    "plotAreaHa": 1.8,
    "harvestDate": "2024-10-28",
    "quantity": {"value": 5200, "unit": "KGM"},
    "producer": {"name": "HTX Nông nghiệp Ea Tu"},
}
CANONICAL = (
    '{"countryOfProduction":"VN","eventTime":"2024-11-02T07:30:00+07:00",'
    '"geolocation":{"coordinates":[108.051234,12.681234],"type":"Point"},'
    '"harvestDate":"2024-10-28","kind":"harvest","plotAreaHa":1.8,'
    '"producer":{"name":"HTX Nông nghiệp Ea Tu"},"quantity":{"unit":"KGM","value":5200}}'
).encode()
DIGEST_HEX = "648b1de35c1101879489221c30df0c384a7f3c6055ce503c5c487c344b95f1b8"
LEAF_HEX = "ddadd2a760b3a3550bc3bb9053f2558514568bb42d5e8cdd2b3d790513d26ec7"


def test_canonical_form_of_the_fixed_event() -> None:
    assert rfc8785.dumps(EVENT) == CANONICAL


def test_digest_known_answer() -> None:
    by_hand = sha3.keccak_256(SALT + rfc8785.dumps(EVENT)).digest()
    assert record_digest(SALT, EVENT) == by_hand
    assert record_digest("0x" + SALT.hex(), EVENT) == by_hand
    assert by_hand.hex() == DIGEST_HEX


def test_key_order_does_not_change_the_digest() -> None:
    reordered = dict(reversed(list(EVENT.items())))
    assert record_digest(SALT, reordered) == record_digest(SALT, EVENT)


def test_salt_changes_the_digest() -> None:
    assert record_digest(bytes(32), EVENT) != record_digest(SALT, EVENT)


def test_leaf_known_answer_matches_the_abi_encoded_openzeppelin_leaf() -> None:
    key = lot_key("08936099000015", "EA-2024/11")
    digest = bytes.fromhex(DIGEST_HEX)
    encoded = eth_abi.encode(["bytes32", "bytes32"], [key, digest])
    by_hand = sha3.keccak_256(sha3.keccak_256(encoded).digest()).digest()
    assert record_leaf(key, digest) == by_hand
    assert by_hand.hex() == LEAF_HEX


def test_new_salt_is_32_fresh_bytes() -> None:
    salts = {new_salt() for _ in range(100)}
    assert len(salts) == 100 and all(len(s) == 32 for s in salts)


@pytest.mark.parametrize("bad", [b"\x00" * 31, "0x" + "00" * 31, "00" * 32, "0x" + "zz" * 32, 7])
def test_salt_must_be_32_bytes(bad: object) -> None:
    with pytest.raises(RecordError):
        record_digest(bad, EVENT)  # type: ignore[arg-type]
    with pytest.raises(RecordError):
        as_bytes32(bad)  # type: ignore[arg-type]
