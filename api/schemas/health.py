"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from .common import ApiModel


class Health(ApiModel):
    status: str


class Ready(ApiModel):
    status: str
    checks: dict[str, Any]
