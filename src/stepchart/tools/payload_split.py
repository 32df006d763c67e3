"""A large ``stepchart validate`` run in two processes: the second half of the files is checked by a fork.

Checking a payload is a few microseconds of Python, so 10,000 files are CPU-bound in one
process; on a machine with a second core, a child forked after the imports (the compiled
schema shared, nothing loaded twice) checks the second half of the files while the parent
checks the first, then sends back its counts and errors (``marshal``'s bytes through a pipe: the fastest form
the standard library has for plain tuples of text and numbers, between two copies of one program). The parent
reports its own half as it goes and the child's after it, so the output, its order and
the verdicts are those of one process. Only when it can help and is safe: on Linux
(``os.fork``, and ``/proc`` to count the threads), at least :data:`SPLIT_AT` files, no
standard input, two usable cores of which one is mostly idle (the one-minute load average
under the cores less a half: on a busy machine the fork only adds its cost, measured 18%
slower at a load of 2 on 2 cores), and one thread in the process (a fork copies no other
thread). The parent's objects are
frozen before the fork (``gc.freeze``), so the child's collector does not copy their
pages. A child that fails (killed, out of memory) is not trusted: the parent checks that
half itself.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import signal
from collections.abc import Callable, Sequence
from typing import NamedTuple

from .payload_inputs import PayloadError

__all__ = ["SPLIT_AT", "ChildRun", "Half", "abandon", "finish", "split_point", "start"]

SPLIT_AT = 4096
"""The fewest files a run is split for: below it, the fork (a millisecond or two) is not worth it."""


class ChildRun(NamedTuple):
    """What the child checked: payloads checked and skipped, and each invalid payload's errors, in order."""

    checked: int
    skipped: int
    groups: list[list[PayloadError]]


class Half(NamedTuple):
    """A running child: its process id and the read end of its pipe."""

    pid: int
    fd: int


def _cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def _threads() -> int:
    """Every thread of the process, those of extensions too; 0 where /proc cannot tell (then no fork)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def split_point(files: Sequence[str]) -> int:
    """Where the child's half starts, or 0 when the run is not split (see the module's conditions)."""
    if len(files) < SPLIT_AT or not hasattr(os, "fork") or "-" in files:
        return 0
    cores = _cores()
    if cores < 2 or _threads() != 1 or _load() >= cores - 0.5:  # no second core, or none idle: a fork only costs
        return 0
    return len(files) // 2


def start(files: Sequence[str], check: Callable[[Sequence[str]], ChildRun]) -> Half | None:
    """Fork a child that runs ``check(files)`` and writes the outcome to a pipe; None if no child could start."""
    r, w = os.pipe()
    gc.freeze()  # the child's collector leaves the parent's objects (and their pages) alone
    try:
        pid = os.fork()
    except OSError:
        gc.unfreeze()
        os.close(r)
        os.close(w)
        return None
    if pid == 0:  # the child: check, send, and leave without running the parent's exit handlers
        code = 1
        try:
            os.close(r)
            done = check(files)
            # marshal takes exact types only: a file's name may be a str subclass (FolderFile)
            rows = [[(str(e.source), e.line, e.column, e.path, e.message, e.type) for e in g] for g in done.groups]
            view = memoryview(marshal.dumps((done.checked, done.skipped, rows)))
            while view:
                view = view[os.write(w, view) :]
            os.close(w)  # the parent's end-of-data: it reads on while this process is taken down
            code = 0
        finally:
            os._exit(code)
    gc.unfreeze()  # the parent collects as before (a library caller's process lives on)
    os.close(w)
    return Half(pid, r)


def finish(half: Half) -> ChildRun | None:
    """The child's outcome once it has ended, or None if it did not end well (the caller checks the half itself)."""
    chunks = []
    try:
        while chunk := os.read(half.fd, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(half.fd)
    try:  # read while the child is still being taken down; trusted only once it has ended well
        checked, skipped, rows = marshal.loads(b"".join(chunks))
        run = ChildRun(checked, skipped, [[PayloadError._make(row) for row in group] for group in rows])
    except (ValueError, TypeError, EOFError):  # a child killed half-way: truncated data
        run = None
    _pid, status = os.waitpid(half.pid, 0)
    return run if os.waitstatus_to_exitcode(status) == 0 else None


def abandon(half: Half) -> None:
    """Stop a child whose parent gave up (an interrupt, an error), and reap it."""
    with contextlib.suppress(OSError):  # it may have ended already
        os.kill(half.pid, signal.SIGKILL)
    os.close(half.fd)
    os.waitpid(half.pid, 0)
