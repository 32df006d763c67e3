"""Run the real ``stepchart`` command line: in this process (fast), or as a child process (pty, env)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from stepchart.cli import main

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Ran:
    code: int
    out: str
    err: str
    raw: bytes

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


def cli(*args: str, stdin: bytes | None = None) -> Ran:
    """``stepchart ARGS`` through :func:`stepchart.cli.main`, standard streams captured (not terminals)."""
    out_b, err_b = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_b, encoding="utf-8", write_through=True)
    err = io.TextIOWrapper(err_b, encoding="utf-8", write_through=True)
    saved = sys.stdout, sys.stderr, sys.stdin
    sys.stdout, sys.stderr = out, err
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse usage errors
        code = exc.code if isinstance(exc.code, int) else 2
    finally:
        out.flush()
        err.flush()
        sys.stdout, sys.stderr, sys.stdin = saved
    raw = out_b.getvalue()
    return Ran(code, raw.decode("utf-8", "replace"), err_b.getvalue().decode("utf-8", "replace"), raw)


def proc(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None,
         cwd: str | Path | None = None) -> Ran:  # fmt: skip
    """``stepchart ARGS`` as a child process (its own interpreter, environment and working folder)."""
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    full_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "stepchart.cli", *args],
        input=stdin, capture_output=True, env=full_env, cwd=cwd, timeout=120, check=False,
    )  # fmt: skip
    return Ran(done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"),
               done.stdout)  # fmt: skip


def on_terminal(*args: str, env: dict[str, str] | None = None, cwd: str | Path | None = None) -> tuple[int, str, str]:
    """``stepchart ARGS`` with standard output and error on pseudo-terminals: (exit code, out, err) as seen."""
    import pty
    import select

    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    full_env["TERM"] = "xterm"
    full_env.update(env or {})
    out_master, out_slave = pty.openpty()
    err_master, err_slave = pty.openpty()
    p = subprocess.Popen(
        [sys.executable, "-m", "stepchart.cli", *args],
        stdin=subprocess.DEVNULL, stdout=out_slave, stderr=err_slave, env=full_env, cwd=cwd,
    )  # fmt: skip
    os.close(out_slave)
    os.close(err_slave)
    chunks: dict[int, list[bytes]] = {out_master: [], err_master: []}
    open_fds = [out_master, err_master]
    while open_fds:
        ready, _, _ = select.select(open_fds, [], [], 60)
        if not ready:
            break
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if data:
                chunks[fd].append(data)
            else:
                open_fds.remove(fd)
                os.close(fd)
    code = p.wait(timeout=60)
    for fd in open_fds:
        os.close(fd)
    out = b"".join(chunks[out_master]).decode("utf-8", "replace").replace("\r\n", "\n")
    err = b"".join(chunks[err_master]).decode("utf-8", "replace")
    return code, out, err


def write(folder: Path, name: str, text: str) -> Path:
    """Write ``text`` (dedented) to ``folder/name``, making its folders."""
    p = folder / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return p


FINDING = re.compile(r"^(.*?):(\d+):(\d+): (error|warning)\[([a-z0-9-]+)\]: ")


def findings(out: str) -> list[tuple[str, int, int, str, str]]:
    """(file name, line, column, severity, code) of each finding line of ``stepchart check``."""
    return [
        (Path(m.group(1)).name, int(m.group(2)), int(m.group(3)), m.group(4), m.group(5))
        for m in map(FINDING.match, out.splitlines())
        if m
    ]
