"""Hostile documents: every loader refuses them with a located ``DefinitionError`` and nothing else.

The corpus lives in ``tests/hostile/<kind>/``, one folder per loader (``workflow``,
``chart``, ``rules``, ``job``). A YAML file states what it must give on its first line,
``# expect: CODE LINE:COLUMN``; JSON files (which cannot carry comments) are listed in
:data:`JSON_EXPECTED`. Huge, deep and binary inputs are generated in ``tmp_path``.
A seeded, dependency-free fuzz loop then mutates the shipped documents and checks that
no other exception ever escapes the loaders.
"""

from __future__ import annotations

import copy
import json
import random
import re
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from stepchart import DefinitionError, Engine, data_dir
from stepchart.io.yamldoc import MAX_BYTES, MAX_DEPTH, parse_yaml, read_yaml_file
from stepchart.load.charts import load_chart, load_chart_dir, parse_chart
from stepchart.load.workflows import load_workflow
from stepchart.rules import load_rules, parse_rules

HOSTILE = Path(__file__).resolve().parent / "hostile"
KINDS = ("workflow", "chart", "rules", "job")
NOW = "2026-03-01T09:00:00Z"
# Stable kebab-case codes; schema keywords without a code of their own keep their name (schema-minItems).
CODE = re.compile(r"^([a-z][a-z0-9]*(-[a-z0-9]+)*|schema-[a-zA-Z]+)$")
EXPECT = re.compile(rb"^# expect: ([A-Za-z0-9-]+) (\d+):(\d+)\s*$")

JSON_EXPECTED: dict[str, tuple[str, int, int]] = {
    "job/unknown-status.json": ("unknown-status", 5, 34),
    "job/status-is-final-state.json": ("unknown-status", 5, 34),
    "job/status-wrong-type.json": ("wrong-type", 5, 34),
    "job/current-step-not-in-workflow.json": ("unknown-step", 6, 16),
    "job/duplicate-current-step.json": ("duplicate-current-step", 6, 16),
    "job/date-february-30.json": ("bad-format", 6, 14),
    "job/date-without-zone.json": ("bad-format", 6, 51),
    "job/date-second-60.json": ("bad-format", 6, 60),
    "job/date-beyond-year-9999.json": ("bad-format", 6, 56),
    "job/date-as-number.json": ("wrong-type", 5, 14),
    "job/unknown-workflow.json": ("unknown-workflow", 3, 15),
    "job/duplicate-key.json": ("duplicate-key", 5, 3),
    "job/nan-value.json": ("wrong-type", 4, 13),
    "job/unknown-key.json": ("unknown-key", 4, 3),
    "job/root-is-array.json": ("not-a-mapping", 1, 1),
    "job/missing-job-id.json": ("missing-key", 1, 1),
    "job/duplicate-hold-id.json": ("duplicate-hold", 7, 16),
    "job/trailing-garbage.json": ("yaml-syntax", 4, 3),
}


# -- the loaders, one per corpus folder ----------------------------------------------------


@pytest.fixture(scope="module")
def loaders(base_engine: Engine) -> dict[str, Callable[[Path], object]]:
    """Each corpus folder's loader, as a designer or host would call it on a file."""
    engine = base_engine.spawn()
    engine.add_workflow(data_dir("examples") / "parcel-edit.yaml")
    return {
        "workflow": lambda p: load_workflow(p, base_engine.step_types),
        "chart": load_chart,
        "rules": load_rules,
        "job": lambda p: engine.load_job(p, now=NOW),
    }


def refusal(load: Callable[[Any], object], source: Any) -> DefinitionError:
    """The ``DefinitionError`` that loading ``source`` raises; anything else fails the test."""
    try:
        load(source)
    except DefinitionError as exc:
        return exc
    except Exception:
        pytest.fail(f"a non-DefinitionError escaped the loader for {source!r}:\n{traceback.format_exc()}")
    pytest.fail(f"the loader accepted {source!r}")


def assert_located(error: DefinitionError, file: str, data: bytes | None = None) -> None:
    """Every problem names the file, a 1-based position inside it, a stable code and a message."""
    assert error.problems
    try:
        lines = data.decode("utf-8").removeprefix("\ufeff").split("\n") if data is not None else None
    except UnicodeDecodeError:
        lines = None
    for p in error.problems:
        assert p.file == file, p
        assert p.line >= 1 and p.column >= 1, p
        assert CODE.match(p.code), p
        assert p.message.strip(), p
        assert str(p).startswith(f"{file}:{p.line}:{p.column}: error[{p.code}]: "), p
        if lines is not None:
            assert p.line <= len(lines), f"{p}: line beyond the end of the file"
            assert p.column <= len(lines[p.line - 1]) + 1, f"{p}: column beyond the end of the line"


# -- the committed corpus ------------------------------------------------------------------


def _corpus() -> list[Path]:
    return sorted(p for kind in KINDS for p in (HOSTILE / kind).iterdir() if p.is_file())


CORPUS = _corpus()


def expectation(path: Path) -> tuple[str, int, int]:
    rel = f"{path.parent.name}/{path.name}"
    if rel in JSON_EXPECTED:
        return JSON_EXPECTED[rel]
    m = EXPECT.match(path.read_bytes().split(b"\n", 1)[0])
    assert m is not None, f"{rel} states no '# expect: CODE LINE:COLUMN' and is not in JSON_EXPECTED"
    return m.group(1).decode(), int(m.group(2)), int(m.group(3))


def test_the_corpus_is_large_and_covers_every_loader() -> None:
    assert len(CORPUS) >= 40
    for kind in KINDS:
        assert len([p for p in CORPUS if p.parent.name == kind]) >= 10, kind
    listed = {f"{p.parent.name}/{p.name}" for p in CORPUS}
    assert set(JSON_EXPECTED) <= listed, set(JSON_EXPECTED) - listed


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_hostile_file_is_refused_with_a_located_problem(
    path: Path, loaders: dict[str, Callable[[Path], object]]
) -> None:
    """Each hostile file gives a DefinitionError whose first problem has the expected code and place."""
    error = refusal(loaders[path.parent.name], path)
    assert_located(error, str(path), path.read_bytes())
    code, line, column = expectation(path)
    first = error.first
    assert (first.code, first.line, first.column) == (code, line, column), str(error)


# -- generated hostile files (too big, too deep or too binary to commit) ---------------------

WORKFLOW_TAIL = b"workflow: w\ninitialStep: a\nsteps: [{id: a, type: manual}]\n"


def _long_line() -> bytes:
    head = b'{workflow: w, initialStep: a, steps: [{id: a, type: manual}], name: "'
    return head + b"x" * 600_000 + b'", colour: red}\n'


GENERATED: list[tuple[str, str, Callable[[], bytes], tuple[str, int | None, int | None]]] = [
    # (kind, name, content, (code, line, column)); None: not pinned
    *[
        (kind, "over-1-mib.yaml", lambda: b"# " + b"x" * MAX_BYTES + b"\n" + WORKFLOW_TAIL, ("too-large", 1, 1))
        for kind in KINDS
    ],
    *[
        (kind, "deep-flow-10000.yaml", lambda: b"a: " + b"[" * 10_000 + b"]" * 10_000 + b"\n", ("too-deep", 1, None))
        for kind in KINDS
    ],
    ("workflow", "deep-flow-mappings-10000.yaml", lambda: b"{a: " * 10_000 + b"}" * 10_000, ("too-deep", 1, None)),
    ("workflow", "deep-block-10000.yaml", lambda: b"- " * 10_000 + b"x\n", ("too-deep", 1, 2 * MAX_DEPTH + 1)),
    (
        "workflow",
        "deep-block-mappings-1000.yaml",
        lambda: b"".join(b" " * i + b"a:\n" for i in range(1000)),
        ("too-deep", MAX_DEPTH + 1, MAX_DEPTH + 1),
    ),
    ("workflow", "deep-flow-70.yaml", lambda: b"[" * 70 + b"]" * 70, ("too-deep", 1, MAX_DEPTH + 1)),
    ("workflow", "random-binary.yaml", lambda: random.Random(7).randbytes(4096), ("not-utf8", None, None)),
    ("workflow", "invalid-utf8.yaml", lambda: WORKFLOW_TAIL + b"name: caf\xe9\n", ("not-utf8", 4, 10)),
    ("workflow", "latin1-text.yaml", lambda: "name: Zürich\n".encode("latin-1"), ("not-utf8", 1, 8)),
    ("workflow", "utf16.yaml", lambda: "workflow: w\n".encode("utf-16"), ("not-utf8", 1, 1)),
    ("workflow", "nul-byte.yaml", lambda: b"workflow: w\nname: a\x00b\n", ("not-text", 2, 8)),
    ("workflow", "control-character.yaml", lambda: b"workflow: w\nname: ding\x07dong\n", ("not-text", 2, 11)),
    ("workflow", "escape-sequence.yaml", lambda: b"workflow: w\nname: \x1b[31mred\n", ("not-text", 2, 7)),
    (
        "workflow",
        "bom-then-unknown-key.yaml",
        lambda: b"\xef\xbb\xbfcolour: red\n" + WORKFLOW_TAIL,
        ("unknown-key", 1, 1),
    ),
    ("workflow", "bom-inside.yaml", lambda: b"workflow: w\n\xef\xbb\xbfinitialStep: a\n", ("yaml-syntax", None, None)),
    ("workflow", "empty.yaml", lambda: b"", ("empty", 1, 1)),
    ("workflow", "whitespace-only.yaml", lambda: b"  \n\n   \n", ("empty", 1, 1)),
    ("workflow", "very-long-line.yaml", _long_line, ("unknown-key", 1, _long_line().index(b"colour") + 1)),
    ("workflow", "long-key.yaml", lambda: b"k" * 2000 + b": 1\n", ("yaml-syntax", 1, None)),
    (
        "workflow",
        "crlf-line-ends.yaml",
        lambda: WORKFLOW_TAIL.replace(b"\n", b"\r\n") + b"colour: red\r\n",
        ("unknown-key", 4, 1),
    ),
    (
        "workflow",
        "many-keys-then-duplicate.yaml",
        lambda: b"".join(b"k%d: %d\n" % (i, i) for i in range(20_000)) + b"k7: again\n",
        ("duplicate-key", 20_001, 1),
    ),
    ("chart", "nul-byte.yaml", lambda: b"stepType: x\x00\n", ("not-text", 1, 12)),
    ("rules", "invalid-utf8.yaml", lambda: b"rules:\n  - name: \xff\n", ("not-utf8", 2, 11)),
    (
        "job",
        "utf16.json",
        lambda: json.dumps({"jobId": "J", "workflow": "parcel-edit"}).encode("utf-16"),
        ("not-utf8", 1, 1),
    ),
    ("job", "empty.json", lambda: b"", ("empty", 1, 1)),
]


@pytest.mark.parametrize(
    ("kind", "name", "content", "expected"), GENERATED, ids=[f"{k}/{n}" for k, n, _c, _e in GENERATED]
)
def test_generated_hostile_file_is_refused(
    tmp_path: Path,
    loaders: dict[str, Callable[[Path], object]],
    kind: str,
    name: str,
    content: Callable[[], bytes],
    expected: tuple[str, int | None, int | None],
) -> None:
    data = content()
    path = tmp_path / name
    path.write_bytes(data)
    error = refusal(loaders[kind], path)
    assert_located(error, str(path), data if len(data) <= MAX_BYTES else None)
    code, line, column = expected
    assert error.code == code, str(error)[:500]
    if line is not None:
        assert error.line == line, str(error)[:500]
    if column is not None:
        assert error.column == column, str(error)[:500]


def test_a_file_of_exactly_one_mib_is_read(tmp_path: Path) -> None:
    """The limit is 'over 1 MiB': a file of exactly MAX_BYTES is still a document."""
    padding = MAX_BYTES - len(WORKFLOW_TAIL) - 3
    path = tmp_path / "one-mib.yaml"
    path.write_bytes(b"# " + b"x" * padding + b"\n" + WORKFLOW_TAIL)
    assert path.stat().st_size == MAX_BYTES
    assert read_yaml_file(path).value["workflow"] == "w"
    path.write_bytes(path.read_bytes() + b"\n")
    assert refusal(read_yaml_file, path).code == "too-large"


def test_missing_or_unreadable_paths_are_definition_errors(tmp_path: Path, base_engine: Engine) -> None:
    missing = tmp_path / "nowhere.yaml"
    for load in (read_yaml_file, load_chart, load_rules, lambda p: load_workflow(p, base_engine.step_types)):
        error = refusal(load, missing)
        assert (error.code, error.file, error.line, error.column) == ("unreadable", str(missing), 1, 1)
    error = refusal(read_yaml_file, tmp_path)  # a folder is not a document
    assert error.code == "unreadable"
    error = refusal(load_chart_dir, missing.with_suffix(""))  # a chart folder that is not there
    assert (error.code, error.file) == ("unreadable", str(missing.with_suffix("")))


def test_an_engine_given_a_hostile_chart_folder_refuses_it_at_load(tmp_path: Path) -> None:
    """Reserved state ids are refused when the chart loads, not later when python-statemachine compiles it."""
    for name in ("state-listeners.yaml", "state-history-values.yaml", "state-named-like-event.yaml"):
        (tmp_path / name).write_bytes((HOSTILE / "chart" / name).read_bytes())
    error = refusal(lambda charts: Engine(charts=[charts]), tmp_path)
    assert sorted((Path(p.file).name, p.code) for p in error.problems) == [
        ("state-history-values.yaml", "reserved-name"),
        ("state-listeners.yaml", "reserved-name"),
        ("state-named-like-event.yaml", "reserved-name"),
    ]


def test_a_lone_surrogate_in_text_is_located() -> None:
    error = refusal(parse_yaml, "workflow: w\nname: a\ud800b\n")
    assert (error.code, error.line, error.column) == ("not-utf8", 2, 8)


def test_the_reserved_name_message_says_what_to_do() -> None:
    """DESIGN 3: state ids that clash with python-statemachine are refused with a clear message."""
    error = refusal(load_chart, HOSTILE / "chart" / "state-configuration.yaml")
    assert "'configuration'" in error.first.message
    assert "python-statemachine" in error.first.message and "choose another" in error.first.message
    assert error.path == ("states", "configuration")


def test_unknown_key_messages_list_what_is_allowed(loaders: dict[str, Callable[[Path], object]]) -> None:
    error = refusal(loaders["workflow"], HOSTILE / "workflow" / "unknown-key-in-step.yaml")
    assert "'script'" in error.first.message
    assert "allowed here: answers, assignedTo, assignedType, automatic, canSkip" in error.first.message
    assert error.path == ("steps", 0, "script")


# -- a seeded fuzz loop over mutations of the shipped documents ------------------------------

TOKENS = [
    "&a ", "*a", "<<: ", "!!python/object:os.system ", "!!str ", "!!int ", "!!map ", "!!seq ", "!!binary ",
    "!x ", "---\n", "...\n", "\t", "{", "}", "[", "]", ":", ": ", "- ", "? ", "~", "1", "-1", "1.5", "1e400",
    "true", "yes", "null", "\x01", "\x00", "\ufeff", "\ud800", "é", "'", '"', "#", "|", ">", ",", "\n", "  ",
    "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "[[[[[[[[[[[[[[[[[[[[", "9" * 40, "\\", "\r\n", "\u2028", "\x85",
]  # fmt: skip
WORDS = [
    "1", "-1", "1.5", "true", "null", "~", "yes", "on", "run", "finish", "listeners", "send", "model", "states",
    "configuration", "Send", "<<", "x", "Finished", "Ready", "Running", "''", "[]", "{}", "2026-02-30T00:00:00Z",
    "step.bogus", "step.held", "Success", "1e400", "InvalidRequest", "NaN",
]  # fmt: skip
KEYS: list[Any] = [1, True, None, 1.5, "run", "listeners", "send", "model", "configuration", "x", "<<", "extra"]
VALUES: list[Any] = [
    None, True, False, 0, -1, 1.5, 10**30, "", "x", "send", "model", "states", "Ready", "Finished", "yes", [], {},
    [1], {"a": 1}, {1: 2}, "2026-02-30T00:00:00Z", "2026-01-01T00:00:00", "approve", "edit", "nope", "Success",
    "Skipped", "actor.privilege", "step.held", "InvalidRequest", "Held", "Running", "listeners", "run",
]  # fmt: skip
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


def _seeds() -> dict[str, list[str]]:
    return {
        "chart": [p.read_text("utf-8") for p in sorted(data_dir("statecharts").glob("*.yaml"))],
        "rules": [p.read_text("utf-8") for p in sorted(data_dir("rules").glob("*.yaml"))],
        "workflow": [p.read_text("utf-8") for p in sorted(data_dir("examples").glob("*.yaml"))],
        "job": [
            json.dumps(
                {
                    "jobId": "J",
                    "workflow": "parcel-edit",
                    "closed": False,
                    "currentSteps": [{"stepId": "edit", "status": "Ready", "assignedType": "Group", "assignedTo": "x"}],
                    "holds": [{"holdId": "H1", "stepId": "edit", "setBy": "bob", "setDate": "2026-01-01T00:00:00Z"}],
                    "returnValues": {"start": "Success"},
                    "history": [{"date": "2026-01-01T00:00:00Z", "stepId": "start", "action": "Finished"}],
                },
                indent=2,
            )
        ],
    }


def _mutate_text(r: random.Random, text: str) -> str:
    """One to three local edits: a token in, a word swapped, a slice out, a line doubled or dropped."""
    for _ in range(r.choice((1, 1, 1, 2, 3))):
        op = r.random()
        i = r.randrange(len(text) + 1)
        if op < 0.2:
            text = text[:i] + r.choice(TOKENS) + text[i:]
        elif op < 0.45:
            words = list(IDENT.finditer(text))
            if words:
                w = r.choice(words)
                text = text[: w.start()] + r.choice(WORDS) + text[w.end() :]
        elif op < 0.6:
            text = text[:i] + text[i + r.randint(1, 20) :]
        elif op < 0.8:
            lines = text.split("\n")
            lines.insert(r.randrange(len(lines) + 1), r.choice(lines))
            text = "\n".join(lines)
        elif op < 0.9:
            lines = text.split("\n")
            del lines[r.randrange(len(lines))]
            text = "\n".join(lines)
        else:
            text = text[:i] + chr(r.randrange(1, 0x3000)) + text[i + 1 :]
    return text


def _containers(value: Any) -> Iterator[Any]:
    if isinstance(value, dict | list):
        if value:
            yield value
        for child in value.values() if isinstance(value, dict) else value:
            yield from _containers(child)


def _mutate_tree(r: random.Random, tree: Any) -> Any:
    """One or two structural edits, so most of the document stays valid and deep checks run."""
    tree = copy.deepcopy(tree)
    for _ in range(r.randint(1, 2)):
        nodes = list(_containers(tree))
        if not nodes:
            break
        node = r.choice(nodes)
        op = r.random()
        if isinstance(node, dict):
            key = r.choice(list(node))
            if op < 0.35:
                node[key] = copy.deepcopy(r.choice(VALUES))
            elif op < 0.55:
                del node[key]
            elif op < 0.8:
                node[r.choice(KEYS)] = node.pop(key)
            else:
                node[r.choice(KEYS)] = copy.deepcopy(r.choice(VALUES))
        else:
            i = r.randrange(len(node))
            if op < 0.4:
                node[i] = copy.deepcopy(r.choice(VALUES))
            elif op < 0.6:
                del node[i]
            elif op < 0.8:
                node.append(copy.deepcopy(node[i]))
            else:
                node.insert(i, copy.deepcopy(r.choice(VALUES)))
    return tree


def _soup(r: random.Random) -> str:
    """YAML-ish token soup: indentation, punctuation, words and tokens at random."""
    parts = []
    for _ in range(r.randint(1, 60)):
        parts.append(r.choice(("", "  ", "    ", "\n", "\n  ", "- ", ": ")))
        parts.append(r.choice(TOKENS) if r.random() < 0.4 else r.choice(WORDS))
    return "".join(parts)


def _case(r: random.Random, kind: str, seeds: dict[str, list[str]], trees: dict[str, Any]) -> str | bytes:
    source = r.choice(seeds[kind])
    mode = r.random()
    if mode < 0.45:
        return _mutate_text(r, source)
    if mode < 0.85:
        tree = _mutate_tree(r, trees[source])
        if r.random() < 0.25:
            return json.dumps(tree, default=str)
        dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return str(yaml.dump(tree, Dumper=dumper, sort_keys=False, allow_unicode=True,
                             default_flow_style=r.random() < 0.5))  # fmt: skip
    if mode < 0.93:
        return _soup(r)
    data = r.randbytes(r.randint(0, 300))
    return source.encode("utf-8")[: r.randrange(len(source))] + data if r.random() < 0.5 else data


# A few thousand cases in all, weighted by what one costs, so the loop stays a few seconds.
def _as_text(data: str | bytes) -> str:
    """Text for ``load_workflow`` (which reads a one-line ``*.yaml`` string as a path): bad bytes stay bad."""
    text = data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data
    return text if "\n" in text else text + "\n"


FUZZ_CASES = {"parse_yaml": 1000, "job": 800, "workflow": 500, "chart": 400, "rules": 300}


@pytest.mark.parametrize("kind", list(FUZZ_CASES))
def test_fuzz_only_definition_errors_escape(kind: str, base_engine: Engine) -> None:
    """Seeded mutations of the shipped files: each loader returns or raises DefinitionError, never else."""
    seeds = _seeds()
    trees = {s: yaml.safe_load(s) for group in seeds.values() for s in group}
    engine = base_engine.spawn()
    engine.add_workflow(data_dir("examples") / "parcel-edit.yaml")

    def load_job(text: str | bytes, n: list[int] = [0]) -> object:  # noqa: B006 - a counter for unique ids
        doc = parse_yaml(text, "fuzz.json")
        if isinstance(doc.value, dict) and isinstance(doc.value.get("jobId"), str):
            n[0] += 1
            doc.value["jobId"] = f"F{n[0]}"
        return engine.load_job(doc, now=NOW)

    load: dict[str, Callable[[str | bytes], object]] = {
        "parse_yaml": lambda t: parse_yaml(t, "fuzz.yaml"),
        "workflow": lambda t: load_workflow(_as_text(t), engine.step_types, file="fuzz.yaml"),
        "chart": lambda t: parse_chart(parse_yaml(t, "fuzz.yaml")),
        "rules": lambda t: parse_rules(parse_yaml(t, "fuzz.yaml")),
        "job": load_job,
    }
    r = random.Random(f"stepchart-fuzz-{kind}")
    refused = 0
    for i in range(FUZZ_CASES[kind]):
        text = _case(r, r.choice(KINDS) if kind == "parse_yaml" else kind, seeds, trees)
        try:
            load[kind](text)
        except DefinitionError as exc:
            refused += 1
            first = exc.first
            assert first.file and first.line >= 1 and first.column >= 1 and CODE.match(first.code) and first.message
        except Exception:
            pytest.fail(
                f"case {i} of {kind}: a non-DefinitionError escaped for {text!r:.400}\n{traceback.format_exc()}"
            )
    assert 0 < refused < FUZZ_CASES[kind]  # the mutations reach both outcomes
