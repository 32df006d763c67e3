"""The test extra tests the dependencies users run: it cannot move a runtime dependency.

``pip install .`` takes the newest release each runtime range in ``pyproject.toml``
admits; ``pip install '.[test]'`` also meets the requirements of the test tools
(schemathesis pins jsonschema-rs to one minor release). When such a requirement excludes
part of a runtime range, the two installs resolve to different versions and the suite
tests another library than users get. So every requirement that a test-extra package (or
anything it pulls in) makes on a runtime dependency must admit the whole runtime range: its
lowest and its highest versions, probed from the range's own bounds.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, distribution, version

import pytest
from cli_helpers import ROOT
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
TEST_EXTRA = [Requirement(text) for text in PYPROJECT["optional-dependencies"]["test"]]
HUGE = 99999  # a release number above any real one: "the newest release below a bound"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


RUNTIME = {canonical(r.name): r for r in map(Requirement, PYPROJECT["dependencies"])}


def _below(v: Version) -> Version:
    """The newest plausible release before ``v``: 0.61 gives 0.60.99999, 1 gives 0.99999."""
    parts = list(v.release)
    while parts and parts[-1] == 0:
        parts.pop()
    if not parts:
        return v
    parts[-1] -= 1
    return Version(".".join(map(str, [*parts, HUGE])))


def probes(spec: SpecifierSet) -> list[Version]:
    """The lowest and highest versions ``spec`` admits, as far as its bounds tell (no index needed)."""
    out: list[Version] = []
    upper = False
    for clause in spec:
        op, v = clause.operator, Version(clause.version.removesuffix(".*"))
        if op in (">=", "==", "~=", "==="):
            out.append(v)
        if op == ">":
            out.append(Version(".".join(map(str, [*v.release, 0, 1]))))
        if op == "<":
            out.append(_below(v))
        if op == "<=" or (op == "==" and not clause.version.endswith(".*")):
            out.append(v)
        if op == "==" and clause.version.endswith(".*"):
            out.append(Version(".".join(map(str, [*v.release, HUGE]))))
        if op == "~=":
            out.append(Version(".".join(map(str, [*v.release[:-1], HUGE]))))
        upper |= op in ("<", "<=", "==", "~=", "===")
    if not upper:
        out.append(Version(str(HUGE)))  # no upper bound: every future release
    return [p for p in out if spec.contains(p, prereleases=True)]


def extra_requirements() -> list[tuple[str, Requirement]]:
    """(who, requirement) for every requirement of the installed test extra, transitively, markers applied."""
    seen: set[str] = {"stepchart"}
    found: list[tuple[str, Requirement]] = []
    todo: list[tuple[str, Requirement]] = [("pyproject.toml [test]", r) for r in TEST_EXTRA]
    while todo:
        who, req = todo.pop()
        found.append((who, req))
        name = canonical(req.name)
        key = f"{name}[{','.join(sorted(req.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = distribution(req.name)
        except PackageNotFoundError:
            continue  # not installed here (a marker for another platform): nothing it could pin
        for text in dist.requires or []:
            sub = Requirement(text)
            envs = [{"extra": e} for e in req.extras] or [{"extra": ""}]
            if sub.marker is None or any(sub.marker.evaluate(env) for env in envs):
                todo.append((f"{dist.metadata['Name']} {dist.version}", sub))
    return found


def test_the_probes_span_a_range() -> None:
    assert probes(SpecifierSet(">=0.60.1,<0.61")) == [Version("0.60.1"), Version("0.60.99999")]
    assert probes(SpecifierSet(">=0.23,<1")) == [Version("0.23"), Version("0.99999")]
    assert probes(SpecifierSet("~=6.0")) == [Version("6.0"), Version("6.99999")]
    assert probes(SpecifierSet(">=4.18")) == [Version("4.18"), Version("99999")]
    assert not SpecifierSet(">=0.60.1,<0.61").contains(probes(SpecifierSet(">=0.23,<1"))[0])


@pytest.mark.parametrize("name", sorted(RUNTIME))
def test_the_installed_runtime_dependency_is_in_its_range(name: str) -> None:
    req = RUNTIME[name]
    assert req.specifier.contains(version(req.name), prereleases=True), (
        f"{req.name} {version(req.name)} is installed, outside pyproject.toml's {req}"
    )


@pytest.mark.parametrize("name", sorted(RUNTIME))
def test_no_test_package_narrows_a_runtime_range(name: str) -> None:
    """Every version ``pip install .`` could choose is one ``pip install '.[test]'`` could choose too."""
    runtime = RUNTIME[name]
    ends = probes(runtime.specifier)
    assert ends, f"{runtime}: no version found in the range"
    narrowing = [
        f"{who} requires {req} (refuses {', '.join(str(v) for v in ends if not req.specifier.contains(v, True))})"
        for who, req in extra_requirements()
        if canonical(req.name) == name and not all(req.specifier.contains(v, prereleases=True) for v in ends)
    ]
    assert not narrowing, (
        f"pyproject.toml admits {runtime}, but the test extra narrows it, so the suite would test "
        f"another version than `pip install .` gives: {'; '.join(narrowing)}. Pin the runtime range within it."
    )


def test_a_narrowing_requirement_is_seen() -> None:
    """The check above can fail: today's schemathesis pin against the range this project used to ship."""
    pin = SpecifierSet(">=0.60.1,<0.61.0")  # schemathesis 4.x on jsonschema-rs
    assert [str(v) for v in probes(SpecifierSet(">=0.23,<1")) if not pin.contains(v)] == ["0.23", "0.99999"]
