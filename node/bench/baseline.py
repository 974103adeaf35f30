"""The previous release (``ce9720f``), materialised and re-measured in the same run.

Issue 17 asks for every figure it sets a target on to be reported against the figure
of the release before it, measured *in the same run* on the same machine: a recorded
figure from another day says little on a shared machine whose load moves figures by
tens of percent. So the old code is brought back whole and run beside the new:

1. :func:`materialise` extracts the commit's tree (``git archive``, from the repository
   this code runs from) into a cache folder and lays it out as ``vntrace.*`` the way the
   commit's own ``setup.py`` maps its top-level folders (``node/`` onto ``vntrace.node``
   and so on), so that ``PYTHONPATH=<cache>/pkg`` makes ``import vntrace`` the old code
   under this venv's libraries. Its C Merkle accelerator is the installed one, copied,
   when ``node/merkle/_accel.c`` is byte-identical between the commit and this tree;
   otherwise it is built by the commit's own ``setup.py`` (``build_ext --inplace``, its
   compiler flags). Without it the old tree code would be unfairly slow.
2. :func:`run_baseline` starts the old ``vntrace serve`` (one process: the old code has
   no ``--workers``) with the current run's settings and drives it with the *current*
   load generator (:mod:`.e2e`): ingestion, ``POST /v1/verify`` with bundles,
   single-bundle latency; then the old SDK's ``verify_bundles`` and the old
   ``StandardMerkleTree.of`` with hex values, each in a subprocess on the old path.

Whatever cannot be done (no git, no history, the commit absent, the old code not
importing or not serving under these libraries) is reported with the reason, never
raised: the rest of the benchmark goes on.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from . import e2e
from .procs import REPO_ROOT, ProcessError, ServeProcess

Say = Callable[[str], None]

BASELINE_COMMIT = "ce9720f"
"""The release before issue 17 (its BENCHMARKS.md holds the issue's "today" figures)."""

RECORDED: dict[str, float] = {
    "ingestion": 1_261.0,
    "verify_api": 2_907.0,
    "latency_p99": 359.0,
    "sdk_verify": 2_142.0,
    "tree_hex": 33_000.0,
}
"""The issue's "today" figures: BENCHMARKS.md at ce9720f (the tree: issue 17's text)."""

DEFAULT_FOLDERS: dict[str, str] = {
    "vntrace.node": "node",
    "vntrace.api": "api",
    "vntrace.client": "client",
    "vntrace.contracts": "contracts",
}
ACCEL_SOURCE = "node/merkle/_accel.c"
TREE_SIZE, QUICK_TREE_SIZE = 100_000, 20_000
TREE_ROUNDS, QUICK_TREE_ROUNDS = 3, 2
MARKER = "baseline.json"


class BaselineError(RuntimeError):
    """The baseline cannot be materialised or run; the message says why."""


@dataclass(frozen=True, slots=True)
class Baseline:
    """A materialised old release: its source tree and the folder for PYTHONPATH."""

    commit: str
    sha: str
    root: Path
    accelerator: str

    @property
    def source(self) -> Path:
        """The commit's tree as ``git archive`` gives it."""
        return self.root / "src"

    @property
    def python_path(self) -> Path:
        """The folder holding ``vntrace/`` (its subpackages link into :attr:`source`)."""
        return self.root / "pkg"

    def env(self) -> dict[str, str]:
        """What a subprocess needs to import the old code instead of this install."""
        return {"PYTHONPATH": str(self.python_path)}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["root"] = str(self.root)
        data["python_path"] = str(self.python_path)
        return data


# -- materialising ---------------------------------------------------------------------


def default_cache() -> Path:
    """``$XDG_CACHE_HOME/vntrace/bench-baseline`` (``~/.cache`` without it)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vntrace" / "bench-baseline"


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )


def find_repo(candidates: tuple[Path, ...] | None = None) -> Path | None:
    """The git work tree holding this code's source, else the one around the cwd."""
    if shutil.which("git") is None:
        return None
    for place in candidates or (REPO_ROOT, Path.cwd()):
        if not place.is_dir():
            continue
        found = _git(place, "rev-parse", "--show-toplevel")
        if found.returncode == 0 and found.stdout.strip():
            return Path(found.stdout.strip())
    return None


def resolve_commit(repo: Path, commit: str) -> str:
    """The full hash of ``commit`` in ``repo``, or :class:`BaselineError` saying why not."""
    found = _git(repo, "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}")
    if found.returncode != 0 or not found.stdout.strip():
        shallow = _git(repo, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
        raise BaselineError(
            f"commit {commit} is not in the history of {repo}"
            + (" (a shallow clone: git fetch --unshallow)" if shallow else "")
        )
    return found.stdout.strip()


def package_folders(setup_py: Path) -> dict[str, str]:
    """The ``FOLDERS`` mapping (package -> folder) of a ``setup.py``, read without running it."""
    try:
        tree = ast.parse(setup_py.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return dict(DEFAULT_FOLDERS)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "FOLDERS" for t in node.targets
        ):
            with contextlib.suppress(ValueError):
                value = ast.literal_eval(node.value)
                if isinstance(value, dict) and value:
                    return {str(k): str(v) for k, v in value.items()}
    return dict(DEFAULT_FOLDERS)


def _extract(repo: Path, sha: str, dest: Path) -> None:
    """``git archive sha | tar -x -C dest`` (tarfile's "data" filter: nothing outside dest)."""
    dest.mkdir(parents=True)
    with subprocess.Popen(
        ["git", "-C", str(repo), "archive", "--format=tar", sha],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                tar.extractall(dest, filter="data")
        except tarfile.TarError as exc:
            raise BaselineError(f"git archive {sha[:12]} gave no readable tar: {exc}") from exc
        err = proc.stderr.read().decode(errors="replace")
    if proc.returncode != 0:
        raise BaselineError(f"git archive {sha[:12]} failed: {err.strip()[:300]}")


def _layout(src: Path, pkg: Path, folders: Mapping[str, str]) -> None:
    """``pkg/vntrace/<sub>`` -> ``src/<folder>`` (relative links), and ``vntrace/__init__``.

    A regular ``vntrace`` package (not a namespace) wins over the editable install's
    finder and makes ``vntrace.__file__`` point into the cache, so it is clear which
    code ran."""
    top = pkg / "vntrace"
    top.mkdir(parents=True)
    for name, folder in folders.items():
        parts = name.split(".")
        if len(parts) != 2 or parts[0] != "vntrace" or not (src / folder).is_dir():
            raise BaselineError(f"setup.py maps {name!r} onto {folder!r}: not a vntrace folder")
        (top / parts[1]).symlink_to(Path("..", "..", "src", folder), target_is_directory=True)
    (top / "__init__.py").write_text(
        '"""vntrace at a previous commit, materialised by vntrace.node.bench.baseline."""\n',
        encoding="utf-8",
    )


def installed_accelerator() -> Path | None:
    """The C accelerator this install imports, if it was built."""
    try:
        spec = importlib.util.find_spec("vntrace.node.merkle._accel")
    except ImportError:
        return None
    if spec is None or not spec.origin or not Path(spec.origin).is_file():
        return None
    return Path(spec.origin)


def _accel_identical(repo: Path, sha: str, old_source: Path, so: Path) -> bool:
    """``_accel.c`` the same at ``sha``, at HEAD and beside the installed module."""
    here = so.with_name("_accel.c")
    if not here.is_file() or here.read_bytes() != old_source.read_bytes():
        return False
    old = _git(repo, "rev-parse", f"{sha}:{ACCEL_SOURCE}").stdout.strip()
    head = _git(repo, "rev-parse", f"HEAD:{ACCEL_SOURCE}").stdout.strip()
    return bool(old) and old == head


def _provide_accelerator(repo: Path, sha: str, src: Path, force_build: bool) -> str:
    """Copy the installed accelerator or build the commit's; says which it did."""
    old_source = src / ACCEL_SOURCE
    if not old_source.is_file():
        return "none: the commit has no C accelerator"
    so = installed_accelerator()
    if not force_build and so is not None and _accel_identical(repo, sha, old_source, so):
        shutil.copy2(so, old_source.with_name(so.name))
        return "copied from this install (_accel.c byte-identical at the commit and HEAD)"
    built = subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--inplace"],
        cwd=src,
        capture_output=True,
        text=True,
        check=False,
    )
    if list(old_source.parent.glob("_accel*.so")) or list(old_source.parent.glob("_accel*.pyd")):
        return "built by the commit's setup.py (build_ext --inplace, its compiler flags)"
    if so is None:
        return "not built (nor is this install's): both run the pure-Python engine"
    tail = (built.stdout + built.stderr).strip()[-400:]
    raise BaselineError(
        "the commit's C accelerator did not build, so its tree figures would not be "
        f"comparable with this install's: {tail}"
    )


PROBE = (
    "import json, vntrace, vntrace.node, vntrace.node.cli, vntrace.client\n"
    "from vntrace.node.merkle import accel\n"
    "print(json.dumps({'vntrace': vntrace.__file__, 'node': vntrace.node.__file__,"
    " 'accelerated': accel.available()}))\n"
)


def probe(base: Baseline, timeout: float = 120.0) -> dict[str, Any]:
    """Import the old code in a subprocess under this venv; :class:`BaselineError` if not."""
    env = _clean_env(base)
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=base.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        tail = done.stderr.strip()[-600:]
        raise BaselineError(f"the old code does not import under this venv: {tail}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    if not str(found["vntrace"]).startswith(str(base.python_path)):
        raise BaselineError(f"import vntrace found {found['vntrace']}, not the materialised tree")
    return found


def materialise(
    commit: str = BASELINE_COMMIT,
    cache_dir: Path | None = None,
    repo: Path | None = None,
    *,
    force_build: bool = False,
) -> Baseline:
    """The old release's importable tree in the cache (made once per commit and Python).

    Raises :class:`BaselineError` with the reason when git, the repository or the commit
    is missing, or the old code does not import here."""
    if shutil.which("git") is None:
        raise BaselineError("git is not installed, so the previous release cannot be extracted")
    repo = repo or find_repo()
    if repo is None:
        raise BaselineError(
            f"no git repository around {REPO_ROOT} or {Path.cwd()} (an installed package "
            "has no history to take the previous release from)"
        )
    sha = resolve_commit(repo, commit)
    cache = Path(cache_dir) if cache_dir is not None else default_cache()
    root = cache / f"{sha[:12]}-{sys.implementation.cache_tag}"
    marker = root / MARKER
    if marker.is_file():
        stored = json.loads(marker.read_text(encoding="utf-8"))
        base = Baseline(commit, sha, root, str(stored.get("accelerator")))
    else:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=cache))
        try:
            _extract(repo, sha, tmp / "src")
            _layout(tmp / "src", tmp / "pkg", package_folders(tmp / "src" / "setup.py"))
            accelerator = _provide_accelerator(repo, sha, tmp / "src", force_build)
            (tmp / MARKER).write_text(
                json.dumps(
                    {
                        "commit": commit,
                        "sha": sha,
                        "accelerator": accelerator,
                        "python": sys.version.split()[0],
                        "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    },
                    indent=1,
                )
                + "\n",
                encoding="utf-8",
            )
            try:
                tmp.rename(root)
            except OSError:  # made meanwhile by another run: use that one
                if not marker.is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        base = Baseline(commit, sha, root, accelerator)
    found = probe(base)
    if not found["accelerated"] and installed_accelerator() is not None:
        raise BaselineError(
            f"the old tree in {root} imports without its C accelerator (delete that folder "
            "to rebuild it): its tree figures would not be comparable"
        )
    return base


# -- the worker run on either code path ------------------------------------------------

WORKER = r"""
import json, random, sys, time
task = json.loads(sys.argv[1])
import vntrace.node
out = {"vntrace_node": vntrace.node.__file__}
if task["kind"] == "tree":
    from vntrace.node.merkle import StandardMerkleTree, accel
    rnd = random.Random(task["seed"])
    values = [
        ["0x" + rnd.randbytes(32).hex(), "0x" + rnd.randbytes(32).hex()]
        for _ in range(task["size"])
    ]
    best = float("inf")
    for _ in range(task["rounds"]):
        began = time.perf_counter()
        tree = StandardMerkleTree.of(values, ["bytes32", "bytes32"])
        best = min(best, time.perf_counter() - began)
    out.update(
        size=task["size"], rounds=task["rounds"], seconds=best,
        leaves_per_s=task["size"] / best, root="0x" + bytes(tree.root).hex(),
        accelerated=accel.available(),
    )
elif task["kind"] == "sdk":
    from vntrace.client import verify_bundles
    with open(task["bundles"], encoding="utf-8") as f:
        bundles = json.load(f)
    verify_bundles(bundles[:1], rpc_url=task["rpc_url"])  # imports and connection, untimed
    verified, calls = 0, 0
    began = time.perf_counter()
    while True:
        results = verify_bundles(bundles, rpc_url=task["rpc_url"])
        bad = [r for r in results if r.status != "verified"]
        if bad:
            out["error"] = f"the SDK did not verify a bundle: {bad[0].status} {bad[0].reasons}"
            break
        verified += len(results)
        calls += 1
        if time.perf_counter() - began >= task["seconds"]:
            break
    elapsed = time.perf_counter() - began
    out.update(
        records=verified, per_call=len(bundles), calls=calls, seconds=elapsed,
        records_per_s=verified / elapsed, rpc="node /rpc",
    )
print(json.dumps(out))
"""


def _clean_env(base: Baseline | None = None) -> dict[str, str]:
    """This environment without ``VNTRACE_*``; on ``base``'s code path when given (its
    folder replaces any ``PYTHONPATH``), else importing what this process imports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNTRACE_")}
    env["ETH_HASH_BACKEND"] = "pysha3"
    if base is not None:
        env.update(base.env())
    return env


def run_worker(
    task: dict[str, Any], base: Baseline | None, timeout: float = 600.0
) -> dict[str, Any]:
    """Run :data:`WORKER` on the old code (``base``) or this install (``None``); its JSON.

    Both paths run the same harness in a fresh process, so neither has the other's
    imports or caches warm."""
    env = _clean_env(base)
    with tempfile.TemporaryDirectory(prefix="vntrace-bench-worker-") as cwd:
        try:
            done = subprocess.run(
                [sys.executable, "-c", WORKER, json.dumps(task)],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise e2e.BenchError(f"{task['kind']} worker took over {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise e2e.BenchError(f"{task['kind']} worker failed: {done.stderr.strip()[-600:]}")
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if base is not None and not str(out["vntrace_node"]).startswith(str(base.python_path)):
        raise e2e.BenchError(f"the worker ran {out['vntrace_node']}, not the old code")
    if out.get("error"):
        raise e2e.BenchError(str(out["error"]))
    return out


def measure_tree_hex(base: Baseline | None, quick: bool = False) -> dict[str, Any]:
    """``StandardMerkleTree.of(values, ["bytes32", "bytes32"])`` on OZ-style hex values.

    Best of a few rounds at 100k leaves (20k quick), in a fresh process on either code
    path, same seeded values; failures are reported, not raised."""
    size = QUICK_TREE_SIZE if quick else TREE_SIZE
    rounds = QUICK_TREE_ROUNDS if quick else TREE_ROUNDS
    try:
        return run_worker({"kind": "tree", "size": size, "rounds": rounds, "seed": 17}, base)
    except e2e.BenchError as exc:
        return {"size": size, "rounds": rounds, "error": str(exc)}


def measure_sdk(
    base: Baseline, rpc_url: str, bundles: list[dict[str, Any]], seconds: float, work: Path
) -> dict[str, Any]:
    """The old SDK's ``verify_bundles`` over ``bundles`` against ``rpc_url``, in a subprocess."""
    path = work / "bundles.json"
    path.write_text(json.dumps(bundles), encoding="utf-8")
    task = {"kind": "sdk", "bundles": str(path), "rpc_url": rpc_url, "seconds": seconds}
    return run_worker(task, base, timeout=seconds + 300.0)


# -- the old node over HTTP --------------------------------------------------------------


def baseline_config(quick: bool, scale: float = 1.0) -> e2e.E2EConfig:
    """The current embedded run's settings, cut to the phases issue 17 compares.

    Ingestion at the batch sizes where the best figure is found (100 and 1,000; the
    largest in quick runs), latency at the largest client count only (32)."""
    cfg = e2e.config_for("embedded", quick)
    if scale != 1.0:
        cfg = cfg.scaled(scale)
    sizes = tuple(b for b in cfg.batch_sizes if b >= 100) or (max(cfg.batch_sizes),)
    return replace(
        cfg, batch_sizes=sizes, latency_clients=(max(cfg.latency_clients),), workers=None
    )


def _old_env(cfg: e2e.E2EConfig, base: Baseline) -> dict[str, str]:
    env = e2e._node_env("embedded", cfg, None)
    env.pop("VNTRACE_WORKERS", None)  # the old node is one process whatever is set
    return {**env, **base.env()}


def _measure_old(
    run: e2e.ChainRun,
    server: ServeProcess,
    base: Baseline,
    cfg: e2e.E2EConfig,
    say: Say,
    work: Path,
) -> None:
    """The current load generator against the old node, through the same phase sequence
    as the current node's run: the figures issue 17 compares (its own SDK, in a
    subprocess; no record-id or anchoring phase, which issue 17 does not compare)."""
    plan = e2e.PhasePlan(
        label=f"baseline {base.commit}",
        tag="OLD",
        sdk=lambda rpc, bundles, seconds: measure_sdk(base, rpc, bundles, seconds, work),
        record_ids=False,
        ack_to_anchored=False,
    )
    e2e.measure_phases(run, server, cfg, plan, say)


def run_baseline(
    quick: bool = False,
    say: Say | None = None,
    scale: float = 1.0,
    *,
    commit: str = BASELINE_COMMIT,
    cache_dir: Path | None = None,
    work_dir: Path | None = None,
) -> dict[str, Any]:
    """Materialise ``commit`` and measure its five issue-17 figures; errors become reasons."""
    say = say or (lambda _m: None)
    out: dict[str, Any] = {"commit": commit, "recorded": dict(RECORDED)}
    began = time.perf_counter()
    try:
        say(f"baseline {commit}: materialising the previous release")
        base = materialise(commit, cache_dir)
    except (BaselineError, OSError, subprocess.SubprocessError) as exc:
        out["error"] = f"not measured: {exc}"
        say(f"baseline {commit}: {out['error'][:300]}")
        return out
    out.update(base.to_json())
    cfg = baseline_config(quick, scale)
    run = e2e.ChainRun("baseline", asdict(cfg))
    run.node["workers"] = 1
    tmp = Path(tempfile.mkdtemp(prefix="vntrace-bench-baseline-", dir=work_dir))
    server: ServeProcess | None = None
    try:
        say(f"baseline {commit}: starting its vntrace serve (one process)")
        started = time.perf_counter()
        server = ServeProcess(tmp / "node", _old_env(cfg, base)).start()
        run.node["startup_s"] = time.perf_counter() - started
        _measure_old(run, server, base, cfg, say, tmp)
    except (e2e.BenchError, ProcessError, httpx.HTTPError) as exc:
        run.error = f"{type(exc).__name__}: {exc}"[:1200]
        say(f"baseline {commit}: FAILED: {run.error[:300]}")
    finally:
        if server is not None:
            run.node["exit_code"] = server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    out["e2e"] = run.to_json()
    say(f"baseline {commit}: StandardMerkleTree.of with hex values")
    out["tree_hex"] = measure_tree_hex(base, quick)
    out["elapsed_s"] = time.perf_counter() - began
    return out
