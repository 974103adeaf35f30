"""Write an export to a folder atomically: all files or none.

Files go to a temporary folder beside the target, are flushed to disk, and the folder is
renamed into place in one ``rename`` (atomic on POSIX within one file system), so a
reader never sees a partial export and a crash leaves at most a ``.tmp`` folder that
the next run ignores. Kept free of shapely so the SDK can import it cheaply.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .errors import ExportWriteError

STATEMENT_FILE = "statement.json"
PLOTS_FILE = "plots.geojson"
BUNDLES_DIR = "bundles"
MANIFEST_FILE = "manifest.json"


def _dump(doc: Any) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode()


def export_files(export: dict[str, Any]) -> dict[str, bytes]:
    """Relative path -> bytes of every file of an export (manifest last)."""
    files = {STATEMENT_FILE: _dump(export["statement"]), PLOTS_FILE: _dump(export["geojson"])}
    for bundle in export["bundles"]:
        files[f"{BUNDLES_DIR}/{bundle['leaf']}.json"] = _dump(bundle)
    manifest = {
        "format": export.get("format"),
        "lots": export.get("lots"),
        "chainId": export.get("chainId"),
        "registry": export.get("registry"),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }
    files[MANIFEST_FILE] = _dump(manifest)
    return files


def write_export(export: dict[str, Any], out: Path) -> list[Path]:
    """Write the export into the new folder ``out``; returns the files written."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportWriteError(f"{out} already exists and is not an empty folder")
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise ExportWriteError(f"cannot write into {parent}: {exc.strerror}") from None
    try:
        written = []
        for name, data in export_files(export).items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            written.append(out / name)
        if out.exists():
            out.rmdir()
        os.rename(tmp, out)
        fd = os.open(parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return written
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ExportWriteError(f"export to {out} failed, nothing written: {exc.strerror}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
