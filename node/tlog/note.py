"""C2SP signed notes, verifier keys, checkpoints and Ed25519 cosignatures (pure).

Follows, to the byte:

- c2sp.org/signed-note (v1.0.0): note text, blank line, ``— <name> base64(keyID||sig)``
  lines; key ID = SHA-256(name || 0x0A || type || public key)[:4]; vkeys
  ``<name>+hex(keyID)+base64(type||public key)``; type 0x01 = Ed25519 over the text.
- c2sp.org/tlog-checkpoint (v1.0.0): origin, decimal size, base64 RFC 6962 root, then
  optional non-empty extension lines.
- c2sp.org/tlog-cosignature (v1): type 0x04, signature = u64 big-endian timestamp ||
  Ed25519 signature over ``cosignature/v1\\ntime <t>\\n`` || checkpoint text.

Only ``cryptography`` and the stdlib: the SDK verifies bundles with this module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import NoteError, SignatureError

__all__ = [
    "COSIGNATURE_V1",
    "ED25519",
    "Checkpoint",
    "Note",
    "NoteSignature",
    "Signer",
    "Verifier",
    "format_note",
    "parse_note",
    "verify_note",
]

ED25519 = 0x01
"""signed-note type: Ed25519 over the note text (the log's checkpoint signature)."""
COSIGNATURE_V1 = 0x04
"""signed-note type: timestamped Ed25519 checkpoint cosignature (tlog-cosignature)."""
_TYPES = (ED25519, COSIGNATURE_V1)
EM_DASH = "\u2014"
MAX_SIGNATURES = 64  # the spec demands at least 16
MAX_NOTE_BYTES = 1 << 16
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


def b64(data: bytes) -> str:
    """Standard padded base64 (RFC 4648 section 4), as every C2SP spec uses."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, what: str, size: int | None = None) -> bytes:
    """Strict standard base64 (canonical padding, no whitespace) or :class:`NoteError`."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as e:
        raise NoteError(f"{what} is not standard base64") from e
    if b64(raw) != text:
        raise NoteError(f"{what} is not canonical base64")
    if size is not None and len(raw) != size:
        raise NoteError(f"{what} must be {size} bytes, got {len(raw)}")
    return raw


def parse_decimal(text: str, what: str) -> int:
    """A decimal with no leading zeroes (the C2SP size encoding), below 2^63."""
    if not _DECIMAL.fullmatch(text) or int(text) >= 1 << 63:
        raise NoteError(f"{what} must be a decimal without leading zeroes")
    return int(text)


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise NoteError("key names must be non-empty, without spaces or '+'")


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """SHA-256(key name || 0x0A || type || public key)[:4] (signed-note, Signatures)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


def cosigned_message(text: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: header, time line, then the checkpoint text."""
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID and the signature bytes after it."""

    name: str
    key_id: bytes
    signature: bytes

    @property
    def line(self) -> str:
        return f"{EM_DASH} {self.name} {b64(self.key_id + self.signature)}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A signed note: the text (ending in a newline) and its signature lines."""

    text: str
    signatures: tuple[NoteSignature, ...] = field(default=())

    def __str__(self) -> str:
        return format_note(self)

    def with_signatures(self, extra: Iterable[NoteSignature]) -> Note:
        """This note plus ``extra`` lines, without repeating a (name, key ID) already here."""
        seen = {(s.name, s.key_id) for s in self.signatures}
        sigs = list(self.signatures)
        for s in extra:
            if (s.name, s.key_id) not in seen:
                seen.add((s.name, s.key_id))
                sigs.append(s)
        return Note(self.text, tuple(sigs))


def format_note(note: Note) -> str:
    """The note's wire form: text, blank line, one line per signature."""
    return note.text + "\n" + "".join(s.line for s in note.signatures)


def _check_text(data: str) -> None:
    if _CONTROL.search(data):
        raise NoteError("a note must not contain control characters other than newline")


def parse_note(data: bytes | str) -> Note:
    """Parse a signed note (signatures unverified) or raise :class:`NoteError`."""
    if isinstance(data, bytes):
        if len(data) > MAX_NOTE_BYTES:
            raise NoteError("note too large")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise NoteError("a note must be valid UTF-8") from e
    if len(data.encode()) > MAX_NOTE_BYTES:
        raise NoteError("note too large")
    _check_text(data)
    cut = data.rfind("\n\n")
    if cut < 0 or not data.endswith("\n"):
        raise NoteError("a note needs text, a blank line and signature lines")
    text, sig_block = data[: cut + 1], data[cut + 2 :]
    lines = sig_block.split("\n")[:-1]
    if not lines:
        raise NoteError("a note must have at least one signature")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"more than {MAX_SIGNATURES} signatures")
    return Note(text, tuple(_parse_signature_line(line) for line in lines))


def _parse_signature_line(line: str) -> NoteSignature:
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != EM_DASH:
        raise NoteError("a signature line is '\u2014 <name> <base64>'")
    _check_name(parts[1])
    raw = unb64(parts[2], "signature")
    if len(raw) < 5:
        raise NoteError("a signature must hold a key ID and a signature")
    return NoteSignature(parts[1], raw[:4], raw[4:])


def parse_signature_lines(data: bytes | str) -> list[NoteSignature]:
    """Parse a witness response: one or more signature lines, each ending in newline."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise NoteError("signature lines must be UTF-8") from e
    _check_text(data)
    if not data.endswith("\n"):
        raise NoteError("signature lines must end with a newline")
    lines = data.split("\n")[:-1]
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError("expected between 1 and 64 signature lines")
    return [_parse_signature_line(line) for line in lines]


@dataclass(frozen=True, slots=True)
class Verifier:
    """A trusted public key: name, key ID, signature type (0x01 or 0x04)."""

    name: str
    sig_type: int
    public_key: bytes

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.sig_type not in _TYPES:
            raise NoteError(f"unsupported signature type 0x{self.sig_type:02x}")
        if len(self.public_key) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.sig_type, self.public_key)

    @property
    def vkey(self) -> str:
        """``<name>+hex(key ID)+base64(type || public key)``."""
        return f"{self.name}+{self.key_id.hex()}+{b64(bytes([self.sig_type]) + self.public_key)}"

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        """Parse a vkey; its key ID must match the one computed from name and key."""
        if not isinstance(vkey, str):
            raise NoteError("a verifier key is a string")
        parts = vkey.strip().split("+", 2)  # the base64 part may itself hold "+"
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
            raise NoteError("a verifier key is '<name>+<8 hex digits>+<base64>'")
        raw = unb64(parts[2], "verifier key")
        if len(raw) != 33:
            raise NoteError("an Ed25519 verifier key holds a type byte and 32 bytes")
        v = cls(parts[0], raw[0], raw[1:])
        if v.key_id.hex() != parts[1]:
            raise NoteError("the verifier key's ID does not match its name and key")
        return v

    def matches(self, sig: NoteSignature) -> bool:
        return sig.name == self.name and sig.key_id == self.key_id

    def verify(self, text: str, sig: NoteSignature) -> int | None:
        """Check ``sig`` over ``text``; returns the cosignature timestamp (None for 0x01)."""
        pub = Ed25519PublicKey.from_public_bytes(self.public_key)
        timestamp: int | None = None
        if self.sig_type == ED25519:
            message, raw = text.encode(), sig.signature
        else:
            if len(sig.signature) != 8 + 64:
                raise SignatureError(f"cosignature from {self.name} has the wrong length")
            (timestamp,) = struct.unpack(">Q", sig.signature[:8])
            if timestamp >= 1 << 63:
                raise SignatureError(f"cosignature from {self.name} has an invalid timestamp")
            message, raw = cosigned_message(text, timestamp), sig.signature[8:]
        if len(raw) != 64:
            raise SignatureError(f"signature from {self.name} has the wrong length")
        try:
            pub.verify(raw, message)
        except InvalidSignature as e:
            raise SignatureError(f"signature from {self.name} does not verify") from e
        return timestamp


@dataclass(frozen=True, slots=True)
class Signer:
    """A private Ed25519 key under a name, signing as type 0x01 or 0x04."""

    name: str
    private_key: Ed25519PrivateKey
    sig_type: int = ED25519

    @property
    def verifier(self) -> Verifier:
        pub = self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return Verifier(self.name, self.sig_type, pub)

    def sign(self, text: str, *, timestamp: int | None = None) -> NoteSignature:
        """Sign ``text``: a note signature (0x01) or a cosignature at ``timestamp`` (0x04)."""
        v = self.verifier
        if self.sig_type == ED25519:
            return NoteSignature(self.name, v.key_id, self.private_key.sign(text.encode()))
        if timestamp is None or not 0 < timestamp < 1 << 63:
            raise NoteError("a cosignature needs a positive timestamp below 2^63")
        sig = self.private_key.sign(cosigned_message(text, timestamp))
        return NoteSignature(self.name, v.key_id, struct.pack(">Q", timestamp) + sig)


@dataclass(frozen=True, slots=True)
class Verified:
    """A signature line that verified, with the key and (for cosignatures) the time."""

    verifier: Verifier
    signature: NoteSignature
    timestamp: int | None


def verify_note(note: Note, verifiers: Sequence[Verifier]) -> list[Verified]:
    """The note's signatures from known keys, all verified (signed-note, Signatures).

    Unknown keys are ignored; a known key's failing signature rejects the whole note;
    a note with no verified known signature is rejected.
    """
    out: list[Verified] = []
    for sig in note.signatures:
        for v in verifiers:
            if v.matches(sig):
                out.append(Verified(v, sig, v.verify(note.text, sig)))
                break
    if not out:
        raise SignatureError("no signature from a trusted key")
    return out


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tlog-checkpoint note text: origin, tree size, RFC 6962 root, extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        lines = [self.origin, str(self.size), b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint's note text (tlog-checkpoint, Note text)."""
        if not text.endswith("\n"):
            raise NoteError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or any(line == "" for line in lines):
            raise NoteError("a checkpoint is at least three non-empty lines")
        size = parse_decimal(lines[1], "checkpoint size")
        root = unb64(lines[2], "checkpoint root", 32)
        return cls(lines[0], size, root, tuple(lines[3:]))
