"""Producer keys and signatures, on the producer's machine.

:class:`ProducerSigner` salts, canonicalises, digests and signs events with exactly the
code the node's intake checks them with (``vntrace.node.records``), after validating
them against the product profile, so a mistake is reported locally with its field path
instead of as a rejected upload. Private (confidential) fields are replaced by salted
commitments before signing; their values and salts (``disclosures``) travel beside the
record, for the node to keep sealed for auditors, and stay with the producer.

Keys come from an environment variable the caller names, or from an encrypted Web3
Secret Storage keystore (the format geth, Foundry and MetaMask exports use). The key
is never logged, printed or put in an exception message.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vntrace.node.records import (
    EventValidationError,
    RecordError,
    prepare_record,
    private_key_address,
)

from .errors import ConfigurationError, FieldIssue, KeystoreError, SigningError
from .settings import read_env

if TYPE_CHECKING:
    from vntrace.node.profile import Profile

    from .models import NodeInfo


@dataclass(frozen=True, slots=True)
class SignedEvent:
    """One event ready to upload: as signed (private fields committed), salt, signature.

    ``record_id`` is the leaf the node will file it under, known before uploading.
    ``disclosures`` hold the private values and their field salts (``{path: {"value",
    "salt"}}``). They are uploaded beside the event by default, so the node keeps them
    sealed for auditors (never in a public view); ``to_json(disclose=False)`` withholds
    them. Keep your own copy either way: it proves the committed values later.
    """

    event: dict[str, Any]
    salt: str
    signature: str
    record_id: str
    lot_key: str
    disclosures: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def to_json(self, *, disclose: bool = True) -> dict[str, Any]:
        """The ``{event, salt, signature[, disclosures]}`` object the gateway takes."""
        out: dict[str, Any] = {"event": self.event, "salt": self.salt, "signature": self.signature}
        if disclose and self.disclosures:
            out["disclosures"] = self.disclosures
        return out


def _load_profile(profile: Profile | str | os.PathLike[str] | None, fallback: str) -> Profile:
    from vntrace.node.profile import Profile, load_profile

    if isinstance(profile, Profile):
        return profile
    try:
        return load_profile(profile if profile is not None else fallback)
    except (RecordError, OSError, ValueError) as exc:
        raise ConfigurationError(
            f"cannot load product profile {profile or fallback}: {exc}"
        ) from None


class ProducerSigner:
    """Signs a producer's events for one deployment (chain id + registry) and profile."""

    __slots__ = ("_key", "address", "chain_id", "profile", "registry")

    def __init__(
        self,
        key: bytes | str | Any,
        *,
        chain_id: int,
        registry: str,
        profile: Profile | str | os.PathLike[str] | None = None,
    ) -> None:
        try:
            self.address = private_key_address(key)
        except RecordError:
            raise ConfigurationError("not a valid secp256k1 private key") from None
        self._key = key
        self.chain_id = int(chain_id)
        self.registry = registry
        self.profile = _load_profile(profile, "robusta-vn")

    def __repr__(self) -> str:
        return (
            f"ProducerSigner(address={self.address!r}, chain_id={self.chain_id}, "
            f"registry={self.registry!r}, profile={self.profile.id!r})"
        )

    # -- construction ------------------------------------------------------------------

    @classmethod
    def for_node(
        cls,
        info: NodeInfo,
        key: bytes | str | Any,
        *,
        profile: Profile | str | os.PathLike[str] | None = None,
    ) -> ProducerSigner:
        """A signer in the node's domain (``GET /v1/info``) and for its profile."""
        return cls(
            key, chain_id=info.chain_id, registry=info.registry, profile=profile or info.profile
        )

    @classmethod
    def from_env(
        cls,
        var: str,
        *,
        chain_id: int,
        registry: str,
        profile: Profile | str | os.PathLike[str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ProducerSigner:
        """Key (hex) from the environment variable named ``var``."""
        value = read_env(var, environ)
        if not value:
            raise ConfigurationError(f"${var} is not set")
        try:
            return cls(value.strip(), chain_id=chain_id, registry=registry, profile=profile)
        except ConfigurationError:
            raise ConfigurationError(f"${var} does not hold a valid private key") from None

    @classmethod
    def from_keystore(
        cls,
        path: str | os.PathLike[str],
        password: str,
        *,
        chain_id: int,
        registry: str,
        profile: Profile | str | os.PathLike[str] | None = None,
    ) -> ProducerSigner:
        """Key from an encrypted keystore file."""
        return cls(
            load_keystore(path, password), chain_id=chain_id, registry=registry, profile=profile
        )

    # -- signing -----------------------------------------------------------------------

    def sign(
        self, gtin: str, lot: str, event: dict[str, Any], *, now: datetime | None = None
    ) -> SignedEvent:
        """Validate, commit private fields, salt, digest and sign one event of a lot."""
        return self.sign_many(gtin, lot, [event], now=now)[0]

    def sign_many(
        self,
        gtin: str,
        lot: str,
        events: Iterable[dict[str, Any]],
        *,
        now: datetime | None = None,
    ) -> list[SignedEvent]:
        """Sign every event, or raise :class:`SigningError` listing every invalid field
        of every event (``FieldIssue.index`` is the event's position)."""
        out: list[SignedEvent] = []
        issues: list[FieldIssue] = []
        for i, event in enumerate(events):
            try:
                out.append(self._sign_one(gtin, lot, event, now))
            except EventValidationError as exc:
                issues += [FieldIssue(e.path, e.message, e.code, i) for e in exc.errors]
            except RecordError as exc:
                issues.append(FieldIssue("", str(exc), None, i))
        if issues:
            bad = len({x.index for x in issues})
            first = issues[0]
            raise SigningError(
                f"{bad} event(s) invalid; first: events[{first.index}] {first}", tuple(issues)
            )
        return out

    def _sign_one(
        self, gtin: str, lot: str, event: dict[str, Any], now: datetime | None
    ) -> SignedEvent:
        if not isinstance(event, dict):
            raise RecordError("an event is a JSON object")
        prepared = prepare_record(self.profile, gtin, lot, event, now=now)
        signed = prepared.sign(self._key, self.chain_id, self.registry)
        return SignedEvent(
            event=signed.event,
            salt="0x" + signed.salt.hex(),
            signature="0x" + signed.signature.hex(),
            record_id="0x" + signed.leaf.hex(),
            lot_key="0x" + signed.lot_key.hex(),
            disclosures=signed.disclosures,
        )


# -- keystores -------------------------------------------------------------------------


def create_keystore(
    path: str | os.PathLike[str],
    password: str,
    *,
    key: bytes | str | None = None,
    kdf_iterations: int | None = None,
) -> str:
    """Write a new (or the given) key to an encrypted keystore; returns its address.

    The file is created with mode 0600 and never overwritten. ``kdf_iterations`` is
    scrypt's ``n`` (default 2**18, about a second); lower it only for tests.
    """
    from eth_account import Account

    if not password:
        raise KeystoreError("a keystore needs a non-empty password")
    target = Path(path)
    raw = Account.create().key if key is None else key
    try:
        address = private_key_address(raw)
    except RecordError:
        raise KeystoreError("not a valid secp256k1 private key") from None
    keyfile = Account.encrypt(raw, password, iterations=kdf_iterations)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeystoreError(f"{target} exists; refusing to overwrite a key") from None
    except OSError as exc:
        raise KeystoreError(f"cannot create {target}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(keyfile, fh)
    return address


def load_keystore(path: str | os.PathLike[str], password: str) -> bytes:
    """The private key in an encrypted keystore (raises :class:`KeystoreError`)."""
    from eth_account import Account

    source = Path(path)
    try:
        keyfile = json.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KeystoreError(f"cannot read keystore {source}: {exc.strerror}") from None
    except ValueError:
        raise KeystoreError(f"{source} is not a JSON keystore") from None
    try:
        return bytes(Account.decrypt(keyfile, password))
    except (ValueError, KeyError, TypeError):
        raise KeystoreError(f"cannot decrypt keystore {source} (wrong password?)") from None


def keystore_address(path: str | os.PathLike[str]) -> str | None:
    """The address a keystore declares (no password needed; ``None`` if absent)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    address = data.get("address") if isinstance(data, dict) else None
    return f"0x{address}" if isinstance(address, str) and len(address) == 40 else None


def submissions(
    events: Sequence[SignedEvent | Mapping[str, Any]], *, disclose: bool = True
) -> list[dict[str, Any]]:
    """Signed events as the gateway takes them (already-JSON dicts pass through).

    ``disclose=False`` leaves out the private values and salts (also from dicts).
    """
    out: list[dict[str, Any]] = []
    for e in events:
        item = e.to_json(disclose=disclose) if isinstance(e, SignedEvent) else dict(e)
        if not disclose:
            item.pop("disclosures", None)
        out.append(item)
    return out


__all__ = [
    "ProducerSigner",
    "SignedEvent",
    "create_keystore",
    "keystore_address",
    "load_keystore",
    "submissions",
]
