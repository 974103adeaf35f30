"""The FastAPI application: :func:`create_app` wires settings, node, routers and errors.

``create_app(settings)`` owns its node: the lifespan opens it, makes sure an
administrator can log in, starts anchoring, and closes it all on shutdown.
``create_app(node=node)`` serves a node the caller opened and will close (tests, the
CLI); anchoring then starts only if asked. For uvicorn directly:
``uvicorn --factory vntrace.api.main:create_app``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from vntrace.node.config import Settings
from vntrace.node.service import TraceNode

from . import auth, problems
from .metrics import Metrics, MetricsMiddleware
from .pages import PageMemo, assets
from .ratelimit import KnownKeys, RateLimitMiddleware
from .routes import ROUTERS, labels
from .version import package_version

log = logging.getLogger("vntrace.api")

DESCRIPTION = """\
The gateway of a vntrace node. Producers register lots and append EIP-712-signed
supply-chain events; anyone fetches proof bundles and provenance and verifies them
against the registry contract on chain.

* **Auth**: `Authorization: Bearer vnt_...` (producer keys are issued by the
  administrator; reads and verification are public).
* **Errors**: RFC 9457 `application/problem+json`, with `errors[]` naming each field.
* **Retries**: send an `Idempotency-Key` header with producer writes.
"""


def create_app(
    settings: Settings | None = None,
    *,
    node: TraceNode | None = None,
    start_anchoring: bool | None = None,
) -> FastAPI:
    """Build the gateway for ``settings`` (its own node) or for an open ``node``.

    ``start_anchoring`` defaults to True when the app opens its own node, False when
    given one (whoever opened it decides).
    """
    if node is not None:
        settings = node.settings
    settings = settings or Settings()
    auth.check_admin_token_setting(settings)
    owns_node = node is None
    anchor = owns_node if start_anchoring is None else start_anchoring

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        current = node or await run_in_threadpool(TraceNode.open, settings)
        try:
            await run_in_threadpool(auth.ensure_admin_token, current)
            app.state.node = current
            if anchor:
                current.start()
            yield
        finally:
            if owns_node:
                await run_in_threadpool(current.close)
            elif anchor:
                await run_in_threadpool(current.loop.stop)

    app = FastAPI(
        title="vntrace node",
        version=package_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        strict_content_type=False,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.known_keys = KnownKeys()
    app.state.page_memo = PageMemo()
    if node is not None:
        app.state.node = node
    problems.install(app)
    for router in (*ROUTERS, labels.router, assets.router):
        app.include_router(router)
    # Last added runs first: metrics see every answer, including 429s and 500s.
    app.add_middleware(problems.CatchAllMiddleware)
    app.add_middleware(
        RateLimitMiddleware,
        rate=settings.rate_limit_per_second,
        burst=settings.rate_limit_burst,
        known=app.state.known_keys,
    )
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app
