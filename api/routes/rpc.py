"""``POST /rpc``: read-only Ethereum JSON-RPC of the embedded chain.

So that anyone can check an anchored root with their own tools (cast, ethers, viem,
web3.py, the SDK) without trusting the API's word. Served: what those tools ask for
reads with their default settings (chain id and client version, blocks, transactions,
receipts, logs, balances, nonces, storage, code, calls, gas estimates, gas price and
fee history; the list is ``READ_ONLY_METHODS`` in node/chain/readonly.py and
docs/api.md), in the specification's wire format. Refused with JSON-RPC error -32601
and the reason: everything that writes or signs (``eth_sendRawTransaction``,
``eth_sign*``, ``personal_*``...), dev-chain and admin methods (``debug_*``,
``anvil_*``, ``evm_*``...), filters and subscriptions, and ``eth_getProof``. Protocol
errors are JSON-RPC errors in a 200 response, never a 500. On an ``rpc`` chain the
node does not proxy: clients should ask the chain's own nodes, so this answers 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from vntrace.node.records import RecordError, parse_json

from ..body import read_body
from ..problems import Problem

router = APIRouter(tags=["chain"])

MAX_BATCH = 100
_EXAMPLE = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}


def _error(code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}


@router.post(
    "/rpc",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {}, "example": _EXAMPLE}},
        }
    },
)
async def rpc(request: Request) -> JSONResponse:
    """A JSON-RPC 2.0 request or batch (at most 100 calls), answered per JSON-RPC."""
    node = request.app.state.node
    chain = node.chain
    if chain.kind != "embedded":
        raise Problem(404, "this node anchors on an external chain: query that chain's RPC")
    body = await read_body(request, request.app.state.settings.max_batch_body_bytes)
    try:
        payload = parse_json(body, max_depth=10, max_bytes=len(body) + 1)
    except RecordError as exc:
        return JSONResponse(_error(-32700, f"parse error: {exc}"))
    if isinstance(payload, list) and len(payload) > MAX_BATCH:
        return JSONResponse(_error(-32600, f"batch of {len(payload)} calls; at most {MAX_BATCH}"))
    result = await run_in_threadpool(chain.handle_jsonrpc, payload)
    return JSONResponse(result)
