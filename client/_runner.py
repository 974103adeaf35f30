"""Plans and their two runners: how one operation serves a blocking and an async caller.

A *plan* is a generator that describes an operation without doing any I/O: it yields
what it needs (an HTTP exchange, a round of chain reads, a pause, several sub-plans at
once), receives each answer through ``send()`` (or the error through ``throw()``), and
returns its result. :func:`run` drives a plan with blocking I/O, :func:`arun` with
``await``; each takes ``perform``, the caller's way of doing the effects it owns. So
the steps of an operation are written once, whichever client runs them (the sans-I/O
pattern of h11 and httpx).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Generator, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

if TYPE_CHECKING:
    from .chain import RpcCall

T = TypeVar("T")

Plan: TypeAlias = Generator[Any, Any, T]
"""Yields effects, is sent their results, returns a ``T``."""


@dataclass(frozen=True, slots=True)
class Sleep:
    """Pause (between retries, between polls)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Gather:
    """Run sub-plans and answer their results in order: one after the other when
    blocking, concurrently (at most ``limit`` at once) when async. The first error is
    raised at the ``yield``."""

    plans: tuple[Plan[Any], ...]
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class Overlap:
    """Run ``work`` (CPU-bound, no I/O of its own) while ``plan`` does its I/O; answered
    by ``(work's result, plan's result)``. Blocking, the plan runs in a thread beside
    the caller's work; async, the work runs in the loop's default executor. The first
    error (the work's, else the plan's) is raised at the ``yield``."""

    work: Callable[[], Any]
    plan: Plan[Any]


@dataclass(frozen=True, slots=True)
class RpcTarget:
    """Which chain JSON-RPC a client reads: ``own`` is the node's own ``/rpc`` (read
    over the client's HTTP connection); ``shared`` readers live as long as the client,
    the others only as long as the operation that asked for them."""

    url: str
    own: bool = False
    shared: bool = True


@dataclass(frozen=True, slots=True)
class ReadChain:
    """One round of JSON-RPC reads; answered by the results in call order."""

    calls: Sequence[RpcCall]
    target: RpcTarget | None = None
    """``None``: the one reader the caller runs the plan with."""


def one(effect: Any) -> Plan[Any]:
    """A plan of a single effect (to put one in a :class:`Gather`)."""
    return (yield effect)


def _resume(plan: Plan[Any], value: Any, error: Exception | None) -> tuple[bool, Any]:
    """Send ``value`` into ``plan`` (or throw ``error``): ``(False, its next effect)``,
    or ``(True, its result)`` once it returns."""
    try:
        return False, plan.send(value) if error is None else plan.throw(error)
    except StopIteration as stop:
        return True, stop.value


def run(plan: Plan[T], perform: Callable[[Any], Any]) -> T:
    """Drive ``plan`` with blocking I/O; ``perform(effect)`` does the caller's effects."""
    value: Any = None
    error: Exception | None = None
    with closing(plan):
        while True:
            done, effect = _resume(plan, value, error)
            if done:
                return effect  # type: ignore[no-any-return]
            value, error = None, None
            try:
                if isinstance(effect, Sleep):
                    time.sleep(effect.seconds)
                elif isinstance(effect, Gather):
                    value = [run(p, perform) for p in effect.plans]
                elif isinstance(effect, Overlap):
                    value = _overlap(effect, perform)
                else:
                    value = perform(effect)
            except Exception as exc:
                error = exc


def _overlap(effect: Overlap, perform: Callable[[Any], Any]) -> tuple[Any, Any]:
    box: dict[str, Any] = {}

    def side() -> None:
        try:
            box["value"] = run(effect.plan, perform)
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    thread = threading.Thread(target=side, name="vntrace-overlap", daemon=True)
    thread.start()
    try:
        result = effect.work()
    finally:
        thread.join()
    if "error" in box:
        raise box["error"]
    return result, box["value"]


async def _aoverlap(effect: Overlap, perform: Callable[[Any], Awaitable[Any]]) -> tuple[Any, Any]:
    task = asyncio.ensure_future(arun(effect.plan, perform))
    try:
        result = await asyncio.get_running_loop().run_in_executor(None, effect.work)
    except BaseException:
        task.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await task
        raise
    return result, await task


async def arun(plan: Plan[T], perform: Callable[[Any], Awaitable[Any]]) -> T:
    """Drive ``plan`` without blocking the event loop (same protocol as :func:`run`)."""
    value: Any = None
    error: Exception | None = None
    with closing(plan):
        while True:
            done, effect = _resume(plan, value, error)
            if done:
                return effect  # type: ignore[no-any-return]
            value, error = None, None
            try:
                if isinstance(effect, Sleep):
                    await asyncio.sleep(effect.seconds)
                elif isinstance(effect, Gather):
                    value = await _gather(effect, perform)
                elif isinstance(effect, Overlap):
                    value = await _aoverlap(effect, perform)
                else:
                    value = await perform(effect)
            except Exception as exc:
                error = exc


async def _gather(effect: Gather, perform: Callable[[Any], Awaitable[Any]]) -> list[Any]:
    if effect.limit is None:
        return list(await asyncio.gather(*(arun(p, perform) for p in effect.plans)))
    limit = asyncio.Semaphore(effect.limit)

    async def bounded(plan: Plan[Any]) -> Any:
        async with limit:
            return await arun(plan, perform)

    return list(await asyncio.gather(*(bounded(p) for p in effect.plans)))


__all__ = ["Gather", "Overlap", "Plan", "ReadChain", "RpcTarget", "Sleep", "arun", "one", "run"]
