"""EPCIS 2.0 named queries and query subscriptions delivered by webhook (docs/epcis.md §9).

Named queries are stored views over :meth:`EpcisService.query` (the same function
``GET /epcis/events`` runs: no second query engine). A subscription keeps a cursor, the
record id up to which its query has run; a background worker (started and stopped with
the node, like the log's witness pushes) advances it:

1. **Plan.** For each stream subscription, and each scheduled one whose time has come,
   run the query after the cursor, cut the hits into ``EPCISQueryDocument`` batches and,
   in ONE transaction, queue them in ``epcis_deliveries`` and move the cursor (a
   compare-and-set, so two node processes never queue a batch twice). Records newer than
   ``settle_ms`` are left for the next round: the index is written in the transaction
   right after the records (docs/epcis.md §8), and a record must not be passed over
   before it is indexed.
2. **Send.** Each subscription's oldest due delivery is leased, POSTed to ``dest`` with
   ``GS1-Signature`` (HMAC-SHA256 of the body keyed by the ``signatureToken``), and
   marked delivered on a 2xx; otherwise retried after ``retry_seconds * 2**(n-1)`` (capped
   at an hour) until ``max_attempts``.

Capture never waits for any of it: the worker only reads what capture committed. A
restart loses nothing: plans and deliveries live in the database.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from vntrace.node.background import BackgroundWorker
from vntrace.node.epcis import VERSION_HEADERS
from vntrace.node.epcis.index import ORDERING_PARAMETERS, encode_page_token, parse_query
from vntrace.node.epcis.subscription_store import (
    DeliveryRow,
    QueryRow,
    SubscriptionRow,
    SubscriptionStore,
)
from vntrace.node.epcis.subscriptions import (
    SIGNATURE_HEADER,
    NameExistsError,
    NoSuchNameError,
    NotOwnerError,
    QueryDefinitionError,
    Resolver,
    Schedule,
    SubscriptionControlsError,
    check_dest_addresses,
    parse_named_query,
    parse_schedule,
    parse_subscription,
    query_params,
    retry_delay,
    sign_body,
)
from vntrace.node.store.clock import from_ms, to_ms, utc_now
from vntrace.node.store.types import ProducerRow

from .context import NodeContext
from .epcis import EpcisService, EventPage

log = logging.getLogger("vntrace.epcis.subscriptions")

BATCH_EVENTS = 100
"""Events per delivered document (the bindings: "group EPCIS events in manageable batches")."""
_PAGES_PER_RUN = 20
_CLAIM_LIMIT = 500


def _resolve(host: str, port: int) -> list[str]:
    return [str(ai[4][0]) for ai in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def rfc3339(ms: int) -> str:
    return from_ms(ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription as the service returns it (the token stays sealed in the store)."""

    row: SubscriptionRow

    def to_json(self) -> dict[str, Any]:
        """The bindings' subscription response (never the ``signatureToken``)."""
        r = self.row
        out: dict[str, Any] = {
            "subscriptionID": r.subscription_id,
            "queryName": r.query_name,
            "dest": r.dest,
            "initialRecordTime": rfc3339(r.initial_record_time),
            "createdAt": rfc3339(r.created_at),
        }
        if r.stream:
            out["stream"] = True
        else:
            out["schedule"] = dict(r.schedule or {})
            out["reportIfEmpty"] = r.report_if_empty
        if r.last_notified_at is not None:
            out["lastNotifiedAt"] = rfc3339(r.last_notified_at)
        return out


class EpcisSubscriptionService:
    """Named queries, subscriptions, and the worker that delivers them."""

    def __init__(
        self,
        ctx: NodeContext,
        epcis: EpcisService,
        *,
        allow_private: bool = False,
        poll_seconds: float = 2.0,
        retry_seconds: float = 5.0,
        max_attempts: int = 12,
        timeout: float = 10.0,
        settle_ms: int = 500,
        resolve: Resolver = _resolve,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._ctx = ctx
        self._epcis = epcis
        self.store = SubscriptionStore(ctx.store.engine)
        self.allow_private = allow_private
        self.retry_seconds = retry_seconds
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.settle_ms = settle_ms
        self._resolve = resolve
        self._clock = clock
        self._lock = threading.Lock()
        self._worker = BackgroundWorker(
            self.run_once,
            name="vntrace-epcis-subscriptions",
            interval=poll_seconds,
            log=log,
            failure="EPCIS subscription round failed; retrying",
        )

    @classmethod
    def for_node(cls, ctx: NodeContext, epcis: EpcisService) -> EpcisSubscriptionService:
        """Built from the node's settings (``VNTRACE_EPCIS_*``)."""
        s = ctx.settings
        return cls(
            ctx,
            epcis,
            allow_private=s.epcis_webhook_allow_private,
            poll_seconds=s.epcis_subscription_poll_seconds,
            retry_seconds=s.epcis_webhook_retry_seconds,
            max_attempts=s.epcis_webhook_max_attempts,
        )

    @property
    def poll_seconds(self) -> float:
        """Seconds between the worker's rounds when nothing kicks it."""
        return self._worker.interval

    @poll_seconds.setter
    def poll_seconds(self, seconds: float) -> None:
        self._worker.interval = seconds

    def _now(self) -> int:
        return to_ms(self._clock())

    # -- named queries (POST/GET/DELETE /queries) --------------------------------------

    def create_query(self, producer: ProducerRow, body: Any) -> QueryRow:
        named = parse_named_query(body)
        if not self.store.add_query(named.name, named.query, producer.id, self._now()):
            raise NameExistsError("name", f"a query named {named.name} exists already")
        return self.query(named.name)

    def query(self, name: str) -> QueryRow:
        row = self.store.get_query(name) if len(name) <= 100 else None
        if row is None:
            raise NoSuchNameError("queryName", f"no query named {name[:100]}")
        return row

    def queries(self, after: str = "", limit: int = 100) -> list[QueryRow]:
        return self.store.list_queries(after, limit)

    def delete_query(self, producer: ProducerRow, name: str) -> None:
        """Remove a named query and, as the bindings say, every subscription to it."""
        row = self.query(name)
        if row.producer_id != producer.id:
            raise NotOwnerError("queryName", "only the producer who created a query deletes it")
        self.store.delete_query(name)

    def query_events(self, name: str, params: Mapping[str, str]) -> EventPage:
        """``GET /queries/{name}/events``: the stored query, paged like ``/events``."""
        extra = sorted(set(params) - {"perPage", "nextPageToken"})
        if extra:
            raise QueryDefinitionError(
                extra[0], "a named query's events take only perPage and nextPageToken"
            )
        saved = query_params(self.query(name).definition)
        return self._epcis.query({**saved, **params})

    def query_document(self, page: EventPage) -> dict[str, Any]:
        """The ``EPCISQueryDocument`` of a page (``EpcisService.query_document``)."""
        return self._epcis.query_document(page)

    # -- subscriptions -----------------------------------------------------------------

    def subscribe(self, producer: ProducerRow, name: str, body: Any) -> Subscription:
        query = self.query(name)
        now = self._now()
        controls = parse_subscription(body, now)
        check_dest_addresses(controls.dest, self._resolve, allow_private=self.allow_private)
        sid = "sub_" + secrets.token_hex(12)
        values = {
            "subscription_id": sid,
            "query_name": query.name,
            "producer_id": producer.id,
            "dest": controls.dest,
            "sealed_token": self._ctx.vault.encrypt(
                controls.signature_token.encode("utf-8"), sid.encode()
            ),
            "stream": controls.stream,
            "schedule": controls.schedule.spec if controls.schedule else None,
            "report_if_empty": controls.report_if_empty,
            "initial_record_time": controls.initial_record_time,
            # EPCIS §8.2.5.2: the first run considers records from initialRecordTime on.
            "after_record_id": self.store.last_record_before(controls.initial_record_time),
            "next_run_at": controls.schedule.next_after(now) if controls.schedule else None,
            "created_at": now,
        }
        self.store.add_subscription(values)
        self.kick()
        return self.subscription(producer, name, sid)

    def subscriptions(self, producer: ProducerRow, name: str) -> list[Subscription]:
        """The caller's subscriptions to a query (another producer's are not shown)."""
        self.query(name)
        return [Subscription(r) for r in self.store.list_subscriptions(name, producer.id)]

    def subscription(self, producer: ProducerRow, name: str, sid: str) -> Subscription:
        row = self.store.get_subscription(sid) if len(sid) <= 64 else None
        if row is None or row.query_name != name or row.producer_id != producer.id:
            raise NoSuchNameError("subscriptionID", f"no subscription {sid[:64]} to {name[:100]}")
        return Subscription(row)

    def unsubscribe(self, producer: ProducerRow, name: str, sid: str) -> None:
        """Delete the subscription and every delivery still owed to it."""
        self.subscription(producer, name, sid)
        self.store.delete_subscription(sid)

    def deliveries(self, sid: str) -> list[DeliveryRow]:
        return self.store.deliveries(sid)

    # -- the worker's steps ------------------------------------------------------------

    def run_once(self) -> tuple[int, int]:
        """Plan and send once; returns (documents queued, documents delivered)."""
        with self._lock:
            return self.plan(), self.send()

    def plan(self) -> int:
        """Queue the documents every due subscription is owed; returns how many."""
        now = self._now()
        frontier = self.store.last_record_before(now - self.settle_ms + 1)
        queued = 0
        for sub in self.store.due_subscriptions(now):
            try:
                queued += self._plan_one(sub, now, frontier)
            except (QueryDefinitionError, NoSuchNameError, SubscriptionControlsError) as exc:
                log.warning("subscription %s cannot run: %s", sub.subscription_id, exc)
        return queued

    def _plan_one(self, sub: SubscriptionRow, now: int, frontier: int) -> int:
        if sub.stream and frontier <= sub.after_record_id:
            return 0
        query = self.store.get_query(sub.query_name)
        if query is None:
            return 0  # deleted meanwhile (its subscriptions go with it)
        # Deliveries go in record order, every matching event once: the definition's
        # orderBy / eventCountLimit / maxEventCount shape GET …/events only.
        params = {
            k: v for k, v in query_params(query.definition).items() if k not in ORDERING_PARAMETERS
        }
        q = parse_query(params)
        cursor, bodies = sub.after_record_id, []
        for _ in range(_PAGES_PER_RUN):
            token = encode_page_token(q, cursor)
            page = self._epcis.query(
                {**params, "perPage": str(BATCH_EVENTS), "nextPageToken": token}
            )
            if not page.events:
                cursor = max(cursor, frontier)
                break
            leaves = [bytes.fromhex(r["recordId"][2:]) for r in page.records]
            ids = self.store.record_ids(leaves)
            order = [ids[leaf] for leaf in leaves]
            keep = sum(1 for i in order if i <= frontier)
            if keep:
                bodies.append((self._document(sub, page, keep), keep))
                cursor = order[keep - 1]
            if keep < len(order):
                break  # the rest is not settled yet: next round
            if page.next_page_token is None:
                cursor = max(cursor, frontier)
                break
        schedule: Schedule | None = None
        if not sub.stream:
            schedule = parse_schedule(sub.schedule)
            if not bodies and sub.report_if_empty:
                bodies.append((self._document(sub, EventPage(events=[], records=[]), 0), 0))
        elif cursor == sub.after_record_id:
            return 0
        next_run = schedule.next_after(now) if schedule else None
        done = self.store.record_run(
            sub, after_record_id=cursor, next_run_at=next_run, bodies=bodies, now=now
        )
        return len(bodies) if done else 0

    def _document(self, sub: SubscriptionRow, page: EventPage, keep: int) -> bytes:
        doc = self._epcis.query_document(
            EventPage(events=page.events[:keep], records=page.records[:keep])
        )
        doc["epcisBody"]["queryResults"]["subscriptionID"] = sub.subscription_id
        doc["creationDate"] = rfc3339(self._now())
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()

    def send(self) -> int:
        """POST every due delivery once; returns how many were accepted (2xx)."""
        now = self._now()
        lease = int((2 * self.timeout + 5) * 1000)
        done = 0
        claimed = self.store.claim_deliveries(now, lease, _CLAIM_LIMIT)
        if not claimed:
            return 0
        with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
            for d in claimed:
                done += self._send_one(client, d)
        return done

    def _send_one(self, client: httpx.Client, d: DeliveryRow) -> int:
        sub = self.store.get_subscription(d.subscription_id)
        if sub is None:
            return 0  # unsubscribed meanwhile: its deliveries are gone
        error = None
        try:
            # Again at send time: a name may resolve elsewhere now than when subscribed.
            check_dest_addresses(sub.dest, self._resolve, allow_private=self.allow_private)
            token = self._ctx.vault.decrypt(sub.sealed_token, sub.subscription_id.encode())
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign_body(token.decode("utf-8"), d.body),
                **VERSION_HEADERS,
                "VNT-Delivery-ID": f"{sub.subscription_id}/{d.id}",
            }
            r = client.post(sub.dest, content=d.body, headers=headers)
            if 200 <= r.status_code < 300:
                self.store.delivered(d, self._now())
                return 1
            error = f"HTTP {r.status_code}"
        except SubscriptionControlsError as exc:
            error = exc.message
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        attempts = d.attempts + 1
        final = attempts >= self.max_attempts
        delay = retry_delay(attempts, self.retry_seconds)
        self.store.failed(
            d, error=error, next_attempt_at=self._now() + int(delay * 1000), final=final
        )
        log.info(
            "delivery %s/%s failed (%s), attempt %d%s",
            sub.subscription_id,
            d.id,
            error,
            attempts,
            ", giving up" if final else f", retry in {delay:.1f} s",
        )
        return 0

    # -- background --------------------------------------------------------------------

    def kick(self) -> None:
        """Ask the worker to look for work now."""
        self._worker.kick()

    def start(self) -> None:
        self._worker.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._worker.stop(timeout)


__all__ = ["EpcisSubscriptionService", "Subscription"]
