"""An accessibility audit of a Playwright page with axe-core (issue 19).

axe-core comes from npm (``package.json``'s devDependencies, ``npm ci`` in CI) and is
read from ``node_modules/axe-core/axe.min.js``. The pages' Content-Security-Policy
(``script-src 'self'``) refuses an inline ``<script>``, so the file is evaluated
through the DevTools protocol, which a page's CSP does not govern; the page itself
is audited as served. A missing axe-core fails the test: it is never skipped.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AUDIT_OUTPUT = ROOT / "test-output" / "pages" / "axe"
# WCAG 2.0 and 2.1, levels A and AA, plus Deque's best practices.
RULE_SETS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = ("serious", "critical")


class AxeMissing(AssertionError):
    """axe-core is not installed: the audit cannot run, so the test must fail."""


@cache
def axe_source(path: Path = AXE_JS) -> str:
    if not path.is_file():
        raise AxeMissing(
            f"axe-core is not installed ({path} is missing): run `npm ci` in {ROOT} "
            "(package.json pins it in devDependencies)"
        )
    return path.read_text(encoding="utf-8")


def axe_version() -> str:
    meta = json.loads((AXE_JS.parent / "package.json").read_text(encoding="utf-8"))
    return str(meta["version"])


def run_axe(page: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """axe's violations of ``page`` under :data:`RULE_SETS`, and its unsure contrast checks.

    The second list holds the ``color-contrast`` nodes axe could not decide (text over
    an overlapping element, say) outside SVG: in HTML they mean a layout that hides
    the background, so they count as findings. SVG map labels are always undecided
    (axe does not compute SVG backgrounds); they are dark text with a white halo.
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        # `(0, eval)` evaluates globally, so axe's UMD wrapper defines window.axe.
        page.evaluate("source => { (0, eval)(source); }", axe_source())
    result = page.evaluate(
        """rules => axe.run(document, {
            runOnly: {type: 'tag', values: rules},
            resultTypes: ['violations', 'incomplete'],
        })""",
        RULE_SETS,
    )
    unsure = []
    for item in result["incomplete"]:
        if item["id"] != "color-contrast":
            continue
        nodes = [n for n in item["nodes"] if not n["html"].lstrip().startswith("<text")]
        if nodes:
            unsure.append(dict(item, nodes=nodes, impact=item["impact"] or "serious"))
    return list(result["violations"]), unsure


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation, then each offending node's selector and axe's summary."""
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:8]:
            target = " ".join(str(t) for t in node["target"])
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {target}: {summary[:240]}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more nodes")
    return "\n".join(lines)


def assert_accessible(page: Any, name: str) -> list[dict[str, Any]]:
    """Fail on any serious or critical violation; keep the full report for reading.

    The report (every violation, any impact) is written to
    ``test-output/pages/axe/{name}.json``; minor and moderate findings are returned.
    """
    violations, unsure = run_axe(page)
    AUDIT_OUTPUT.mkdir(parents=True, exist_ok=True)
    report = {
        "url": page.url,
        "axe": axe_version(),
        "rules": RULE_SETS,
        "violations": violations,
        "undecided_contrast": unsure,
    }
    (AUDIT_OUTPUT / f"{name}.json").write_text(
        json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING] + unsure
    assert not blocking, (
        f"axe-core {axe_version()} found {len(blocking)} serious or critical accessibility "
        f"violation(s) on {page.url}:\n{describe(blocking)}"
    )
    return [v for v in violations if v["impact"] not in BLOCKING]
