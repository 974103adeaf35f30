"""EPCIS 2.0 REST bindings: version negotiation and ``OPTIONS`` discovery (docs/epcis.md §8).

This node speaks one EPCIS version and one CBV version, both ``2.0.0`` (the strings
GS1's OpenAPI uses: ``info.version``, the ``GS1-EPCIS-Version`` examples, the
``version`` schema ``^\\d+(\\.\\d+)*$``).

- **Negotiation.** A request may bound the versions it accepts with ``GS1-EPCIS-Min`` /
  ``GS1-EPCIS-Max`` and ``GS1-CBV-Min`` / ``GS1-CBV-Max`` (the OpenAPI's request header
  parameters on the query and discovery operations). A range that excludes 2.0.0, an
  empty range (min above max) or a value that is not a version is answered as every
  operation of the bindings declares: **406** ``NotAcceptableException``
  (``406NotAcceptable``), problem+json naming the header, with the versions the node
  does support in the response's ``GS1-*-Min/Max`` headers. Versions compare
  numerically by component, missing ones as 0 (``2.0`` = ``2.0.0``).
- **Discovery.** ``OPTIONS`` on every ``/epcis`` resource answers ``204`` with the
  headers of the OpenAPI's discovery response for that resource:
  ``204DefaultDiscoveryResponse`` (and its ``Writable``/``Removable`` variants, which
  differ only in ``Allow``), ``204CaptureEndpointDiscovery`` on ``/capture`` (plus the
  capture limits and error behaviour) and ``204SubscriptionEndpointDiscovery`` on one
  subscription (plus ``GS1-Query-Min-Record-Time``). ``Allow`` lists the methods the
  node really serves on that path, not the OpenAPI's defaults.

Both EPCIS routers use :func:`negotiate` as a router dependency and
:func:`add_discovery` once all their routes exist.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import Response
from fastapi.routing import APIRoute

from vntrace.node.epcis import CBV_VERSION, EPCIS_VERSION, VERSION_HEADERS
from vntrace.node.epcis.mapping import profile_namespace

from .deps import ProfileDep
from .problems import Problem
from .version import package_version

SUPPORTED = {
    "GS1-EPCIS-Min": EPCIS_VERSION,
    "GS1-EPCIS-Max": EPCIS_VERSION,
    "GS1-CBV-Min": CBV_VERSION,
    "GS1-CBV-Max": CBV_VERSION,
}
"""The range this node supports, as the discovery and 406 answers state it."""
_VERSION = re.compile(r"\d{1,6}(\.\d{1,6}){0,5}")
_METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")


def version_tuple(text: str) -> tuple[int, ...]:
    """``"2.0"`` -> ``(2, 0, 0)``-comparable tuple (trailing zeros dropped); ValueError
    unless it matches the OpenAPI's ``version`` schema."""
    if not _VERSION.fullmatch(text):
        raise ValueError(f"{text[:40]!r} is not a version such as 2.0.0")
    parts = [int(p) for p in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _refuse(header: str, message: str) -> Problem:
    return Problem(
        406,
        f"{header}: {message}",
        title="EPCIS NotAcceptableException",
        errors=[{"field": header, "message": message, "code": "NotAcceptableException"}],
        epcisException="NotAcceptableException",
        headers={**VERSION_HEADERS, **SUPPORTED},
    )


def _check(kind: str, supported: str, low: str | None, high: str | None) -> None:
    bounds: dict[str, tuple[int, ...]] = {}
    for name, value in ((f"GS1-{kind}-Min", low), (f"GS1-{kind}-Max", high)):
        if value is None:
            continue
        try:
            bounds[name] = version_tuple(value.strip())
        except ValueError as exc:
            raise _refuse(name, str(exc)) from None
    ours = version_tuple(supported)
    low_t, high_t = bounds.get(f"GS1-{kind}-Min"), bounds.get(f"GS1-{kind}-Max")
    if low_t is not None and high_t is not None and low_t > high_t:
        raise _refuse(f"GS1-{kind}-Min", f"is above GS1-{kind}-Max: no version fits")
    if low_t is not None and low_t > ours:
        raise _refuse(f"GS1-{kind}-Min", f"this node serves {kind} {supported} only")
    if high_t is not None and high_t < ours:
        raise _refuse(f"GS1-{kind}-Max", f"this node serves {kind} {supported} only")


def _header(name: str, what: str) -> Any:
    return Header(alias=name, description=what, examples=["2.0.0"])


def negotiate(
    epcis_min: Annotated[
        str | None, _header("GS1-EPCIS-Min", "Lowest EPCIS version accepted")
    ] = None,
    epcis_max: Annotated[
        str | None, _header("GS1-EPCIS-Max", "Highest EPCIS version accepted")
    ] = None,
    cbv_min: Annotated[str | None, _header("GS1-CBV-Min", "Lowest CBV version accepted")] = None,
    cbv_max: Annotated[str | None, _header("GS1-CBV-Max", "Highest CBV version accepted")] = None,
) -> None:
    """Router dependency: 406 unless the requested EPCIS and CBV ranges hold 2.0.0."""
    _check("EPCIS", EPCIS_VERSION, epcis_min, epcis_max)
    _check("CBV", CBV_VERSION, cbv_min, cbv_max)


NOT_ACCEPTABLE = {
    406: {
        "description": "The GS1-EPCIS-Min/Max or GS1-CBV-Min/Max range excludes 2.0.0 "
        "(`NotAcceptableException`)."
    }
}
"""The router-level ``responses`` entry documenting :func:`negotiate`'s refusal."""

# -- discovery -------------------------------------------------------------------------

Headers = dict[str, str]
ExtraHeaders = Callable[..., Headers]
"""A FastAPI dependency giving a resource's own discovery headers (may refuse)."""

DEFAULT = "default"
SUBSCRIPTION = "subscription"
_DEFAULT_HEADERS = (
    "Allow",
    "GS1-EPCIS-Version",
    "GS1-EPCIS-Min",
    "GS1-EPCIS-Max",
    "GS1-CBV-Version",
    "GS1-CBV-Min",
    "GS1-CBV-Max",
    "GS1-EPC-Format",
    "GS1-CBV-XML-Format",
    "GS1-Extensions",
    "GS1-Vendor-Version",
)
"""``204DefaultDiscoveryResponse`` (and ``Writable``, ``Removable``, ``Capture``)."""
_SUBSCRIPTION_HEADERS = (
    "Allow",
    "GS1-EPCIS-Version",
    "GS1-EPCIS-Min",
    "GS1-EPCIS-Max",
    "GS1-Extensions",
    "GS1-Vendor-Version",
)
"""``204SubscriptionEndpointDiscovery`` (plus ``GS1-Query-Min-Record-Time``)."""


def discovery_headers(kind: str, allow: str, extension_namespace: str) -> Headers:
    """The headers GS1's OpenAPI defines for an ``OPTIONS`` answer of ``kind``."""
    every = {
        "Allow": allow,
        **VERSION_HEADERS,
        **SUPPORTED,
        # Events are served exactly as captured and signed: never rewritten between
        # EPC URNs and GS1 Digital Link URIs, nor CBV URNs and Web URIs (no XML binding).
        "GS1-EPC-Format": "Never_Translates",
        "GS1-CBV-XML-Format": "Never_Translates",
        "GS1-Extensions": f"vnt={extension_namespace}",
        "GS1-Vendor-Version": f"vntrace-{package_version()}",
    }
    names = _SUBSCRIPTION_HEADERS if kind == SUBSCRIPTION else _DEFAULT_HEADERS
    return {name: every[name] for name in names}


def _no_extra() -> Headers:
    return {}


def _allow(methods: set[str]) -> str:
    ordered = sorted(methods - {"OPTIONS", "HEAD"}, key=_METHOD_ORDER.index)
    return ", ".join(["OPTIONS", *ordered])


def _options_endpoint(
    allow: str, kind: str, extra: ExtraHeaders, path_params: list[str]
) -> Callable[..., Response]:
    def discover(**values: Any) -> Response:
        namespace = profile_namespace(values["profile"])
        headers = {**discovery_headers(kind, allow, namespace), **values["more"]}
        return Response(status_code=204, headers=headers)

    # A real signature (not string annotations: ``extra`` is a closure variable), with
    # the path's parameters so the OpenAPI document describes them.
    keyword = inspect.Parameter.KEYWORD_ONLY
    discover.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("profile", keyword, annotation=ProfileDep),
            inspect.Parameter("more", keyword, annotation=Annotated[Headers, Depends(extra)]),
            *(inspect.Parameter(name, keyword, annotation=str) for name in path_params),
        ],
        return_annotation=Response,
    )
    return discover


_PATH_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def add_discovery(
    router: APIRouter,
    *,
    kinds: Mapping[str, str] | None = None,
    extra: Mapping[str, ExtraHeaders] | None = None,
) -> None:
    """Add ``OPTIONS`` to every path the router serves, in the order its routes were
    added (so a greedy ``{value:path}`` matches as for ``GET``). ``kinds`` names the
    paths (without the router's prefix) whose discovery answer is not the default one,
    ``extra`` the dependencies that add a resource's own headers."""
    kinds, extra = dict(kinds or {}), dict(extra or {})
    methods: dict[str, set[str]] = {}
    for route in router.routes:
        if isinstance(route, APIRoute) and "OPTIONS" not in route.methods:
            methods.setdefault(route.path, set()).update(route.methods)
    for full, served in methods.items():
        path = full.removeprefix(router.prefix)
        allow = _allow(served)
        kind = kinds.get(path, DEFAULT)
        router.add_api_route(
            path,
            _options_endpoint(allow, kind, extra.get(path, _no_extra), _PATH_PARAM.findall(path)),
            methods=["OPTIONS"],
            status_code=204,
            response_class=Response,
            name=f"options {full}",
            summary="Discover the resource's methods and EPCIS/CBV versions",
            description="The headers of the EPCIS 2.0 REST bindings' discovery response.",
            responses={204: {"headers": {"Allow": {"description": allow}}}},
        )
