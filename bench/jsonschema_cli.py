"""What the benchmarks share: the environment, the `stepchart` command as users run it, and one check-jsonschema run."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

# Every process compiles its modules once, as installed tools do (this workplace sets
# PYTHONDONTWRITEBYTECODE, which would make only our side recompile on every start).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def children_cpu() -> float:
    """CPU seconds (user + system) of every child process waited for so far: less swayed by load than wall time."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stepchart_command() -> list[str]:
    """``stepchart`` as users run it: the console script installed beside this interpreter (or on PATH), else
    ``python -m stepchart.cli`` (which also imports runpy: a few milliseconds more at start-up)."""
    script = Path(sys.executable).parent / "stepchart"
    found = str(script) if script.exists() else shutil.which("stepchart")
    return [found] if found else [sys.executable, "-m", "stepchart.cli"]


def check_jsonschema_exe() -> str:
    """check-jsonschema's command: ``$CHECK_JSONSCHEMA``, else the one on PATH.

    Install it in a venv of its own (``python3 -m venv /work/cjs && /work/cjs/bin/pip install
    check-jsonschema``) and append that venv's ``bin`` to PATH (not prepend: its ``python``
    would shadow the one the benchmark runs stepchart with), or name it in ``$CHECK_JSONSCHEMA``.
    """
    exe = os.environ.get("CHECK_JSONSCHEMA") or shutil.which("check-jsonschema")
    if exe is None:
        raise SystemExit("check-jsonschema is not installed: pip install check-jsonschema (or set CHECK_JSONSCHEMA)")
    return exe


def run_check_jsonschema(schema: Path, files: list[Path]) -> tuple[float, set[str]]:
    """Wall time of one check-jsonschema process over ``files``, and the names it flags."""
    exe = check_jsonschema_exe()
    t0 = time.perf_counter()
    done = subprocess.run(
        [exe, "--schemafile", str(schema), "--output-format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
        env=ENV,
    )
    elapsed = time.perf_counter() - t0
    if done.returncode not in (0, 1):
        raise SystemExit(f"check-jsonschema failed: {done.stderr[-2000:]}")
    data = json.loads(done.stdout)
    bad = {Path(e["filename"]).name for e in data.get("errors", [])}
    bad |= {Path(e["filename"]).name for e in data.get("parse_errors", [])}
    return elapsed, bad
