"""The consumer page's budget: server time and HTML size for a small and a large lot.

Issue 19: a shopper scans a lot's QR code on a phone, often on a slow mobile network,
and a cooperative lot holds one harvest event per smallholder plot (about 1,000). This
benchmark seeds, on a fresh embedded node, the demo lot (6 events) and a cooperative lot
(995 harvest plots plus its 4 processing events), anchors them, and measures through the
real app (in-process ASGI, no socket):

- the page's HTML size, and its server time (median of several GETs after a warm-up),
  split into reading the lot, verifying it (one multiproof per epoch; the previous
  path, one bundle and proof per record, measured beside it), building (with the memo
  of what the events alone determine, and cold) and rendering;
- optionally (``--browser``) first contentful paint in headless Chromium (Debian's,
  through Playwright) on a throttled mobile profile: CPU slowed 4x, 1.6 Mbit/s down,
  750 kbit/s up, 150 ms latency (Lighthouse's "slow 4G"), the app served over loopback;
  median of 3 after a warm-up load.

``python -m vntrace.node.bench.page [--out results/bench/page] [--browser]`` writes
``page.json`` and prints a Markdown table (BENCHMARKS.md, "Consumer page").
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vntrace.node.demo import season_events

DEFAULT_OUT = Path("results/bench/page")
COOP_PLOTS = 995
ROUNDS = 7
SLOW_4G = {"latency": 150, "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8}
CPU_SLOWDOWN = 4


def coop_lot_events(now: datetime, plots: int = COOP_PLOTS) -> list[dict[str, Any]]:
    """A cooperative's lot: one harvest event per plot, then drying to shipping.

    Plots lie on a grid of about 25 km around Ea Tu (Đắk Lắk); up to 4 ha a plot is a
    point, above it a 16-corner polygon (EUDR Art. 2(28)), so the map has both.
    """
    demo = season_events(now)
    side = math.ceil(math.sqrt(plots))
    harvests = []
    for i in range(plots):
        lon = 108.0 + (i % side) * 0.007
        lat = 12.6 + (i // side) * 0.007
        area = 1.0 + (i % 7) * 0.5  # 1.0 .. 4.0 ha: points
        geometry: dict[str, Any] = {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}
        if i % 3 == 0:
            area = 4.5 + (i % 4) * 0.5
            r = 0.0012
            ring = [
                [
                    round(lon + r * math.cos(2 * math.pi * k / 16), 6),
                    round(lat + r * math.sin(2 * math.pi * k / 16), 6),
                ]
                for k in range(16)
            ]
            geometry = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
        event = dict(demo[0], plotId=f"EA-TU-{i + 1:04d}", geolocation=geometry, plotAreaHa=area)
        event["eventTime"] = (
            (now - timedelta(days=30, minutes=-i)).replace(microsecond=0).isoformat()
        ).replace("+00:00", "Z")
        event.pop("variety", None)
        event["quantity"] = {"value": 900 + i % 50, "unit": "KGM"}
        harvests.append(event)
    return [*harvests, *demo[2:]]


def _median_ms(fn: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    fn()  # warm-up: templates compiled, caches filled
    times, out = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1), out


def _seed(node: Any) -> dict[str, tuple[str, str, int]]:
    """The demo lot and a cooperative lot, signed, submitted and anchored:
    ``{name: (gtin, lot, events)}``."""
    from eth_account import Account

    from vntrace.node.records import prepare_record
    from vntrace.node.service import Submission

    account = Account.create()
    producer = node.register_producer(account.address, "HTX Nông nghiệp Ea Tu")
    gtin = node.profile.gtins[0]
    info = node.info()
    now = datetime.now(UTC)
    lots = {
        "demo": ("BENCH-DEMO", season_events(now)),
        "coop": ("BENCH-COOP", coop_lot_events(now)),
    }
    for lot, events in lots.values():
        subs = []
        for event in events:
            signed = prepare_record(node.profile, gtin, lot, event).sign(
                account, info["chainId"], info["registry"]
            )
            subs.append(Submission(signed.event, signed.salt, signed.signature))
        for start in range(0, len(subs), 1000):
            node.submit(producer, gtin, lot, subs[start : start + 1000])
    node.anchor_now()
    return {name: (gtin, lot, len(events)) for name, (lot, events) in lots.items()}


def _server(node: Any, client: Any, gtin: str, lot: str, rounds: int) -> dict[str, Any]:
    from vntrace.api.pages import Derived, PageMemo, build_lot_page, content_key, render

    url = f"/01/{gtin}/10/{lot}"
    headers = {"Accept": "text/html"}
    total, response = _median_ms(lambda: client.get(url, headers=headers), rounds)
    provenance_ms, reading = _median_ms(lambda: node.read_lot(gtin, lot), rounds)
    verify_ms, verdicts = _median_ms(lambda: node.verify_lot(reading), rounds)
    # the path before (one bundle and one proof per record), measured in the same run
    ids = [r["recordId"] for r in reading.provenance["records"]]
    records_ms, _ = _median_ms(lambda: node.verify_records(ids), rounds)
    memo = PageMemo()

    def build(derived: Derived | None) -> Any:
        return build_lot_page(
            profile=node.profile,
            provenance=reading.provenance,
            verdicts=verdicts,
            lang="en",
            node_url="http://testserver",
            eudr_rules=node.eudr.rules,
            derived=derived,
        )

    key = content_key(r.event_json for r in reading.rows)
    cold_ms, _ = _median_ms(lambda: build(None), rounds)
    build_ms, page = _median_ms(lambda: build(Derived(memo, key)), rounds)
    render_ms, _ = _median_ms(
        lambda: render("lot.html", "en", page=page, title=page.title, switch=page.switch), rounds
    )
    return {
        "status": response.status_code,
        "html_bytes": len(response.content),
        "server_ms": total,
        "provenance_ms": provenance_ms,
        "verify_ms": verify_ms,
        "verify_records_ms": records_ms,
        "build_ms": build_ms,
        "build_cold_ms": cold_ms,
        "render_ms": render_ms,
    }


CHROMIUM = "/usr/bin/chromium"


def browser_available() -> bool:
    """Debian's Chromium and Playwright's Python package are both here."""
    import importlib.util

    return Path(CHROMIUM).exists() and importlib.util.find_spec("playwright") is not None


def _paint(url: str) -> dict[str, Any]:
    """First contentful paint of ``url`` in headless Chromium on the throttled profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            runs = []
            for attempt in range(4):  # the first is a warm-up (browser caches, JIT)
                context = browser.new_context(viewport={"width": 390, "height": 844})
                page = context.new_page()
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.send("Network.emulateNetworkConditions", {"offline": False, **SLOW_4G})
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
                page.goto(url, wait_until="load")
                fcp = page.evaluate(
                    "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
                )
                load = page.evaluate(
                    "(() => { const n = performance.getEntriesByType('navigation')[0];"
                    " return n ? n.loadEventEnd : null; })()"
                )
                if attempt:
                    runs.append((fcp, load))
                context.close()
        finally:
            browser.close()
    fcps = [f for f, _ in runs if f is not None]
    loads = [lo for _, lo in runs if lo is not None]
    return {
        "fcp_ms": round(statistics.median(fcps), 0) if fcps else None,
        "load_ms": round(statistics.median(loads), 0) if loads else None,
        "runs": len(runs),
    }


def _browser(app: Any, lots: dict[str, tuple[str, str, int]]) -> dict[str, Any]:
    """Serve ``app`` over loopback (uvicorn in a thread) and time each lot's page."""
    import socket
    import threading

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the page server did not start")
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        return {name: _paint(f"{url}/01/{gtin}/10/{lot}") for name, (gtin, lot, _) in lots.items()}
    finally:
        server.should_exit = True
        thread.join(10)


def run(rounds: int = ROUNDS, browser: bool = False) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from vntrace.api import create_app
    from vntrace.node.config import Settings

    with tempfile.TemporaryDirectory(prefix="vntrace-bench-page-") as tmp:
        settings = Settings(data_dir=Path(tmp), rate_limit_per_second=0)
        app = create_app(settings, start_anchoring=False)
        with TestClient(app) as client:
            node = app.state.node
            lots = _seed(node)
            results: dict[str, Any] = {
                name: {"events": count, **_server(node, client, gtin, lot, rounds)}
                for name, (gtin, lot, count) in lots.items()
            }
            if browser:
                for name, figures in _browser(app, lots).items():
                    results[name].update(figures)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "rounds": rounds,
        "throttling": {**SLOW_4G, "cpuSlowdown": CPU_SLOWDOWN} if browser else None,
        "lots": results,
    }


def markdown(results: dict[str, Any]) -> str:
    """The BENCHMARKS.md table of a run."""
    head = (
        "| lot | events | HTML | server ms | provenance ms | verify ms (one multiproof per "
        "epoch) | verify ms (one proof per record, before) | build ms (cold) | render ms "
        "| FCP ms (slow 4G, CPU/4) |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for name, r in results["lots"].items():
        fcp = r.get("fcp_ms")
        rows.append(
            f"| {name} | {r['events']:,} | {r['html_bytes'] / 1024:.1f} KB | **{r['server_ms']}** "
            f"| {r['provenance_ms']} | {r['verify_ms']} | {r['verify_records_ms']} "
            f"| {r['build_ms']} ({r['build_cold_ms']}) | {r['render_ms']} "
            f"| {'—' if fcp is None else f'{fcp:.0f}'} |"
        )
    return head + "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vntrace.node.bench.page", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--browser", action="store_true", help="also first contentful paint")
    args = parser.parse_args(argv)
    results = run(args.rounds, args.browser)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "page.json").write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
