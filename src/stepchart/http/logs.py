"""The service's log lines: no token in any of them, and no flood of the same failure.

:class:`SafeLogFilter` sits on every handler ``stepchart serve`` configures
(:func:`log_config`), so it sees uvicorn's access and error lines, asyncio's and ours:

- **redaction**: a ``token=`` query value and a ``Bearer`` credential are replaced by
  ``REDACTED`` in the message and in each argument (uvicorn's access line keeps its
  five arguments, so its formatter still works);
- **rate limit**: a line of level WARNING or above is written at most once per
  ``interval`` seconds per kind (its logger and its unformatted message); the next
  one written after a quiet spell says how many like it were left out. A client that
  opens hundreds of connections or sends hundreds of bad requests costs a few lines,
  not megabytes of tracebacks. A line logged with ``extra={"always": True}`` (a change
  of state, such as the users file turning invalid) is never held back.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
import time
from typing import Any

__all__ = ["DEFAULT_LOG_INTERVAL", "SafeLogFilter", "log_config", "redact"]

DEFAULT_LOG_INTERVAL = 10.0
"""Seconds between two lines of the same kind of failure (WARNING and above)."""

_TOKEN_QUERY = re.compile(r"(?i)((?:^|[?&;\s\"'])token=)[^&;\s\"'#]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s,\"']+")


def redact(text: str) -> str:
    """``text`` with every ``token=`` query value and ``Bearer`` credential replaced by REDACTED."""
    if "oken=" not in text and "earer" not in text:
        return text
    return _BEARER.sub(r"\1REDACTED", _TOKEN_QUERY.sub(r"\1REDACTED", text))


def _redact_arg(value: Any) -> Any:
    if isinstance(value, (int, float)) or value is None:
        return value
    text = value if isinstance(value, str) else str(value)
    cleaned = redact(text)
    return value if cleaned == text and not isinstance(value, str) else cleaned


class SafeLogFilter(logging.Filter):
    """Redacts credentials from every record and lets one WARNING+ line per kind through per interval."""

    def __init__(self, name: str = "", interval: float = DEFAULT_LOG_INTERVAL) -> None:
        super().__init__(name)
        self.interval = interval
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], float] = {}
        self._held: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING and not getattr(record, "always", False) and not self._admit(record):
            return False
        self._clean(record)
        return True

    def _admit(self, record: logging.LogRecord) -> bool:
        kind = (record.name, str(record.msg))
        now = time.monotonic()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self.interval:
                self._held[kind] = self._held.get(kind, 0) + 1
                return False
            self._last[kind] = now
            held = self._held.pop(kind, 0)
            if len(self._last) > 10_000:  # kinds are few; a bound all the same
                self._last = {kind: now}
        if held:
            record.msg = f"{record.getMessage()} ({held} more like it in the last {self.interval:g} s not logged)"
            record.args = ()
        return True

    @staticmethod
    def _clean(record: logging.LogRecord) -> None:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_arg(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)


def log_config(level: str = "info", *, interval: float = DEFAULT_LOG_INTERVAL) -> dict[str, Any]:
    """uvicorn's logging configuration with :class:`SafeLogFilter` on every handler.

    The root logger gets uvicorn's ``default`` handler (standard error), so asyncio's
    and the service's own lines pass the same filter as uvicorn's.
    """
    from uvicorn.config import LOGGING_CONFIG

    cfg: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    cfg["filters"] = {"safe": {"()": f"{__name__}.SafeLogFilter", "interval": interval}}
    for handler in cfg["handlers"].values():
        handler["filters"] = ["safe"]
    cfg["root"] = {"handlers": ["default"], "level": level.upper()}
    cfg["loggers"]["stepchart"] = {"level": level.upper()}
    return cfg
