"""The whole suite's report: targets judged on one run, and the Markdown of every table.

Targets are goals the report evaluates, not test assertions. Each says how far it is
from its goal and, when missed, what bounds it, with figures from the same run (the
per-record costs of :mod:`.floor` and the latencies of :mod:`.e2e`).
"""

from __future__ import annotations

from typing import Any

from . import report as proof_report
from .baseline import BASELINE_COMMIT, RECORDED
from .e2e import CHAINS
from .floor import KECCAKS_PER_LEAF, machine_limits

INGEST_GOAL = 10_000.0
VERIFY_GOAL = 50_000.0
LATENCY_GOAL_MS = 20.0
LATENCY_CLIENTS = 32
SDK_GOAL = 10_000.0
TREE_HEX_GOAL = 300_000.0
TREE_HEX_SIZE = 100_000
ANCHOR_P95_GOAL_S = 3.0
GAS_GOAL = 10.0
GAS_EPOCH = 10_000


def _num(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _chain(results: dict[str, Any], chain: str) -> dict[str, Any]:
    run = ((results.get("e2e") or {}).get("chains") or {}).get(chain) or {}
    return {} if run.get("skipped") or run.get("error") else run


def _floor(results: dict[str, Any]) -> dict[str, Any]:
    return (results.get("e2e") or {}).get("floor") or {}


def _target(
    key: str,
    label: str,
    goal: float,
    unit: str,
    measured: float | None,
    where: str,
    bound: str,
    at_least: bool,
) -> dict[str, Any]:
    met = None if measured is None else (measured >= goal if at_least else measured <= goal)
    if measured is None or measured == 0:
        verdict = "not measured" if measured is None else "**missed**"
    elif met:
        headroom = measured / goal if at_least else goal / measured
        verdict = f"met ({headroom:.2g}x the goal)" if at_least else f"met ({headroom:.2g}x under)"
    elif at_least:
        verdict = f"**missed**: {measured / goal:.1%} of the goal ({goal / measured:.3g}x short)"
    else:
        verdict = f"**missed**: {measured / goal:.3g}x the limit"
    return {
        "id": key,
        "label": label,
        "goal": f"{'≥' if at_least else '≤'} {_num(goal)} {unit}",
        "threshold": goal,
        "unit": unit,
        "measured": measured,
        "met": met,
        "verdict": verdict,
        "where": where,
        "bound": "" if met else bound,
    }


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 17's targets (embedded chain run, gas) and issue 19's page budget."""
    run = _chain(results, "embedded")
    floor = _floor(results)
    steps = floor.get("steps_us") or {}
    service = floor.get("service") or {}
    out = []

    best = max(run.get("ingest") or [], key=lambda r: r["records_per_s"], default=None)
    submit = service.get("submit_per_record")
    workers = (run.get("node") or {}).get("workers") or 1
    shared = (
        f"{workers} worker processes (`vntrace serve --workers`, the default: one per "
        "core) share the two cores with the load generator and the process holding the "
        "embedded chain"
        if workers > 1
        else "one node process runs under one GIL (one of two cores)"
    )
    bound = (
        f"{shared}: "
        f"`TraceNode.submit` alone costs {_num(submit)} µs per record without HTTP "
        f"(≤ {_num(1e6 / submit)} records/s), of which EIP-712 recovery "
        f"{_num(steps.get('eip712_recovery'))} µs, profile validation "
        f"{_num(steps.get('profile_validation'))} µs, its receipt (a JCS leaf and an "
        "inclusion proof; one Ed25519 signature per request) "
        f"{_num(steps.get('batch_receipt'))} µs, RFC 8785 {_num(steps.get('jcs'))} µs, "
        "the rest the SQLite insert through SQLAlchemy; the strict JSON parser adds "
        f"{_num(steps.get('strict_json_parse'))} µs and the HTTP stack, the idempotency "
        "record and the client share the same two cores. 10k/s needs about 100 µs per "
        "record in total: more cores than this machine has, or a native intake path"
        if submit
        else "per-record costs not measured"
    )
    out.append(
        _target(
            "ingestion",
            "ingestion through the batch endpoint",
            INGEST_GOAL,
            "records/s",
            best["records_per_s"] if best else None,
            f"embedded, batches of {best['batch_size']}, {_clients(best['clients'])}"
            if best
            else "not measured",
            bound,
            True,
        )
    )

    verify = run.get("verify_api_bundles") or {}
    per = service.get("verify_bundles_per_record")
    bound = (
        f"{shared}; `verify_bundles` costs {_num(per)} µs per record in one process "
        "without HTTP "
        f"(≤ {_num(1e6 / per)} records/s), although a signature intake already "
        "recovered for the same stored record is not recovered again (a bundle that "
        f"differs in any byte is: {_num(steps.get('eip712_recovery'))} µs more): what "
        "remains is canonicalising and digesting each event, its proof and the chain "
        "checks, in Python under one GIL; the strict parse and validation of a "
        "1,000-bundle body (about 2.5 MB) and the response's serialisation come on top. "
        "50k/s needs 20 µs per record all included on two cores: a native verifier"
        if per
        else "per-record costs not measured"
    )
    out.append(
        _target(
            "verify_api",
            "batch verification through POST /v1/verify (bundles)",
            VERIFY_GOAL,
            "records/s",
            verify.get("records_per_s"),
            f"embedded, {verify.get('per_request')} bundles per request, "
            f"{_clients(verify.get('clients') or 0)}"
            if verify
            else "not measured",
            bound,
            True,
        )
    )

    lat = next((r for r in run.get("latency") or [] if r["clients"] == LATENCY_CLIENTS), None)
    one = service.get("verify_one_bundle_ms")
    rps = lat.get("requests_per_s") if lat else None
    bound = (
        f"{shared}; a closed loop of {LATENCY_CLIENTS} clients queues: latency ≈ "
        f"clients ÷ throughput = {LATENCY_CLIENTS} ÷ {_num(rps)} req/s = "
        f"{_num(LATENCY_CLIENTS / rps * 1000 if rps else None)} ms on average. The "
        f"verification itself is {_num(one)} ms of it (in-process); the rest is the HTTP "
        "stack (uvicorn, Starlette middleware, pydantic, the thread pool hop) and the "
        "32 clients themselves on the same cores. p99 ≤ 20 ms at 32 clients needs "
        "≥ 1,600 requests/s: about 0.6 ms of CPU per request all included"
        if rps
        else "not measured"
    )
    out.append(
        _target(
            "latency_p99",
            f"single-bundle verification p99 at {LATENCY_CLIENTS} clients",
            LATENCY_GOAL_MS,
            "ms",
            lat.get("p99_ms") if lat else None,
            f"embedded, {lat['count']:,} requests" if lat else "not measured",
            bound,
            False,
        )
    )

    sdk = run.get("verify_sdk") or {}
    rec = steps.get("eip712_recovery")
    bound = (
        "the SDK verifies in the client's own process, on the cores the node also uses "
        f"here: per record it recovers the EIP-712 signature ({_num(rec)} µs; an "
        "independent verifier trusts no stored verdict), canonicalises the event "
        f"(RFC 8785, {_num(steps.get('jcs'))} µs), digests it, hashes the leaf and "
        "follows the proof, and it reads each root, lot and producer over JSON-RPC once "
        "per batch"
        if rec
        else "per-record costs not measured"
    )
    out.append(
        _target(
            "sdk_verify",
            "SDK independent verification (`verify_bundles`)",
            SDK_GOAL,
            "records/s",
            sdk.get("records_per_s"),
            f"embedded, {sdk.get('per_call')} bundles per call, via {sdk.get('rpc')}"
            if sdk
            else "not measured",
            bound,
            True,
        )
    )

    tree = (results.get("e2e") or {}).get("tree_hex") or {}
    rate = tree.get("leaves_per_s")
    kec = steps.get("keccak64")
    bound = (
        f"{_num(1e6 / rate)} µs per leaf against {KECCAKS_PER_LEAF} raw keccak-256 calls "
        f"of {_num(kec)} µs: the rest is decoding two 0x-hex values per leaf, sorting the "
        "leaves and the tree's own bookkeeping (the value lookup kept for proofs)"
        if rate and kec
        else "per-leaf costs not measured"
    )
    size = tree.get("size")
    out.append(
        _target(
            "tree_hex",
            "tree build through the public API, hex values (`StandardMerkleTree.of`)",
            TREE_HEX_GOAL,
            "leaves/s",
            rate,
            f"{size:,} leaves"
            + ("" if size >= TREE_HEX_SIZE else f" (not {TREE_HEX_SIZE:,})")
            + f", best of {tree.get('rounds')}, a fresh process"
            if rate and size
            else f"not measured: {tree.get('error')}"
            if tree.get("error")
            else "not measured",
            bound,
            True,
        )
    )
    _add_limits(out, limits_of(results))

    anchoring = run.get("anchoring") or {}
    epoch = anchoring.get("epoch_seconds")
    bound = (
        f"a record waits for its epoch to close (every {epoch} s), then for the seal (tree "
        "and proofs stored) and the anchor transaction; status is polled every "
        f"{anchoring.get('poll_interval_s')} s"
    )
    out.append(
        _target(
            "ack_to_anchored",
            "acknowledgement to anchored, p95 (embedded default)",
            ANCHOR_P95_GOAL_S,
            "s",
            anchoring.get("p95_s"),
            f"embedded, {anchoring.get('offered_records_per_s')} records/s offered"
            if anchoring
            else "not measured",
            bound,
            False,
        )
    )

    chain = results.get("chain") or {}
    rows = (chain.get("embedded") or {}).get("anchor_per_record") or (chain.get("anvil") or {}).get(
        "anchor_per_record"
    )
    row = next((r for r in rows or [] if r["records"] == GAS_EPOCH), None)
    out.append(
        _target(
            "anchor_gas",
            f"anchoring gas per record at epochs of {GAS_EPOCH:,}",
            GAS_GOAL,
            "gas",
            row["gas_per_record"] if row else None,
            "embedded chain receipts"
            if chain.get("embedded", {}).get("anchor_per_record")
            else "anvil",
            "one anchor transaction per epoch, whatever its size",
            False,
        )
    )
    out += page_targets(results)
    return out


def limits_of(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The machine's limit per issue-17 path, from this run's floor and proof lengths."""
    floor = _floor(results)
    if not floor:
        return {}
    run = _chain(results, "embedded")
    reads = run.get("bundle_reads") or {}
    cores = floor.get("cores") or (results.get("machine") or {}).get("usable_cores")
    return machine_limits(floor, cores, reads.get("mean_proof_length"), _latency_clients(run))


def _latency_clients(run: dict[str, Any]) -> int:
    """32 clients, or the most a (quick) run measured when it did not measure 32."""
    measured = {r["clients"] for r in run.get("latency") or []}
    return LATENCY_CLIENTS if LATENCY_CLIENTS in measured or not measured else max(measured)


def _add_limits(targets: list[dict[str, Any]], limits: dict[str, dict[str, Any]]) -> None:
    """Say each missed issue-17 target's machine limit beside what bounds it."""
    for t in targets:
        limit = limits.get(t["id"])
        if not limit or t["met"] is not False or limit["value"] is None:
            continue
        t["bound"] += (
            f". This machine's limit for the path is {_num(limit['value'])} {limit['unit']} "
            f"({limit['formula']}: {limit['computed']})"
        )


def _ratio(previous: float | None, now: float | None, at_least: bool) -> float | None:
    """How many times better ``now`` is (rates: now ÷ previous; latencies: previous ÷ now)."""
    if not previous or not now:
        return None
    return now / previous if at_least else previous / now


def _run_figures(run: dict[str, Any], tree: dict[str, Any], clients: int) -> dict[str, Any]:
    """The five issue-17 figures of one e2e run (current or baseline), with where."""
    best = max(run.get("ingest") or [], key=lambda r: r["records_per_s"], default=None)
    verify = run.get("verify_api_bundles") or {}
    lat = next((r for r in run.get("latency") or [] if r["clients"] == clients), None)
    sdk = run.get("verify_sdk") or {}
    return {
        "ingestion": (
            best["records_per_s"] if best else None,
            f"batches of {best['batch_size']:,}" if best else "",
        ),
        "verify_api": (
            verify.get("records_per_s"),
            f"{verify['per_request']:,} bundles per request" if verify else "",
        ),
        "latency_p99": (
            lat.get("p99_ms") if lat else None,
            f"{lat['count']:,} requests" if lat else "",
        ),
        "sdk_verify": (
            sdk.get("records_per_s"),
            f"{sdk['per_call']:,} bundles per call" if sdk else "",
        ),
        "tree_hex": (
            tree.get("leaves_per_s"),
            f"{tree['size']:,} leaves" if tree.get("leaves_per_s") else "",
        ),
    }


ISSUE17 = (
    ("ingestion", "ingestion, batch endpoint", "records/s", True, INGEST_GOAL),
    ("verify_api", "`POST /v1/verify`, bundles", "records/s", True, VERIFY_GOAL),
    ("latency_p99", "single-bundle verify p99", "ms", False, LATENCY_GOAL_MS),
    ("sdk_verify", "SDK independent verification", "records/s", True, SDK_GOAL),
    ("tree_hex", "tree build, public API, hex values", "leaves/s", True, TREE_HEX_GOAL),
)


def issue17(results: dict[str, Any]) -> dict[str, Any]:
    """Issue 17's five figures: the previous release in this run, now, target, limit."""
    data = results.get("e2e") or {}
    base = data.get("baseline") or {}
    run = _chain(results, "embedded")
    clients = _latency_clients(run)
    quick = bool((results.get("config") or {}).get("quick"))
    now = _run_figures(run, data.get("tree_hex") or {}, clients)
    old_run = base.get("e2e") or {}
    old = _run_figures(old_run, base.get("tree_hex") or {}, clients)
    limits = limits_of(results)
    why_old = base.get("error") or (
        f"stopped: {old_run['error']}" if old_run.get("error") else None
    )
    if not base:
        why_old = "not run (the baseline phase is off: `--baseline` turns it on)"
    rows = []
    for key, label, unit, at_least, goal in ISSUE17:
        value, where = now[key]
        previous, previous_where = old[key]
        limit = limits.get(key) or {}
        reason = why_old
        if previous is None and reason is None:
            reason = _phase_error(key, old_run, base, clients) or "not measured in this run"
        met = None if value is None else (value >= goal if at_least else value <= goal)
        lim = limit.get("value")
        reached = None
        if lim and value:
            reached = value / lim if at_least else lim / value
        rows.append(
            {
                "id": key,
                "label": label + (f" at {clients} clients" if key == "latency_p99" else ""),
                "unit": unit,
                "at_least": at_least,
                "previous": previous,
                "previous_where": previous_where,
                "previous_missing": None if previous is not None else reason,
                "recorded": None if quick else RECORDED.get(key),
                "now": value,
                "now_where": where,
                "ratio": _ratio(previous, value, at_least),
                "target": goal,
                "met": met,
                "limit": lim,
                "limit_formula": limit.get("formula"),
                "limit_computed": limit.get("computed"),
                "share_of_limit": reached,
            }
        )
    return {
        "commit": base.get("commit") or BASELINE_COMMIT,
        "sha": base.get("sha"),
        "accelerator": base.get("accelerator"),
        "baseline_error": why_old,
        "baseline_errors": old_run.get("errors") or {},
        "tree_roots_match": _roots_match(data.get("tree_hex"), base.get("tree_hex")),
        "cores": next(iter(limits.values()), {}).get("cores"),
        "limits": limits,
        "figures": rows,
    }


PHASES = {"verify_api": "verify bundles", "sdk_verify": "SDK verify"}


def _phase_error(key: str, run: dict[str, Any], base: dict[str, Any], clients: int) -> str | None:
    """Why one baseline figure is missing, from the phase that failed."""
    if key == "tree_hex":
        return (base.get("tree_hex") or {}).get("error")
    errors = run.get("errors") or {}
    if key == "ingestion":
        failed = [v for k, v in errors.items() if k.startswith("ingest ")]
        return failed[0] if failed else None
    return errors.get(PHASES.get(key) or f"latency {clients}")


def _roots_match(now: dict[str, Any] | None, old: dict[str, Any] | None) -> bool | None:
    if not now or not old or not now.get("root") or not old.get("root"):
        return None
    return bool(now["root"] == old["root"] and now.get("size") == old.get("size"))


def page_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 19's budget for the consumer page of a 1,000-event lot."""
    coop = ((results.get("page") or {}).get("lots") or {}).get("coop")
    if not coop:
        return []
    where = f"cooperative lot, {coop['events']:,} events, in-process"
    html_kb = coop["html_bytes"] / 1024
    fcp = coop.get("fcp_ms")
    return [
        _target(
            "page_html",
            "consumer page HTML, 1,000-event lot",
            150,
            "KB",
            round(html_kb, 1),
            where,
            "the summary, one page of events per stage and the compact map",
            False,
        ),
        _target(
            "page_server",
            "consumer page server time, 1,000-event lot",
            100,
            "ms",
            coop["server_ms"],
            where,
            f"reading the lot ({coop['provenance_ms']} ms) and verifying every record "
            f"({coop['verify_ms']} ms) on each request",
            False,
        ),
        _target(
            "page_fcp",
            "first contentful paint, slow 4G and CPU/4, 1,000-event lot",
            1500,
            "ms",
            fcp,
            "headless Chromium over loopback" if fcp is not None else "Chromium not run",
            "the server time plus 150 ms of latency per round trip",
            False,
        ),
    ]


# -- Markdown -------------------------------------------------------------------------


def _table(head: list[str], rows: list[list[str]], align: str | None = None) -> list[str]:
    spec = align or "|" + "---|" * len(head)
    return ["| " + " | ".join(head) + " |", spec, *("| " + " | ".join(r) + " |" for r in rows)]


def targets_section(targets: list[dict[str, Any]]) -> list[str]:
    rows = [
        [t["label"], t["goal"], f"{_num(t['measured'])} {t['unit']}", t["verdict"], t["where"]]
        for t in targets
    ]
    out = _table(["target", "goal", "measured", "status", "where"], rows)
    missed = [t for t in targets if t["met"] is False]
    if missed:
        out += ["", "What bounds the missed targets:", ""]
        out += [f"- **{t['label']}**: {t['bound']}." for t in missed]
    out += [
        "",
        "One worker process against one per core (`vntrace serve --workers`), side by side "
        "in one run: [docs/benchmarks/workers/workers.md](docs/benchmarks/workers/workers.md) "
        "(`scripts/bench_workers.py`).",
    ]
    return out


def _with_unit(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{_num(value)} {unit}"


def issue17_section(data: dict[str, Any]) -> list[str]:
    """The five figures against the previous release re-measured here and the limits."""
    commit = data.get("commit") or BASELINE_COMMIT
    rows = []
    for r in data.get("figures") or []:
        unit = r["unit"]
        if r["previous"] is not None:
            previous = f"{_with_unit(r['previous'], unit)} ({r['previous_where']})"
        else:
            previous = "not measured"
        if r.get("recorded") is not None:
            previous += f"; recorded {_num(r['recorded'])}"
        ratio = "—" if r["ratio"] is None else f"**{r['ratio']:.2f}x**"
        mark = "" if r["met"] is None else (" met" if r["met"] else " **missed**")
        target = f"{'≥' if r['at_least'] else '≤'} {_with_unit(r['target'], unit)}{mark}"
        limit = _with_unit(r["limit"], unit)
        if r.get("share_of_limit") is not None:
            limit += f" ({r['share_of_limit']:.0%} reached)"
        now = _with_unit(r["now"], unit) + (f" ({r['now_where']})" if r["now_where"] else "")
        rows.append([r["label"], previous, now, ratio, target, limit])
    out = _table(
        [
            "figure",
            f"previous release ({commit}), this run",
            "now",
            "ratio",
            "target",
            "machine limit",
        ],
        rows,
    )
    out += [
        "",
        "Ratio: how many times better now is than the previous release measured in this "
        "run (rates: now ÷ previous; latency: previous ÷ now). *Recorded*: the figure the "
        f"previous release published from a full run on another day (BENCHMARKS.md at "
        f"{commit}; the tree: issue 17), left out of quick runs, whose sizes differ. "
        "*Reached*: the share of the machine's limit the figure attains.",
        "",
    ]
    reason = data.get("baseline_error")
    if reason:
        out += [f"The previous release was not measured in full: {reason}.", ""]
    else:
        out += [
            f"The previous release is commit {commit} (`{str(data.get('sha'))[:12]}`), "
            "extracted with `git archive` into a cache and imported through `PYTHONPATH` "
            "under this venv's libraries; its C Merkle accelerator: "
            f"{data.get('accelerator')}. Its `vntrace serve` ran as one process (it has "
            "no `--workers`) with this run's settings and was driven by this run's load "
            "generator; its SDK and its tree build ran in a subprocess on its own code.",
            "",
        ]
    for phase, error in (data.get("baseline_errors") or {}).items():
        out.append(f"- Previous release, phase *{phase}* failed: `{error[:300]}`")
    match = data.get("tree_roots_match")
    if match is not None:
        out += [
            "The two tree builds gave "
            + ("the same root" if match else "**different roots**")
            + " from the same seeded values.",
            "",
        ]
    limits = data.get("limits") or {}
    if limits:
        out += [
            f"Machine limits, from this run's per-record costs in one process "
            f"(below) on {data.get('cores')} usable cores:",
            "",
        ]
        labels = {key: label for key, label, *_ in ISSUE17}
        for key, limit in limits.items():
            out.append(
                f"- {labels.get(key, key)}: {limit['formula']}; here {limit['computed']} = "
                f"**{_with_unit(limit['value'], limit['unit'])}**."
            )
        out.append("")
    return out


def machine_section(results: dict[str, Any]) -> list[str]:
    m = results.get("machine") or {}
    load = m.get("load_average")
    end = results.get("load_average_end")
    ram = m.get("memory_bytes")
    libs = ", ".join(f"{k} {v}" for k, v in (m.get("libraries") or {}).items() if v)
    return [
        f"- CPU: {m.get('cpu')}, {m.get('cores')} cores ({m.get('usable_cores')} usable)"
        + (f", {ram / 2**30:.1f} GiB RAM" if ram else ""),
        f"- Python {m.get('python')} ({m.get('implementation')}), {m.get('platform')}",
        f"- Node.js {m.get('node') or 'not found'}; anvil: {results.get('anvil') or 'not found'}",
        f"- Libraries: {libs}",
        f"- Date: {m.get('date')}; run took {results.get('elapsed_seconds', 0) / 60:.1f} min",
        "- Load average at start (1/5/15 min): "
        + (", ".join(f"{x:.2f}" for x in load) if load else "unknown")
        + ("; at the end: " + ", ".join(f"{x:.2f}" for x in end) if end else ""),
        "- **The machine is shared** with other work (see the load average): figures move by "
        "tens of percent between runs. End-to-end rates and latencies cover whole phases; "
        "the proof engine's rates are the best of several rounds.",
    ]


def _clients(n: int) -> str:
    return f"{n} client" + ("" if n == 1 else "s")


def _fmt_ms(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    return "—" if value is None else f"{value:.1f}"


def e2e_section(results: dict[str, Any]) -> list[str]:
    chains = (results.get("e2e") or {}).get("chains") or {}
    out: list[str] = []
    for chain in CHAINS:
        run = chains.get(chain)
        if run is None:
            continue
        title = "embedded chain (py-evm, the default)" if chain == "embedded" else "anvil"
        out += [f"### {title}", ""]
        if run.get("skipped"):
            out += [f"Skipped: {run['skipped']}.", ""]
            continue
        if run.get("error"):
            out += [f"Stopped: `{run['error']}`; figures below are partial.", ""]
        for phase, error in (run.get("errors") or {}).items():
            out += [f"- Phase *{phase}* failed: `{error[:300]}`"]
        if run.get("errors"):
            out.append("")
        node = run.get("node") or {}
        out += [
            f"`vntrace serve` (uvicorn, {node.get('workers') or 1} worker process(es), SQLite "
            "WAL, rate limit off), epochs every "
            f"{node.get('epoch_seconds')} s or 10,000 records; started in "
            f"{_num(node.get('startup_s'))} s"
            + (f", {node['anvil']}" if node.get("anvil") else "")
            + ".",
            "",
            "**Ingestion** (pre-signed events, `POST /v1/lots/{gtin}/{lot}/events`, one "
            "producer and lot per client, an `Idempotency-Key` per request as the SDK sends):",
            "",
        ]
        rows = [
            [
                f"{r['batch_size']:,}",
                str(r["clients"]),
                f"{r['records']:,}",
                f"{r['seconds']:.1f}",
                f"**{_num(r['records_per_s'])}**",
                _fmt_ms(r["request_latency"], "p50_ms"),
                _fmt_ms(r["request_latency"], "p95_ms"),
            ]
            for r in run.get("ingest") or []
        ]
        out += _table(
            ["batch size", "clients", "records", "s", "records/s", "request p50 ms", "p95 ms"],
            rows,
        )
        out += ["", "**Reading and verifying** (anchored records, sampled across lots):", ""]
        rows = []
        for key, label in (
            ("bundle_reads", "`GET /v1/records/{id}/bundle`"),
            ("verify_api_bundles", "`POST /v1/verify` with bundles"),
            ("verify_api_ids", "`POST /v1/verify` with record ids"),
            ("verify_sdk", "SDK `verify_bundles` (independent, this process)"),
        ):
            r = run.get(key) or {}
            if not r:
                continue
            per = r.get("per_request") or r.get("per_call") or 1
            lat = r.get("request_latency") or {}
            who = _clients(r["clients"]) if "clients" in r else f"via {r.get('rpc')}"
            rows.append(
                [
                    label,
                    f"{per:,}",
                    who,
                    f"{r['records']:,}",
                    f"**{_num(r['records_per_s'])}**",
                    _fmt_ms(lat, "p50_ms"),
                ]
            )
        out += _table(
            ["path", "items per request", "concurrency", "records", "records/s", "request p50 ms"],
            rows,
        )
        out += ["", "**Single-bundle verification latency** (`POST /v1/verify`, one bundle):", ""]
        rows = [
            [
                str(r["clients"]),
                f"{r.get('count', 0):,}",
                _num(r.get("requests_per_s")),
                _fmt_ms(r, "p50_ms"),
                _fmt_ms(r, "p95_ms"),
                f"**{_fmt_ms(r, 'p99_ms')}**",
                _fmt_ms(r, "max_ms"),
            ]
            for r in run.get("latency") or []
        ]
        out += _table(
            ["clients", "requests", "requests/s", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows
        )
        a = run.get("anchoring") or {}
        if a:
            out += [
                "",
                f"**Acknowledgement to anchored** at a steady {a['offered_records_per_s']} "
                f"records/s (batches of {a['batch_size']}, {a['records']:,} records over "
                f"{a['seconds']:.0f} s, status polled every {a['poll_interval_s']} s): "
                f"p50 **{a['p50_s']:.2f} s**, p95 **{a['p95_s']:.2f} s**, max "
                f"{a['max_s']:.2f} s (epochs every {a['epoch_seconds']} s).",
            ]
        out.append("")
    return out


def floor_section(results: dict[str, Any]) -> list[str]:
    floor = _floor(results)
    if not floor:
        return ["Not measured.", ""]
    steps, service = floor["steps_us"], floor["service"]
    labels = {
        "eip712_recovery": "EIP-712 signature recovery (coincurve)",
        "profile_validation": "profile validation of one event",
        "jcs": "RFC 8785 canonical JSON of one event",
        "batch_receipt": "intake receipt per record of a request (JCS leaf, proof, 1 signature)",
        "strict_json_parse": "strict JSON parse, per event of a batch body",
        "digest": "record digest, keccak-256 of salt and canonical event",
        "leaf": "record leaf, keccak-256 twice of (lot key, digest)",
        "proof_node": "following a proof, per 0x-hex node (parse and hash)",
        "keccak64": "raw keccak-256 of 64 bytes (sha3.keccak_256)",
    }
    rows = [
        [label, f"{steps[k]:.1f} µs" if steps[k] >= 1 else f"{steps[k]:.3g} µs"]
        for k, label in labels.items()
        if k in steps
    ]
    rows += [
        [
            "`TraceNode.submit`, per record of a batch of "
            f"{floor['batch']} (all of intake, SQLite insert included)",
            f"**{service['submit_per_record']:.0f} µs**",
        ],
        [
            "one SQLite write transaction (commit, synchronous=FULL)",
            f"{service['write_transaction_ms']:.2f} ms",
        ],
        ["`TraceNode.bundle` (one record's proof bundle)", f"{service['bundle_ms']:.2f} ms"],
        [
            "`verify_bundles`, per record of a batch",
            f"**{service['verify_bundles_per_record']:.0f} µs**",
        ],
        ["`verify_bundles` of one bundle", f"{service['verify_one_bundle_ms']:.2f} ms"],
        ["`verify_records`, per record id", f"{service['verify_records_per_record']:.0f} µs"],
    ]
    return [
        "The node's own code, in one process without HTTP (best of "
        f"{floor['rounds']} rounds): what one node process can reach at most.",
        "",
        *_table(["step", "cost"], rows),
        "",
    ]


def gas_section(results: dict[str, Any]) -> list[str]:
    chain = results.get("chain") or {}
    anvil, embedded = chain.get("anvil") or {}, chain.get("embedded") or {}
    out: list[str] = []
    for label, data in (("anvil", anvil), ("embedded chain", embedded)):
        if data.get("error") or data.get("skipped"):
            out += [f"{label}: {data.get('error') or data.get('skipped')}", ""]
    rows_a = {r["records"]: r for r in anvil.get("anchor_per_record") or []}
    rows_e = {r["records"]: r for r in embedded.get("anchor_per_record") or []}
    if rows_a or rows_e:
        out += [
            "**Anchoring** (`anchor(root, epoch, count)`, one per epoch; gasUsed from receipts):",
            "",
        ]
        rows = []
        for n in sorted(set(rows_a) | set(rows_e)):
            a, e = rows_a.get(n), rows_e.get(n)
            rows.append(
                [
                    f"{n:,}",
                    f"{a['anchor_gas']:,}" if a else "—",
                    f"**{a['gas_per_record']:,.2f}**" if a else "—",
                    f"{e['anchor_gas']:,}" if e else "—",
                    f"**{e['gas_per_record']:,.2f}**" if e else "—",
                ]
            )
        out += _table(
            ["records in epoch", "anvil gas", "gas/record", "embedded gas", "gas/record"], rows
        )
        out.append("")
    txs = anvil.get("transactions") or {}
    if txs:
        out += ["**Other transactions** (anvil):", ""]
        extra = (embedded.get("transactions") or {}).get("deploy")
        out += _table(["transaction", "gas"], [[name, f"{gas:,}"] for name, gas in txs.items()])
        if extra:
            out += ["", f"Deployment on the embedded chain: {extra:,} gas."]
        out.append("")
    single = anvil.get("verify_proof") or []
    if single:
        out += [
            "**Gas per verified leaf, single proofs** (`verifyProof`; execution gas is what an "
            "on-chain caller pays inside its transaction, the estimate a standalone "
            "transaction with intrinsic gas and the EIP-7623 calldata floor; free via "
            "`eth_call`):",
            "",
        ]
        out += _table(
            ["depth", "tree leaves", "execution gas / leaf", "eth_estimateGas", "calldata bytes"],
            [
                [
                    str(r["depth"]),
                    f"{r['tree_leaves']:,}",
                    f"{r['execution_gas']:,}",
                    f"{r['estimate_gas']:,}",
                    f"{r['calldata_bytes']:,}",
                ]
                for r in single
            ],
        )
        out.append("")
    multi = anvil.get("verify_multiproof") or []
    if multi:
        out += [
            "**Gas per verified leaf, multiproofs** (`verifyMultiProof`; contiguous = adjacent "
            "leaves, one lot's records in a node-built tree; scattered = spread over the tree):",
            "",
        ]
        out += _table(
            [
                "tree leaves",
                "leaves",
                "layout",
                "proof nodes",
                "execution gas",
                "exec / leaf",
                "as single proofs",
                "estimate / leaf",
            ],
            [
                [
                    f"{r['tree_leaves']:,}",
                    str(r["leaves"]),
                    r["layout"],
                    str(r["proof_len"]),
                    f"{r['execution_gas']:,}",
                    f"**{r['execution_per_leaf']:,.0f}**",
                    f"{r['single_proofs_execution'] / r['leaves']:,.0f}",
                    f"{r['estimate_per_leaf']:,.0f}",
                ]
                for r in multi
            ],
        )
        meta = anvil.get("meta") or {}
        out += [
            "",
            f"Contract: solc {meta.get('solc')}, optimizer {meta.get('optimizer')}, runtime "
            f"{meta.get('runtime_bytes')} bytes; {meta.get('anvil')}, hardfork "
            f"{meta.get('hardfork')}.",
            "",
        ]
    return out


def proofs_section(results: dict[str, Any]) -> list[str]:
    proofs = results.get("proofs")
    if not proofs:
        return ["Not run.", ""]
    cfg = proofs["config"]
    lines = [
        f"`vntrace bench proofs` ({'quick' if cfg['quick'] else 'full'}, "
        f"{cfg['passes']} pass(es)), sizes {', '.join(f'{n:,}' for n in cfg['sizes'])}; "
        f"peers up to {cfg['peer_max_size']:,} leaves. Its own report: "
        "`results/bench/proofs/report.md`.",
        "",
        *proof_report.machine_lines(proofs)[3:],
        "",
        proof_report.targets_table(proofs["targets"]),
        "",
        proof_report.results_table(proofs),
        "",
    ]
    return lines


NOTES = [
    "Every end-to-end figure comes from a real `vntrace serve` process (uvicorn, one "
    "worker, SQLite in WAL mode with synchronous=FULL, the anchoring loop running) and "
    "a client in another process on the same two cores. Events are signed before the "
    "clock starts. Rates count only acknowledged records (HTTP 201) and verified "
    "verdicts.",
    "Rate limiting is off (`VNTRACE_RATE_LIMIT_PER_SECOND=0`); everything else is the "
    "node's default, epochs included (2 s or 10,000 records).",
    "Bundles are sampled at random from all ingested records, so a batch of bundles "
    "spans many lots and epochs; the node's `/v1/verify` checks each root, lot and "
    "producer against registry state kept current from chain events.",
    "The SDK's independent verification (`vntrace.client.verify_bundles`) re-checks "
    "everything in the benchmark process and reads the registry over JSON-RPC (the "
    "node's `/rpc` on the embedded chain, anvil directly on anvil).",
    "Latency runs are closed loops: each client sends its next request when the previous "
    "one is answered, after three untimed warm-up requests.",
    "Acknowledgement to anchored: requests are sent on a fixed schedule (open loop) at "
    "a quarter of the best ingestion rate; a poller reads the oldest unanchored batch's "
    "status every 100 ms, so times carry up to 0.1 s of polling resolution.",
    "Gas: anvil (Prague) measures receipts, struct-log traces (`debug_traceCall`) and "
    "`eth_estimateGas`; the embedded chain's receipts measure anchors on py-evm.",
]


def page_section(page: dict[str, Any]) -> list[str]:
    from .page import markdown

    throttled = page.get("throttling")
    fcp = (
        "FCP: first contentful paint in Debian's Chromium over loopback, 390 px viewport, "
        "slow 4G (150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up) and the CPU slowed 4x, "
        "median of 3 after a warm-up load."
        if throttled
        else "FCP not measured in this run (no Chromium/Playwright, or a quick run)."
    )
    return [
        "A fresh embedded node holds the demo lot and a cooperative lot (995 harvest "
        "plots, a third of them 16-corner polygons, plus drying to shipping), anchored; "
        "the page is read in-process (ASGI, no socket), median of "
        f"{page.get('rounds')} after a warm-up. The page verifies every record of the "
        "lot on every request, with one multiproof per epoch; the record-by-record path "
        "it replaced is measured beside it. Build: with the memo of what the events alone "
        f"determine (EUDR summary, map), cold in brackets. {fcp} Also runnable alone: "
        "`python -m vntrace.node.bench.page --browser` (docs/page.md).",
        "",
        *markdown(page).rstrip("\n").split("\n"),
        "",
    ]


def render(results: dict[str, Any], images: str | None = None) -> str:
    """The suite's Markdown report; ``images`` is the folder the PNGs are linked from
    (relative to the report), or None to leave them out."""
    quick = results.get("config", {}).get("quick")
    lines = [
        "# vntrace benchmarks",
        "",
        f"Generated by `vntrace bench` ({'quick' if quick else 'full'} run) on "
        f"{(results.get('machine') or {}).get('date')}. Re-run it to refresh this file; the "
        "fixes made from profiling before publishing are in "
        "[docs/benchmarks.md](docs/benchmarks.md).",
        "",
        "## Machine",
        "",
        *machine_section(results),
        "",
        "## Targets",
        "",
        *targets_section(results.get("targets") or []),
        "",
    ]
    if results.get("issue17"):
        lines += ["## Issue 17 figures", "", *issue17_section(results["issue17"])]
    if results.get("e2e"):
        lines += ["## End to end over HTTP", "", *e2e_section(results)]
        lines += ["## Per-record costs in one process", "", *floor_section(results)]
    if results.get("chain"):
        lines += ["## On chain: gas", "", *gas_section(results)]
    if results.get("proofs"):
        lines += ["## Proof engine and its peers", "", *proofs_section(results)]
    if results.get("page"):
        lines += ["## Consumer page", "", *page_section(results["page"])]
    plots = results.get("plots") or {}
    if images is not None and plots:
        titles = {
            "proof_growth.png": "Proof size, verification time and gas against tree size",
            "ingestion.png": "Ingestion against batch size",
            "latency.png": "Single-bundle verification latency against concurrency",
            "gas.png": "Anchor gas per record and gas per verified leaf",
        }
        lines += ["## How each cost grows", ""]
        for name in plots:
            lines += [f"![{titles.get(name, name)}]({images.rstrip('/')}/{name})", ""]
    skipped = results.get("skipped") or {}
    lines += ["## How it was measured", "", *(f"- {n}" for n in NOTES)]
    lines += [f"- Suite `{k}` was skipped: {v}." for k, v in skipped.items()]
    lines.append("")
    return "\n".join(lines)
