"""Terminal and machine output shared by the commands: colour, progress, JSON, JUnit XML.

* Colour only on a terminal that supports it: never when ``NO_COLOR`` is set (to
  anything but the empty string), when ``TERM=dumb``, or when the stream is not a
  terminal; ``--color always|never`` overrides the guess.
* Progress is a single self-erasing line on standard error, shown only when standard
  error is a terminal and the run lasts long enough to need it: a piped or redirected
  run prints none.
* JSON goes out with a stable key order and a final newline; JUnit XML is the subset
  CI systems read (``testsuites/testsuite/testcase/failure``).
* Located problems also go out as GitHub Actions workflow commands (``::error file=...``)
  and as a SARIF 2.1.0 log, the two forms code-scanning tools take in.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

if TYPE_CHECKING:
    from ..errors import Problem

__all__ = [
    "COLOR_CHOICES",
    "JUnitCase",
    "Progress",
    "Style",
    "dump_json",
    "github_annotation",
    "junit_xml",
    "sarif_log",
    "shown_path",
    "use_color",
    "write_junit",
]

COLOR_CHOICES = ("auto", "always", "never")


def use_color(stream: TextIO, mode: str = "auto") -> bool:
    """Whether to colour what goes to ``stream``: ``always``/``never``, or the terminal's say."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    if os.environ.get("NO_COLOR", ""):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # a closed stream
        return False


_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}


class Style:
    """ANSI styling that becomes the identity when colour is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @classmethod
    def for_stream(cls, stream: TextIO, mode: str = "auto") -> Style:
        return cls(use_color(stream, mode))

    def paint(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles or not text:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def bold(self, text: str) -> str:
        return self.paint(text, "bold")

    def dim(self, text: str) -> str:
        return self.paint(text, "dim")

    def red(self, text: str) -> str:
        return self.paint(text, "red")

    def green(self, text: str) -> str:
        return self.paint(text, "green")

    def yellow(self, text: str) -> str:
        return self.paint(text, "yellow")

    def cyan(self, text: str) -> str:
        return self.paint(text, "cyan")

    def severity(self, severity: str) -> str:
        """``error`` in red, ``warning`` in yellow, bold."""
        if severity == "error":
            return self.paint(severity, "bold", "red")
        if severity == "warning":
            return self.paint(severity, "bold", "yellow")
        return self.bold(severity)

    def verdict(self, ok: bool, text: str) -> str:
        return self.paint(text, "bold", "green" if ok else "red")


class Progress:
    """``label 1234/10000`` on one line of a terminal, redrawn at most ten times a second.

    Silent unless ``stream`` is a terminal (or ``enabled=True`` is forced). Nothing is
    drawn during the first ``delay`` seconds (0.3, or ``STEPCHART_PROGRESS_DELAY``), so
    short runs never flicker; :meth:`close` erases the line, leaving the terminal as it was.
    """

    def __init__(
        self,
        total: int | None,
        label: str,
        stream: TextIO | None = None,
        *,
        enabled: bool | None = None,
        delay: float | None = None,
        interval: float = 0.1,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total = total
        self.label = label
        self.count = 0
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            try:
                enabled = bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"
            except (ValueError, OSError):
                enabled = False
        self.enabled = enabled
        if delay is None:
            try:
                delay = float(os.environ.get("STEPCHART_PROGRESS_DELAY", "0.3"))
            except ValueError:
                delay = 0.3
        self.delay = delay
        self.interval = interval
        self._start = time.monotonic()
        self._last = 0.0
        self._drawn = False

    def advance(self, n: int = 1) -> None:
        self.count += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._start < self.delay or now - self._last < self.interval:
            return
        self._last = now
        self._draw()

    def _draw(self) -> None:
        if self.total:
            pct = 100 * self.count // self.total
            text = f"{self.label} {self.count}/{self.total} ({pct}%)"
        else:
            text = f"{self.label} {self.count}"
        self.stream.write("\r" + text + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def dump_json(value: Any, stream: TextIO, *, pretty: bool | None = True) -> None:
    """JSON, keys in the order given, UTF-8 text as is, and a final newline.

    Indented by default; ``pretty=None`` indents only for a terminal, so a large
    document piped to a tool goes out compact (json's C encoder: several times faster).
    """
    if pretty is None:
        isatty = getattr(stream, "isatty", None)
        pretty = bool(isatty and isatty())
    stream.write(json.dumps(value, indent=2 if pretty else None, ensure_ascii=False))
    stream.write("\n")


class JUnitCase(NamedTuple):
    """One test case of a JUnit report: a scenario, a file, a payload."""

    name: str
    classname: str
    time: float = 0.0
    failure: str | None = None
    file: str | None = None
    line: int | None = None


def junit_xml(cases: Iterable[JUnitCase], suite: str = "stepchart") -> str:
    """A JUnit XML document (the subset Jenkins, GitLab and GitHub read)."""
    from xml.etree import ElementTree as ET  # only here: every command imports this module

    items = list(cases)
    failures = sum(1 for c in items if c.failure is not None)
    total_time = sum(c.time for c in items)
    root = ET.Element("testsuites", tests=str(len(items)), failures=str(failures), time=f"{total_time:.3f}")
    ts = ET.SubElement(
        root, "testsuite", name=suite, tests=str(len(items)), failures=str(failures), errors="0", skipped="0",
        time=f"{total_time:.3f}",
    )  # fmt: skip
    for c in items:
        attrs = {"name": c.name, "classname": c.classname, "time": f"{c.time:.3f}"}
        if c.file is not None:
            attrs["file"] = c.file
        if c.line is not None:
            attrs["line"] = str(c.line)
        tc = ET.SubElement(ts, "testcase", attrs)
        if c.failure is not None:
            first = c.failure.splitlines()[0] if c.failure else "failed"
            fail = ET.SubElement(tc, "failure", message=first, type="ScenarioFailure")
            fail.text = c.failure
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(path: str, cases: Iterable[JUnitCase], suite: str = "stepchart") -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(junit_xml(cases, suite))


def shown_path(path: str) -> str:
    """A file as a designer reads it: relative to the working folder when under it, else as given."""
    if not os.path.isabs(path):
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive
        return path
    return path if rel.startswith("..") else rel


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(p: Problem) -> str:
    """One problem as a GitHub Actions workflow command: ``::error file=F,line=L,col=C,title=CODE::message``."""
    level = "warning" if p.severity == "warning" else "error"
    props = f"file={_gh_property(shown_path(p.file))},line={p.line},col={p.column},title={_gh_property(p.code)}"
    return f"::{level} {props}::{_gh_data(p.message)}"


def _sarif_uri(path: str) -> str:
    """A relative URI reference for a file under the working folder, a file: URI otherwise."""
    from pathlib import Path  # only here: every command imports this module
    from urllib.parse import quote

    shown = shown_path(path)
    if os.path.isabs(shown):
        return Path(shown).as_uri()
    return quote(shown.replace(os.sep, "/"))


def sarif_log(
    problems: Iterable[Problem],
    rules: Mapping[str, tuple[str, str]],
    *,
    tool: str = "stepchart",
    version: str | None = None,
    information_uri: str | None = None,
) -> dict[str, Any]:
    """A SARIF 2.1.0 log of one run: ``rules`` (code -> (severity, meaning)) as the driver's rules.

    A code outside ``rules`` (``schema-minItems`` of the ``schema-KEYWORD`` family) gets
    a rule of its own, described by its family's entry when there is one.
    """
    table: dict[str, tuple[str, str]] = dict(rules)
    items = list(problems)
    for p in items:
        if p.code not in table:
            family = next((v for k, v in rules.items() if k.endswith("-KEYWORD") and p.code.startswith(k[:-7])), None)
            table[p.code] = family or (p.severity, p.code)
    index = {code: i for i, code in enumerate(table)}

    def level(severity: str) -> str:
        return {"error": "error", "warning": "warning"}.get(severity, "note")

    driver: dict[str, Any] = {"name": tool}
    if version:
        driver["version"] = version
    if information_uri:
        driver["informationUri"] = information_uri
    driver["rules"] = [
        {
            "id": code,
            "name": code,
            "shortDescription": {"text": meaning},
            "defaultConfiguration": {"level": level(severity)},
        }
        for code, (severity, meaning) in table.items()
    ]
    results = [
        {
            "ruleId": p.code,
            "ruleIndex": index[p.code],
            "level": level(p.severity),
            "message": {"text": p.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _sarif_uri(p.file)},
                        "region": {"startLine": max(p.line, 1), "startColumn": max(p.column, 1)},
                    }
                }
            ],
        }
        for p in items
    ]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }
