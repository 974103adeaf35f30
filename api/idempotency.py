"""``Idempotency-Key`` for producer writes: a retried request never creates duplicates.

The first successful response to a key is stored with a hash of the request (method,
path and the body's canonical JSON); the same key with the same request gets that
response back byte for byte (``Idempotent-Replayed: true``); the same key with another
request is refused with 422, as the IETF Idempotency-Key draft advises. Failed requests
are not stored (intake is all-or-none, so nothing happened), so the producer can fix the
request and retry with the same key. Keys are scoped to the producer.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from fastapi import Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from vntrace.node.records import canonicalize
from vntrace.node.store import Store
from vntrace.node.store.types import IdempotencyRow, ProducerRow

from .body import BODY_DEPTH
from .problems import Problem

HEADER = "Idempotency-Key"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


# The body limit already bounds what is hashed; canonicalize's own default (512 KiB, one
# event's bound) refused batches of about a thousand events sent with a key.
_HASHED_MAX_BYTES = 1 << 30


def request_hash(method: str, path: str, payload: BaseModel) -> bytes:
    """SHA-256 over the request's method, path and canonical body."""
    body = canonicalize(
        payload.model_dump(mode="json", by_alias=True),
        max_depth=BODY_DEPTH,  # an event may nest MAX_DEPTH deep *inside* the body
        max_bytes=_HASHED_MAX_BYTES,
    )
    return hashlib.sha256(f"{method} {path}\n".encode() + body).digest()


def _replay(row: IdempotencyRow, digest: bytes, key: str) -> Response:
    if row.request_hash != digest:
        raise Problem(
            422,
            f"Idempotency-Key {key!r} was already used for a different request; "
            "use a new key for a new request",
            slug="idempotency-key-reused",
            title="Idempotency key reused",
        )
    return Response(
        content=row.response,
        status_code=row.status_code,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


def run_idempotent(
    store: Store,
    producer: ProducerRow,
    key: str | None,
    digest: bytes,
    action: Callable[[], tuple[int, BaseModel]],
) -> Response:
    """Run ``action`` once per (producer, key); replay its stored response on retries."""
    if key is None:
        status, model = action()
        return JSONResponse(model.model_dump(mode="json", by_alias=True), status_code=status)
    if not _KEY.fullmatch(key):
        raise Problem(
            422,
            "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is ideal)",
            errors=[{"field": HEADER, "in": "header", "message": "malformed", "code": "invalid"}],
        )
    stored = store.get_idempotency(producer.id, key)
    if stored is not None:
        return _replay(stored, digest, key)
    status, model = action()
    text = model.model_dump_json(by_alias=True)
    stored = store.put_idempotency(producer.id, key, digest, text, status)
    if stored.response != text:  # a concurrent twin stored first: answer as it did
        return _replay(stored, digest, key)
    return Response(content=text, status_code=status, media_type="application/json")
