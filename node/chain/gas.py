"""The gas-limit rule shared by both backends.

EIP-7623 (Prague) charges a transaction at least a calldata floor,
``21000 + 10 * tokens`` with ``tokens = zero_bytes + 4 * nonzero_bytes``.
eth-tester's ``estimate_gas`` ignores that floor (it estimated 213,827 for a call
charged 466,690), and py-evm then mines the under-gassed transaction with
``gasUsed`` above its limit, while a real node rejects it. So never trust the
estimate alone: the limit is ``max(estimate * multiplier + margin, floor)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

__all__ = [
    "TX_BASE_GAS",
    "GasPolicy",
    "calldata_floor",
    "calldata_tokens",
]

TX_BASE_GAS: Final = 21_000
FLOOR_GAS_PER_TOKEN: Final = 10  # EIP-7623 TOTAL_COST_FLOOR_PER_TOKEN
CREATE_GAS: Final = 32_000
INITCODE_WORD_GAS: Final = 2  # EIP-3860


def calldata_tokens(data: bytes) -> int:
    """EIP-7623 tokens: one per zero byte, four per non-zero byte."""
    zeros = data.count(0)
    return zeros + 4 * (len(data) - zeros)


def calldata_floor(data: bytes, *, create: bool = False) -> int:
    """Least gas EIP-7623 charges for ``data``; for a deployment the creation costs are
    added on top, which over-provisions slightly and is never charged."""
    floor = TX_BASE_GAS + FLOOR_GAS_PER_TOKEN * calldata_tokens(data)
    if create:
        floor += CREATE_GAS + INITCODE_WORD_GAS * math.ceil(len(data) / 32)
    return floor


@dataclass(frozen=True, slots=True)
class GasPolicy:
    """``limit = max(ceil(estimate * multiplier) + margin, calldata floor)``."""

    multiplier: float = 1.2
    margin: int = 10_000

    def limit(self, estimate: int, data: bytes, *, create: bool = False) -> int:
        padded = math.ceil(estimate * self.multiplier) + self.margin
        return max(padded, calldata_floor(data, create=create))
