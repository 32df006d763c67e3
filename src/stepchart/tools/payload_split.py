"""A large ``stepchart validate`` run in two processes: a forked helper checks from the back, the parent from the front.

Checking a payload is a few microseconds of Python, so 10,000 files are CPU-bound in one
process. On a machine with a second core, a helper is forked (:func:`fork_helper`) as soon
as the command knows a folder is named, before the walk: while the parent walks the
folders, the helper imports and builds what checking needs (``warm``: jsonschema-rs, a
tenth of such a run). It then gets the list of files (:func:`give`: written to a shared
memory file, so the parent never waits for the helper to read), or is dismissed when the
walk found fewer than :data:`SPLIT_AT`. The two claim chunks of
:data:`CHUNK` files, the parent from the front and the helper from the back, until they
meet, so neither waits for the other whatever each started with; the claims are two
counters in shared memory under a record lock (``lockf``, which the kernel releases if
the helper dies). The parent reports the files before the meeting point as it goes and
the helper's after it (``marshal``'s bytes through a pipe: the fastest form the standard
library has for plain tuples of text and numbers, between two copies of one program), so
the output, its order and the verdicts are those of one process.

Only when it can help and is safe: on Linux (``os.fork``, ``os.memfd_create``, and
``/proc`` to count the threads), two usable cores of which one is mostly idle (the
one-minute load average under the cores less a half: on a busy machine the fork only
adds its cost), one thread in the process (a fork copies no other thread), and no
standard input among the inputs. A helper that fails (killed, out of memory) is not
trusted: the parent checks what it had claimed.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from .payload_inputs import FolderFile, PayloadError

__all__ = ["CHUNK", "SPLIT_AT", "Check", "Helper", "HelperRun", "can_split", "dismiss", "finish", "fork_helper", "give"]

SPLIT_AT = 4096
"""The fewest files a run is shared with a helper for: below it, the helper is dismissed unused."""

CHUNK = 64
"""Files claimed at a time: half a millisecond of checking, against a lock and an unlock."""

_TASK = 8
"""Where the task starts in the shared file: after the two counters of the claims."""


class HelperRun(NamedTuple):
    """What the helper checked: payloads checked and skipped, and each invalid payload's errors in file order."""

    checked: int
    skipped: int
    groups: list[list[PayloadError]]


class Helper:
    """A forked helper: its process id, the write end of its task pipe, the read end of its result pipe, and the
    shared memory file holding the claims (the next chunk from the front, the end of the unclaimed ones) and the task.

    A descriptor is -1 once closed and ``reaped`` true once the helper has been waited for, so that
    :func:`dismiss` never closes a number or signals a process id that is no longer the helper's.
    """

    __slots__ = ("pid", "reaped", "result", "shared", "task")

    def __init__(self, pid: int, task: int, result: int, shared: int) -> None:
        self.pid, self.task, self.result, self.shared = pid, task, result, shared
        self.reaped = False

    def close(self, name: str) -> None:
        """Close the descriptor ``name`` (task, result, shared) unless it is closed already."""
        fd = getattr(self, name)
        if fd >= 0:
            setattr(self, name, -1)
            os.close(fd)


Check = Callable[[Sequence[str]], tuple[int, int, list[list[PayloadError]]]]
"""Check some files in this process: (payloads checked, skipped, each invalid payload's errors)."""


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


def can_split(inputs: Sequence[str]) -> bool:
    """Whether a helper can share a run over ``inputs`` on this machine now (see the module's conditions)."""
    if "-" in inputs or not hasattr(os, "fork") or not hasattr(os, "memfd_create"):
        return False
    cores = _cores()
    return cores >= 2 and _threads() == 1 and _load() < cores - 0.5  # else a fork only costs


def fork_helper(warm: Callable[[], object], check: Check) -> Helper | None:
    """Fork a helper that runs ``warm()`` at once, then waits for :func:`give`; None if none could start."""
    shared = os.memfd_create("stepchart-validate", os.MFD_CLOEXEC)
    task_r, task_w = os.pipe()
    result_r, result_w = os.pipe()
    gc.freeze()  # the helper's collector (if on) leaves the parent's objects, and their pages, alone
    try:
        pid = os.fork()
    except OSError:
        gc.unfreeze()
        for fd in (shared, task_r, task_w, result_r, result_w):
            os.close(fd)
        return None
    if pid == 0:  # the helper: warm up, take its task, check, send, and leave without the parent's exit handlers
        code = 1
        try:
            os.close(task_w)
            os.close(result_r)
            warm()
            task = _receive(task_r, shared)
            if task[0]:
                view = memoryview(marshal.dumps(_take_from_back(shared, task, check)))
                while view:
                    view = view[os.write(result_w, view) :]
            os.close(result_w)  # the parent's end-of-data: it reads on while this process is taken down
            code = 0
        finally:
            os._exit(code)
    gc.unfreeze()
    os.close(task_r)
    os.close(result_w)
    return Helper(pid, task_w, result_r, shared)


def give(helper: Helper, files: Sequence[str]) -> Iterator[tuple[int, int]]:
    """Hand ``files`` to the helper; then the (start, end) of each chunk the parent claims, from the front.

    When the iterator ends the two have met: the parent's files are those before the
    meeting point, the helper's (:func:`finish`) the rest.
    """
    chunks = -(-len(files) // CHUNK)
    names = "\0".join(files).encode("utf-8", "surrogateescape")
    named = set(map(type, files)) != {FolderFile}  # one pass in C: most runs name only folders
    plain = [i for i, name in enumerate(files) if type(name) is not FolderFile] if named else []  # read as given
    task = marshal.dumps((names, plain))
    os.pwrite(helper.shared, (0).to_bytes(4, "little") + chunks.to_bytes(4, "little") + task, 0)
    with contextlib.suppress(OSError):  # a helper gone already: the parent claims every chunk
        os.write(helper.task, len(task).to_bytes(8, "little"))
    helper.close("task")
    while (claimed := _claim(helper.shared, front=True)) is not None:
        yield claimed * CHUNK, min((claimed + 1) * CHUNK, len(files))


def finish(helper: Helper, total: int) -> tuple[int, HelperRun | None]:
    """Where the helper's part of ``total`` files starts, and its outcome once it has ended (None if it did not
    end well: the caller checks that part itself)."""
    start = min(int.from_bytes(os.pread(helper.shared, 4, 0), "little") * CHUNK, total)
    chunks = []
    try:
        while chunk := os.read(helper.result, 1 << 16):
            chunks.append(chunk)
    finally:
        helper.close("result")
        helper.close("shared")
    try:  # read while the helper is still being taken down; trusted only once it has ended well
        checked, skipped, rows = marshal.loads(b"".join(chunks))
        run: HelperRun | None = HelperRun(checked, skipped, [[PayloadError._make(r) for r in g] for g in rows])
    except (ValueError, TypeError, EOFError):  # a helper killed half-way (or before its task): nothing whole
        run = None
    _pid, status = os.waitpid(helper.pid, 0)
    helper.reaped = True
    return start, run if os.waitstatus_to_exitcode(status) == 0 else None


def dismiss(helper: Helper) -> None:
    """Stop a helper that is not needed (a small run) or whose parent gave up (an interrupt, an error), and reap it;
    nothing for a helper :func:`finish` has reaped."""
    import signal  # only here: a few enums to build at start-up otherwise

    for name in ("task", "result", "shared"):
        helper.close(name)
    if not helper.reaped:
        with contextlib.suppress(OSError):  # it may have ended (unreaped, its id is still its own)
            os.kill(helper.pid, signal.SIGKILL)
        os.waitpid(helper.pid, 0)
        helper.reaped = True


def _receive(fd: int, shared: int) -> tuple[list[str], set[int]]:
    """The helper's task: the run's file names and the indexes of those named directly (the others the walk
    found); no names when it is dismissed."""
    size = os.read(fd, 8)
    os.close(fd)
    if len(size) != 8:
        return [], set()
    names, plain = marshal.loads(os.pread(shared, int.from_bytes(size, "little"), _TASK))
    return names.decode("utf-8", "surrogateescape").split("\0"), set(plain)


_Row = tuple[str, int, int, str, str, str]
"""A :class:`PayloadError` as marshal sends it."""


def _take_from_back(shared: int, task: tuple[list[str], set[int]], check: Check) -> tuple[int, int, list[list[_Row]]]:
    """Claim and check chunks from the back until the parent is met: the outcome, marshal-ready, in file order."""
    names, plain = task
    parts = []
    while (claimed := _claim(shared, front=False)) is not None:
        first = claimed * CHUNK
        chunk = [n if first + i in plain else FolderFile(n) for i, n in enumerate(names[first : first + CHUNK])]
        parts.append(check(chunk))
    # marshal takes exact types only: a file's name may be a str subclass (FolderFile)
    rows = [[(str(e.source), *e[1:]) for e in g] for p in reversed(parts) for g in p[2]]
    return sum(p[0] for p in parts), sum(p[1] for p in parts), rows


def _claim(shared: int, *, front: bool) -> int | None:
    """One chunk off the front (the parent) or the back (the helper) of the unclaimed ones; None once they meet."""
    import fcntl  # POSIX record locks: one owner a process, released by the kernel when the owner dies

    fcntl.lockf(shared, fcntl.LOCK_EX, 8)
    try:
        raw = os.pread(shared, 8, 0)
        first, end = int.from_bytes(raw[:4], "little"), int.from_bytes(raw[4:], "little")
        if first >= end:
            return None
        if front:
            os.pwrite(shared, (first + 1).to_bytes(4, "little"), 0)
            return first
        os.pwrite(shared, (end - 1).to_bytes(4, "little"), 4)
        return end - 1
    finally:
        fcntl.lockf(shared, fcntl.LOCK_UN, 8)
