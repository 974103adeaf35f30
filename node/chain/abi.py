"""Encode registry calls and decode outputs, reverts and logs from the ABI.

A thin layer over eth-abi instead of web3's ``Contract``: it works on raw bytes,
so the same code serves the in-process chain and any JSON-RPC node, and it costs
microseconds instead of web3's per-call formatting overhead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address

from .errors import ContractRevertError
from .types import RegistryEvent

__all__ = ["RegistryCodec", "abi_type"]

# Built-in Solidity reverts, always decodable whatever the ABI says.
_BUILTIN_ERRORS: tuple[Mapping[str, Any], ...] = (
    {"type": "error", "name": "Error", "inputs": [{"name": "message", "type": "string"}]},
    {"type": "error", "name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]},
)


def abi_type(param: Mapping[str, Any]) -> str:
    """Canonical type string of an ABI parameter, tuples expanded."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param.get("components", ()))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def _signature(item: Mapping[str, Any]) -> str:
    return f"{item['name']}({','.join(abi_type(p) for p in item.get('inputs', ()))})"


def _normalise(kind: str, value: Any) -> Any:
    """Decoded values as the node uses them: checksummed addresses, tuples for arrays."""
    if kind == "address":
        return to_checksum_address(value)
    if kind.endswith("]"):
        inner = kind[: kind.rindex("[")]
        return tuple(_normalise(inner, v) for v in value)
    return value


class _Function:
    __slots__ = ("input_types", "name", "output_names", "output_types", "selector")

    def __init__(self, item: Mapping[str, Any]) -> None:
        self.name = str(item["name"])
        self.input_types = tuple(abi_type(p) for p in item.get("inputs", ()))
        self.output_types = tuple(abi_type(p) for p in item.get("outputs", ()))
        self.output_names = tuple(str(p.get("name", "")) for p in item.get("outputs", ()))
        self.selector = keccak(text=_signature(item))[:4]


class _Error:
    __slots__ = ("name", "names", "types")

    def __init__(self, item: Mapping[str, Any]) -> None:
        self.name = str(item["name"])
        self.types = tuple(abi_type(p) for p in item.get("inputs", ()))
        self.names = tuple(str(p.get("name", "")) for p in item.get("inputs", ()))


class _Event:
    __slots__ = ("data_params", "indexed_params", "name", "names")

    def __init__(self, item: Mapping[str, Any]) -> None:
        self.name = str(item["name"])
        params = item.get("inputs", ())
        self.names = tuple(str(p["name"]) for p in params)
        self.indexed_params = tuple((str(p["name"]), abi_type(p)) for p in params if p["indexed"])
        self.data_params = tuple((str(p["name"]), abi_type(p)) for p in params if not p["indexed"])


class RegistryCodec:
    """ABI codec for one contract (function names must not be overloaded)."""

    def __init__(self, abi: Sequence[Mapping[str, Any]]) -> None:
        self.abi = tuple(abi)
        self._functions: dict[str, _Function] = {}
        self._errors: dict[bytes, _Error] = {}
        self._events: dict[bytes, _Event] = {}
        self._constructor_types: tuple[str, ...] = ()
        for item in (*self.abi, *_BUILTIN_ERRORS):
            kind = item.get("type")
            if kind == "function":
                fn = _Function(item)
                if fn.name in self._functions:
                    raise ValueError(f"overloaded function {fn.name} is not supported")
                self._functions[fn.name] = fn
            elif kind == "error":
                self._errors[keccak(text=_signature(item))[:4]] = _Error(item)
            elif kind == "event" and not item.get("anonymous", False):
                self._events[keccak(text=_signature(item))] = _Event(item)
            elif kind == "constructor":
                self._constructor_types = tuple(abi_type(p) for p in item.get("inputs", ()))

    # -- calls ------------------------------------------------------------------

    def has_function(self, name: str) -> bool:
        return name in self._functions

    def encode_call(self, name: str, *args: Any) -> bytes:
        fn = self._function(name)
        if len(args) != len(fn.input_types):
            raise TypeError(f"{name} takes {len(fn.input_types)} arguments, got {len(args)}")
        return fn.selector + encode(fn.input_types, args)

    def decode_output(self, name: str, data: bytes) -> tuple[Any, ...]:
        fn = self._function(name)
        values = decode(fn.output_types, data)
        return tuple(_normalise(t, v) for t, v in zip(fn.output_types, values, strict=True))

    def encode_deploy(self, bytecode: bytes, *args: Any) -> bytes:
        return bytes(bytecode) + encode(self._constructor_types, args)

    def _function(self, name: str) -> _Function:
        try:
            return self._functions[name]
        except KeyError:
            raise ValueError(f"the registry ABI has no function {name!r}") from None

    # -- reverts ----------------------------------------------------------------

    def decode_revert(self, data: bytes) -> ContractRevertError:
        """Turn revert data into a :class:`ContractRevertError` named after the ABI error."""
        data = bytes(data)
        error = self._errors.get(data[:4]) if len(data) >= 4 else None
        if error is None:
            return ContractRevertError(None, (), data=data)
        try:
            raw = decode(error.types, data[4:])
        except DecodingError:
            return ContractRevertError(None, (), data=data)
        values = tuple(_normalise(t, v) for t, v in zip(error.types, raw, strict=True))
        return ContractRevertError(
            error.name, values, named_args=dict(zip(error.names, values, strict=True)), data=data
        )

    # -- events -----------------------------------------------------------------

    def event_topic(self, name: str) -> bytes:
        for topic, event in self._events.items():
            if event.name == name:
                return topic
        raise ValueError(f"the registry ABI has no event {name!r}")

    def decode_log(
        self,
        topics: Sequence[bytes],
        data: bytes,
        *,
        block_number: int,
        tx_hash: bytes,
        log_index: int,
        block_hash: bytes = b"",
    ) -> RegistryEvent | None:
        """Decode one log, or ``None`` if it is not a registry event (e.g. RoleGranted
        from an ABI that lacks it)."""
        if not topics or topics[0] not in self._events:
            return None
        event = self._events[topics[0]]
        args: dict[str, Any] = {}
        for (name, kind), topic in zip(event.indexed_params, topics[1:], strict=True):
            if kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("("):
                args[name] = bytes(topic)  # dynamic indexed values are only hashes
            else:
                args[name] = _normalise(kind, decode([kind], topic)[0])
        kinds = [k for _, k in event.data_params]
        for (name, kind), value in zip(event.data_params, decode(kinds, data), strict=True):
            args[name] = _normalise(kind, value)
        ordered = {name: args[name] for name in event.names}
        return RegistryEvent(
            name=event.name,
            args=ordered,
            block_number=block_number,
            tx_hash=tx_hash,
            log_index=log_index,
            block_hash=block_hash,
        )

    def event_names(self) -> Iterable[str]:
        return (e.name for e in self._events.values())
