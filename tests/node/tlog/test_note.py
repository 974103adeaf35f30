"""C2SP signed-note, tlog-checkpoint and tlog-cosignature formats, to the byte."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vntrace.node.tlog.errors import NoteError, SignatureError
from vntrace.node.tlog.note import (
    COSIGNATURE_V1,
    ED25519,
    Checkpoint,
    Note,
    Signer,
    Verifier,
    cosigned_message,
    parse_note,
    verify_note,
)

# c2sp.org/signed-note, "Example" (C2SP/C2SP commit 5ba5ee8).
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYj"
    "OBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# c2sp.org/tlog-checkpoint's example note text.
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)


def test_spec_vkey_and_note_verify() -> None:
    v = Verifier.from_vkey(SPEC_VKEY)
    assert v.name == "example.com/foo" and v.sig_type == ED25519
    assert v.vkey == SPEC_VKEY  # round trip, key ID recomputed from name and key
    note = parse_note(SPEC_NOTE.encode())
    assert note.text == "This is an example message.\n"
    assert str(note) == SPEC_NOTE
    [ok] = verify_note(note, [v])
    assert ok.timestamp is None
    tampered = Note("This is an example message!\n", note.signatures)
    with pytest.raises(SignatureError):
        verify_note(tampered, [v])


def test_key_id_is_the_specified_hash() -> None:
    v = Verifier.from_vkey(SPEC_VKEY)
    want = hashlib.sha256(b"example.com/foo\n\x01" + v.public_key).digest()[:4]
    assert v.key_id == want == bytes.fromhex("530d903a")


def test_unknown_keys_are_ignored_but_one_known_is_needed() -> None:
    other = Signer("example.com/foo", Ed25519PrivateKey.generate()).verifier  # same name
    with pytest.raises(SignatureError, match="no signature from a trusted key"):
        verify_note(parse_note(SPEC_NOTE), [other])


def test_checkpoint_text_matches_the_spec_example() -> None:
    cp = Checkpoint.parse(SPEC_CHECKPOINT)
    assert (cp.origin, cp.size) == ("example.com/behind-the-sofa", 20852163)
    assert cp.text == SPEC_CHECKPOINT
    for bad in (
        "o\n020852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",  # leading zero
        "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",  # unpadded base64
        "o\n1\nAAAA\n",  # not 32 bytes
        "o\n1\n",  # too few lines
        "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\nx\n",  # empty extension
    ):
        with pytest.raises(NoteError):
            Checkpoint.parse(bad)


def test_cosignature_v1_bytes() -> None:
    key = Ed25519PrivateKey.generate()
    signer = Signer("witness.example.com/w1", key, COSIGNATURE_V1)
    sig = signer.sign(SPEC_CHECKPOINT, timestamp=1679315147)
    assert (
        sig.key_id
        == hashlib.sha256(b"witness.example.com/w1\n\x04" + signer.verifier.public_key).digest()[:4]
    )
    assert struct.unpack(">Q", sig.signature[:8]) == (1679315147,)
    message = cosigned_message(SPEC_CHECKPOINT, 1679315147)
    assert message == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    key.public_key().verify(sig.signature[8:], message)  # raises if wrong
    line = sig.line
    assert line.startswith("\u2014 witness.example.com/w1 ") and line.endswith("\n")
    assert len(base64.b64decode(line.split()[2])) == 4 + 8 + 64
    assert signer.verifier.verify(SPEC_CHECKPOINT, sig) == 1679315147
    assert Verifier.from_vkey(signer.verifier.vkey) == signer.verifier


@pytest.mark.parametrize(
    "raw",
    [
        "no blank line\n\u2014 a AAAAAAA=\n".encode(),
        b"text\n\n",  # no signatures
        "text\n\n\u2014 a b c\n".encode(),  # three fields after the dash
        "text\n\n\u2014 a AAAA\n".encode(),  # too short for key ID + signature
        "text\x07\n\n\u2014 a AAAAAAA=\n".encode(),  # control character
        b"\xff\n\n",  # not UTF-8
        b"text\n\n- a AAAAAAA=\n",  # hyphen, not em dash
    ],
)
def test_malformed_notes_are_rejected(raw: bytes) -> None:
    with pytest.raises(NoteError):
        parse_note(raw)


def test_bad_vkeys_are_rejected() -> None:
    name, kid, key = SPEC_VKEY.split("+")
    for bad in (f"{name}+{kid}", f"{name}+00000000+{key}", f"{name}+{kid}+AAAA", "a b+1+2"):
        with pytest.raises(NoteError):
            Verifier.from_vkey(bad)
