"""``stepchart check``: every load error, then what a designer would want to know before a job hits it.

The kind of each file (workflow, lifecycle chart, rules, scenario) is read from its
content, so folders can be checked as they are. Each finding is a located
:class:`~stepchart.errors.Problem` with a stable code from :data:`CODES`; load errors
carry the codes of the loaders, the semantic findings the codes below.

Semantic findings, by kind:

* workflows: steps no path reaches, steps from which no path leads to an end, loops of
  automatic steps that finish themselves on Run, question answers no path takes, paths
  on return values the step's type never gives, duplicate paths;
* charts and rules together: events a chart never handles in a state where the rules
  allow the action that sends them (the engine would answer ``InvalidRequest``);
* rules: a ``require`` that can never pass, or never fail, whatever the facts
  (decided by enumerating the truth values of the facts it reads, where few enough).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DefinitionError, Problem
from ..io.files import data_dir
from ..io.schemas import check_document
from ..io.yamldoc import Document, read_yaml_file
from ..load.charts import GUARDS, parse_chart
from ..load.workflows import parse_workflow
from ..model import ChartTransition, PathDef, StepDef, StepType, Workflow
from ..rules import Rule, RuleSet, order_rules, parse_rules

__all__ = [
    "CODES",
    "CheckResult",
    "CheckedFile",
    "chart_event_problems",
    "check_paths",
    "document_kind",
    "rule_problems",
    "workflow_problems",
]

# -- the one table of codes ------------------------------------------------------------------

CODES: dict[str, tuple[str, str]] = {
    # reading a file (yamldoc)
    "unreadable": ("error", "the file cannot be read"),
    "too-large": ("error", "the file is over 1 MiB"),
    "not-utf8": ("error", "the file is not UTF-8 text"),
    "not-text": ("error", "the file holds a NUL or another character YAML does not allow"),
    "yaml-syntax": ("error", "YAML syntax error"),
    "empty": ("error", "the document is empty"),
    "several-documents": ("error", "a file holds one YAML document; another '---' was found"),
    "alias": ("error", "YAML aliases (*name) are not allowed"),
    "anchor": ("error", "YAML anchors (&name) are not allowed"),
    "merge-key": ("error", "YAML merge keys (<<) are not allowed"),
    "tag": ("error", "a tag outside the core YAML schema"),
    "bad-scalar": ("error", "a value that does not fit its tag, or a number out of range"),
    "complex-key": ("error", "a mapping key that is not a plain scalar"),
    "duplicate-key": ("error", "a key that appears twice in one mapping"),
    "too-deep": ("error", "nesting deeper than 64 levels"),
    "not-a-mapping": ("error", "the document is not a mapping"),
    "unknown-document": ("error", "a file named on the command line that is not a workflow, chart, rules or scenario"),
    # the shipped JSON Schemas (schemacheck)
    "unknown-key": ("error", "a key the schema does not allow here"),
    "missing-key": ("error", "a required key is missing"),
    "wrong-type": ("error", "a value of the wrong JSON type"),
    "bad-value": ("error", "a value outside the allowed ones"),
    "bad-format": ("error", "a date-time that is not RFC 3339 with a zone (R10)"),
    "bad-name": ("error", "an id that does not match its pattern"),
    "schema-KEYWORD": ("error", "any other schema keyword, e.g. schema-minItems, schema-oneOf"),
    # lifecycle charts (charts)
    "reserved-name": ("error", "a state id that clashes with a python-statemachine name or an event"),
    "unknown-state": ("error", "a transition or the initial state names a state the chart lacks"),
    "final-initial": ("error", "the initial state is final"),
    "no-final-state": ("error", "a chart without a final state"),
    "move-from-final": ("error", "a transition out of a final state"),
    "return-value-not-final": ("error", "a returnValue on a move that does not finish the step"),
    "missing-return-value": ("error", "a move into a final state that does not say its return value"),
    "unreachable-state": ("error", "a state no move reaches that is not marked external"),
    "invalid-lifecycle": ("error", "python-statemachine refuses the chart"),
    "duplicate-step-type": ("error", "two charts define the same step type"),
    # rules (rules)
    "unknown-fact": ("error", "a condition names a fact outside the vocabulary"),
    "step-fact-in-request-rule": ("error", "a request-level rule reads a fact about a target step"),
    "missing-argument": ("error", "a fact that needs an argument is written bare"),
    "bad-argument": ("error", "a fact argument of the wrong kind"),
    "bad-condition": ("error", "a condition that is not a fact, all/any/not, true or false"),
    "status-in-request-rule": ("error", "a request-level rule yields a step status"),
    "duplicate-rule": ("error", "two rules with one name"),
    "unknown-rule": ("error", "before: names no rule"),
    # workflows (workflows)
    "duplicate-step": ("error", "two steps with one id"),
    "unknown-step-type": ("error", "a step type no chart defines"),
    "answers-not-allowed": ("error", "answers on a step whose type is not answered by respond"),
    "missing-assignee": ("error", "assignedType User or Group without assignedTo"),
    "assignee-without-type": ("error", "assignedTo without assignedType User or Group"),
    "unknown-initial-step": ("error", "initialStep names no step"),
    "unknown-step": ("error", "a path leads to a step the workflow lacks"),
    # job documents (jobs)
    "missing-workflow": ("error", "a job document that does not name its workflow"),
    "unknown-workflow": ("error", "a job document naming a workflow that is not loaded"),
    "unknown-status": ("error", "a current step's status is not a non-final state of its chart"),
    "duplicate-current-step": ("error", "a step current twice in a job document"),
    "duplicate-hold": ("error", "two holds with one id in a job document"),
    "duplicate-job": ("error", "a job id that is already stored"),
    # semantic findings of stepchart check
    "unreachable-step": ("warning", "no path that can be taken reaches the step from the initial step"),
    "no-way-to-end": ("warning", "no path that can be taken leads from the step to a step that ends its branch"),
    "automatic-loop": ("error", "automatic steps that finish themselves on Run lead back to themselves"),
    "unused-answer": ("error", "a question's answer that no path takes (respond with it is refused)"),
    "impossible-return-value": ("warning", "a path on a return value the step's type never gives"),
    "duplicate-path": ("warning", "two paths from one step with the same condition to the same step"),
    "duplicate-workflow": ("warning", "two checked files define the same workflow id"),
    "unhandled-event": ("error", "the rules allow an action in a state where the chart has no move for it"),
    "rule-never-passes": ("error", "a rule whose require is false whatever the facts: the action is always refused"),
    "rule-never-fails": ("warning", "a rule whose require is true whatever the facts: it never refuses"),
    "scenario-workflow-missing": ("error", "a scenario's workflow: path names no file"),
}
"""Every code ``stepchart check`` can report: code -> (severity, meaning)."""

ACTION_EVENTS = {"Run": "run", "Stop": "stop", "Finish": "finish", "Respond": "respond",
                 "Complete": "complete", "Fail": "fail"}  # fmt: skip
"""The actions that send a lifecycle event, and the event each sends."""

MAX_WORLDS = 1 << 16
"""Rules whose facts admit more truth assignments than this are not decided."""


# -- file discovery and kinds ------------------------------------------------------------------


def document_kind(value: Any) -> str:
    """``workflow``, ``chart``, ``rules``, ``scenario``, ``job`` or ``unknown``, from a document's top-level keys."""
    if not isinstance(value, dict):
        return "unknown"
    keys = set(value)
    if keys & {"do", "scenarios"}:
        return "scenario"
    if "jobId" in keys:
        return "job"
    if "stepType" in keys or {"states", "transitions"} <= keys:
        return "chart"
    if "rules" in keys:
        return "rules"
    if keys & {"workflow", "initialStep", "steps"}:
        return "workflow"
    return "unknown"


def expand_paths(paths: Sequence[str | Path]) -> tuple[list[tuple[Path, bool]], list[str]]:
    """(file, named directly) for every file to check, and the paths that do not exist.

    Folders are searched recursively for ``*.yaml``/``*.yml``, skipping hidden folders.
    """
    out: list[tuple[Path, bool]] = []
    missing: list[str] = []
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            missing.append(str(raw))
            continue
        if p.is_file():
            found = [(p, True)]
        else:
            found = [
                (f, False)
                for f in sorted(p.rglob("*"))
                if f.suffix in (".yaml", ".yml")
                and f.is_file()
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            ]
        for f, direct in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                out.append((f, direct))
    return out, missing


@dataclass
class CheckedFile:
    """One file and what was found in it."""

    path: str
    kind: str
    problems: list[Problem] = field(default_factory=list)
    skipped: bool = False

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity == "warning")


@dataclass
class CheckResult:
    """Everything ``check_paths`` found, in file order then position."""

    files: list[CheckedFile]

    @property
    def problems(self) -> list[Problem]:
        return [p for f in self.files for p in f.problems]

    @property
    def errors(self) -> int:
        return sum(f.errors for f in self.files)

    @property
    def warnings(self) -> int:
        return sum(f.warnings for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        checked = [f for f in self.files if not f.skipped]
        return {
            "files": [{"file": f.path, "kind": f.kind, "errors": f.errors, "warnings": f.warnings} for f in checked],
            "problems": [p.to_dict() for p in self.problems],
            "summary": {
                "files": len(checked),
                "skipped": len(self.files) - len(checked),
                "errors": self.errors,
                "warnings": self.warnings,
            },
        }


# -- the whole check -----------------------------------------------------------------------------


class _Files:
    """Problems gathered per file, in the order files were first seen."""

    def __init__(self) -> None:
        self.by_path: dict[str, CheckedFile] = {}

    def get(self, path: str, kind: str = "unknown") -> CheckedFile:
        f = self.by_path.get(path)
        if f is None:
            f = self.by_path[path] = CheckedFile(path, kind)
        return f

    def add(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            f = self.get(p.file)
            if p not in f.problems:
                f.problems.append(p)

    def result(self) -> CheckResult:
        files = list(self.by_path.values())
        for f in files:
            f.problems.sort(key=lambda p: (p.line, p.column, p.code, p.message))
        return CheckResult(files)


def check_paths(
    paths: Sequence[str | Path],
    *,
    charts: Sequence[str | Path] | None = None,
    rules: Sequence[str | Path] | None = None,
) -> CheckResult:
    """Check files and folders; ``charts``/``rules`` are the context folders (default: the shipped ones).

    Raises ``FileNotFoundError`` naming the paths that do not exist.
    """
    found, missing = expand_paths(paths)
    if missing:
        raise FileNotFoundError(", ".join(missing))
    out = _Files()
    docs: dict[str, list[tuple[Document, CheckedFile]]] = {
        "workflow": [], "chart": [], "rules": [], "scenario": [], "job": [],
    }  # fmt: skip
    for path, direct in found:
        name = str(path)
        try:
            doc = read_yaml_file(path)
        except DefinitionError as exc:
            out.get(name, "invalid")
            out.add(exc.problems)
            continue
        kind = document_kind(doc.value)
        entry = out.get(name, kind)
        if kind == "unknown":
            if direct:
                entry.problems.append(
                    doc.problem(
                        (), "unknown-document",
                        "not a stepchart document: a workflow has steps:, a chart stepType:, rules rules:, "
                        "a scenario do: or scenarios:, a job document jobId:",
                    )
                )  # fmt: skip
            else:
                entry.skipped = True
            continue
        docs[kind].append((doc, entry))

    step_types, broken_types, chart_docs = _context_charts(docs["chart"], charts, out)
    ruleset, rules_checked = _context_rules(docs["rules"], rules, out)

    workflow_ids: dict[str, str] = {}
    for doc, entry in docs["workflow"]:
        try:
            wf = parse_workflow(doc, step_types)
        except DefinitionError as exc:
            out.add(
                p for p in exc.problems if not (p.code == "unknown-step-type" and _names_broken(doc, p, broken_types))
            )
            continue
        entry.problems.extend(workflow_problems(wf, doc, step_types))
        if wf.id in workflow_ids:
            entry.problems.append(
                doc.problem(
                    ("workflow",), "duplicate-workflow",
                    f"workflow id {wf.id!r} is also defined in {workflow_ids[wf.id]}; a job would use the last loaded",
                    severity="warning",
                )
            )  # fmt: skip
        else:
            workflow_ids[wf.id] = doc.file

    for doc, entry in docs["scenario"]:
        entry.problems.extend(check_document(doc, "scenario"))
        entry.problems.extend(_scenario_workflow_paths(doc))
    for doc, entry in docs["job"]:  # the job's workflow is named by id: the schema is what can be checked alone
        entry.problems.extend(check_document(doc, "job"))

    if ruleset is not None and (docs["chart"] or rules_checked):
        checked_ids = {st.id for st, _ in chart_docs.values()}
        for type_id, (st, doc) in sorted(chart_docs.items()):
            if rules_checked or type_id in checked_ids:
                unhandled = chart_event_problems(st, doc, ruleset)
                if unhandled:
                    out.get(doc.file, "chart")  # a context chart (shipped or --charts) shows as one
                out.add(unhandled)
    if ruleset is not None and rules_checked:
        for doc, entry in docs["rules"]:
            entry.problems.extend(rule_problems(doc, ruleset))
    return out.result()


def _names_broken(doc: Document, problem: Problem, broken: set[str]) -> bool:
    """A workflow's unknown step type that is a checked chart failing to load: reported there, not here."""
    node: Any = doc.value
    try:
        for part in problem.path:
            node = node[part]
    except (KeyError, IndexError, TypeError):
        return False
    return isinstance(node, str) and node in broken


def _context_charts(
    checked: list[tuple[Document, CheckedFile]], charts: Sequence[str | Path] | None, out: _Files
) -> tuple[dict[str, StepType], set[str], dict[str, tuple[StepType, Document]]]:
    """The step types workflows are checked against: the context folders overlaid by the checked charts."""
    types: dict[str, StepType] = {}
    docs: dict[str, tuple[StepType, Document]] = {}
    checked_paths = {Path(doc.file).resolve() for doc, _ in checked}
    for folder in charts if charts is not None else [data_dir("statecharts")]:
        p = Path(folder)
        files = sorted(f for f in p.iterdir() if f.suffix in (".yaml", ".yml") and f.is_file()) if p.is_dir() else [p]
        for f in files:
            if f.resolve() in checked_paths:
                continue
            try:
                doc = read_yaml_file(f)
                st = parse_chart(doc)
            except DefinitionError as exc:
                out.get(str(f), "chart")
                out.add(exc.problems)
                continue
            types[st.id] = st
            docs[st.id] = (st, doc)
    broken: set[str] = set()
    mine: dict[str, str] = {}
    for doc, entry in checked:
        try:
            st = parse_chart(doc)
        except DefinitionError as exc:
            entry.problems.extend(exc.problems)
            if isinstance(doc.value.get("stepType"), str):
                broken.add(doc.value["stepType"])
            continue
        if st.id in mine:
            entry.problems.append(
                doc.problem(
                    ("stepType",), "duplicate-step-type", f"step type {st.id!r} is already defined in {mine[st.id]}"
                )
            )
            continue
        mine[st.id] = doc.file
        types[st.id] = st
        docs[st.id] = (st, doc)
    return types, broken - set(mine), docs


def _context_rules(
    checked: list[tuple[Document, CheckedFile]], rules: Sequence[str | Path] | None, out: _Files
) -> tuple[RuleSet | None, bool]:
    """The rule set charts are checked against, and whether it includes checked files.

    With rules files among the checked files, they form the set (with ``--rules`` folders
    added before them); otherwise the ``--rules`` folders, or the shipped rules.
    """
    checked_paths = {Path(doc.file).resolve() for doc, _ in checked}
    context = list(rules) if rules is not None else ([] if checked else [data_dir("rules")])
    parsed: list[Rule] = []
    ok = True
    for folder in context:
        p = Path(folder)
        files = sorted(f for f in p.iterdir() if f.suffix in (".yaml", ".yml") and f.is_file()) if p.is_dir() else [p]
        for f in files:
            if f.resolve() in checked_paths:
                continue
            try:
                parsed.extend(parse_rules(read_yaml_file(f)))
            except DefinitionError as exc:
                out.get(str(f), "rules")
                out.add(exc.problems)
                ok = False
    for doc, entry in checked:
        try:
            parsed.extend(parse_rules(doc))
        except DefinitionError as exc:
            entry.problems.extend(exc.problems)
            ok = False
    problems, ordered = order_rules(
        parsed, " (to check rules that join another set, give that set's folder with --rules)"
    )
    out.add(problems)
    if not ok or problems:
        return None, bool(checked)
    return RuleSet(ordered), bool(checked)


def _scenario_workflow_paths(doc: Document) -> list[Problem]:
    value = doc.value
    items: list[tuple[tuple[str | int, ...], Any]] = []
    if isinstance(value.get("scenarios"), list):
        for i, s in enumerate(value["scenarios"]):
            if isinstance(s, dict):
                items.append((("scenarios", i), s))
    else:
        items.append(((), value))
    problems: list[Problem] = []
    base = Path(doc.file).parent
    for at, s in items:
        refs: list[tuple[tuple[str | int, ...], Any]] = [((*at, "workflow"), s.get("workflow"))]
        for j, other in enumerate(s.get("jobs") or []):
            if isinstance(other, dict):
                refs.append(((*at, "jobs", j, "workflow"), other.get("workflow")))
        for path, ref in refs:
            if isinstance(ref, str) and not (base / ref).is_file():
                problems.append(doc.problem(path, "scenario-workflow-missing", f"workflow {ref!r}: no such file"))
    return problems


# -- workflows -------------------------------------------------------------------------------------


def _move(st: StepType, status: str, event: str, step: StepDef) -> ChartTransition | None:
    """The move ``event`` makes from ``status`` for this step (guards read its definition)."""
    for t in st.transitions:
        if t.event == event and status in t.sources and (t.guard is None or GUARDS[t.guard](step)):
            return t
    return None


def return_values(step: StepDef, st: StepType) -> tuple[set[str], bool]:
    """The return values a step of this type can finish with, and whether any value is possible.

    Moves into a final state give their ``returnValue``; a respond gives one of the
    question's answers (any value without ``answers``); a complete gives the host's value.
    Guards are read against the step, so ``Skipped`` counts only for a ``canSkip`` step.
    """
    values: set[str] = set()
    anything = False
    for t in st.transitions:
        if not st.states[t.target].final or (t.guard is not None and not GUARDS[t.guard](step)):
            continue
        if t.return_value is not None:
            values.add(t.return_value)
        elif t.event == "respond" and step.answers is not None:
            values.update(step.answers)
        else:
            anything = True
    return values, anything


def self_finish_value(step: StepDef, st: StepType) -> str | None:
    """The return value an automatic step finishes with on the engine's Run, if it finishes at once (R2, R6)."""
    if not step.automatic:
        return None
    run = _move(st, st.initial, "run", step)
    if run is None:
        return None
    if st.states[run.target].final:
        return run.return_value if run.return_value is not None else "Success"
    if not step.proceed_next or st.asynchronous:
        return None
    finish = _move(st, run.target, "finish", step)
    if finish is None or not st.states[finish.target].final:
        return None
    return finish.return_value if finish.return_value is not None else "Success"


def _fmt_values(values: Iterable[str]) -> str:
    vs = sorted(values)
    return ", ".join(repr(v) for v in vs) if vs else "none"


def workflow_problems(wf: Workflow, doc: Document, step_types: Mapping[str, StepType]) -> list[Problem]:
    """The semantic findings of one loaded workflow, located in its document."""
    problems: list[Problem] = []
    index: dict[str, int] = {}
    for i, s in enumerate(doc.value.get("steps", [])):
        if isinstance(s, dict) and isinstance(s.get("id"), str):
            index.setdefault(s["id"], i)

    def at(step_id: str, *rest: str | int) -> tuple[str | int, ...]:
        return ("steps", index[step_id], *rest)

    produced: dict[str, tuple[set[str], bool]] = {}
    for sid, step in wf.steps.items():
        produced[sid] = return_values(step, step_types[step.type])

    def takeable(step: StepDef, path: PathDef) -> bool:
        values, anything = produced[step.id]
        return path.return_values is None or anything or any(v in values for v in path.return_values)

    edges: dict[str, list[str]] = {sid: [] for sid in wf.steps}
    back: dict[str, list[str]] = {sid: [] for sid in wf.steps}
    for sid, step in wf.steps.items():
        for path in step.paths:
            if takeable(step, path):
                edges[sid].append(path.next_step)
                back[path.next_step].append(sid)

    reached = _closure([wf.initial_step], edges)
    ends = [sid for sid, step in wf.steps.items() if not step.paths]
    finishing = _closure(ends, back)
    for sid in wf.steps:
        if sid not in reached:
            problems.append(
                doc.problem(
                    at(sid, "id"), "unreachable-step",
                    f"step {sid!r} is never reached from the initial step {wf.initial_step!r} by a path that can be "
                    "taken; only SetCurrentStep can make it current",
                    severity="warning",
                )
            )  # fmt: skip

    # Steps a job can reach but never leave for an end: reported once where a job falls in.
    trapped = reached - finishing
    inside = {k: [n for n in v if n in trapped] for k, v in edges.items()}
    for sid in wf.steps:
        if sid not in trapped:
            continue
        if sid != wf.initial_step and not any(p in reached and p not in trapped for p in back[sid]):
            continue
        region = [s for s in wf.steps if s in _closure([sid], inside)]
        shown = ", ".join(region[:6]) + (f" and {len(region) - 6} more" if len(region) > 6 else "")
        why = "it has no path that can be taken" if not edges[sid] else f"its paths stay among {shown}"
        problems.append(
            doc.problem(
                at(sid, "id"), "no-way-to-end",
                f"no path leads from step {sid!r} to a step that ends its branch ({why}): a job that reaches it "
                "never completes",
                severity="warning",
            )
        )  # fmt: skip

    # paths: impossible return values, duplicates; answers no path takes
    for sid, step in wf.steps.items():
        st = step_types[step.type]
        values, anything = produced[sid]
        seen: dict[tuple[str, frozenset[str] | None], int] = {}
        for j, path in enumerate(step.paths):
            key = (path.next_step, frozenset(path.return_values) if path.return_values is not None else None)
            if key in seen:
                cond = "no returnValue" if key[1] is None else f"returnValue {_fmt_values(key[1])}"
                problems.append(
                    doc.problem(
                        at(sid, "paths", j), "duplicate-path",
                        f"path {j + 1} of step {sid!r} repeats path {seen[key] + 1}: same condition ({cond}), "
                        f"same next step {path.next_step!r}",
                        severity="warning",
                    )
                )  # fmt: skip
            else:
                seen[key] = j
            if path.return_values is None or anything:
                continue
            bad = [v for v in path.return_values if v not in values]
            if not bad:
                continue
            raw = doc.value["steps"][index[sid]]["paths"][j].get("returnValue")
            where: tuple[str | int, ...] = at(sid, "paths", j, "returnValue")
            if isinstance(raw, list) and len(bad) < len(path.return_values):
                where = (*where, path.return_values.index(bad[0]))
            never = " (this path is never taken)" if len(bad) == len(path.return_values) else ""
            problems.append(
                doc.problem(
                    where, "impossible-return-value",
                    f"step {sid!r} ({st.id}) never returns {_fmt_values(bad)}; it returns {_fmt_values(values)}{never}",
                    severity="warning",
                )
            )  # fmt: skip
        if step.answers is not None and step.paths:
            for k, answer in enumerate(step.answers):
                if not any(p.matches(answer) for p in step.paths):
                    problems.append(
                        doc.problem(
                            at(sid, "answers", k), "unused-answer",
                            f"no path of step {sid!r} takes the answer {answer!r}: respond with it would be refused "
                            "(NoMatchingPaths)",
                        )
                    )  # fmt: skip

    problems.extend(_automatic_loops(wf, doc, step_types, at))
    return problems


def _closure(start: Iterable[str], edges: Mapping[str, list[str]]) -> set[str]:
    seen = set(start)
    todo = list(seen)
    while todo:
        here = todo.pop()
        for nxt in edges.get(here, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _automatic_loops(
    wf: Workflow,
    doc: Document,
    step_types: Mapping[str, StepType],
    at: Callable[..., tuple[str | int, ...]],
) -> list[Problem]:
    """Cycles of steps the engine runs and finishes by itself, through paths their fixed return value takes."""
    value = {sid: self_finish_value(step, step_types[step.type]) for sid, step in wf.steps.items()}
    auto = {sid for sid, v in value.items() if v is not None}
    graph: dict[str, list[str]] = {}
    for sid in auto:
        rv = value[sid]
        graph[sid] = [p.next_step for p in wf.steps[sid].paths if p.matches(rv) and p.next_step in auto]
    order = list(wf.steps)
    problems: list[Problem] = []
    for comp in _sccs(order, graph):
        if len(comp) == 1 and comp[0] not in graph.get(comp[0], []):
            continue
        members = set(comp)
        start = min(comp, key=order.index)
        cycle = _cycle_from(start, graph, members)
        shown = " -> ".join([*cycle, start])
        problems.append(
            doc.problem(
                at(start, "id"), "automatic-loop",
                f"automatic steps {shown} finish themselves on Run and lead back to themselves: a job that reaches "
                f"them fails with InvalidRequest after {100} automatic moves (R6); add a question or a manual step, "
                "or drop automatic/proceedNext",
            )
        )  # fmt: skip
    return problems


def _sccs(order: list[str], graph: Mapping[str, list[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan, iterative), each in discovery order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in order:
        if root not in graph or root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = graph.get(node, [])
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp: list[str] = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                out.append(sorted(comp, key=order.index))
    return out


def _cycle_from(start: str, graph: Mapping[str, list[str]], members: set[str]) -> list[str]:
    """A shortest path start -> ... -> start inside the component (without the closing start)."""
    prev: dict[str, str] = {}
    todo = [start]
    seen = {start}
    while todo:
        nxt_todo: list[str] = []
        for node in todo:
            for nxt in graph.get(node, []):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return list(reversed(path))
                if nxt in members and nxt not in seen:
                    seen.add(nxt)
                    prev[nxt] = node
                    nxt_todo.append(nxt)
        todo = nxt_todo
    return [start]  # pragma: no cover - a component always has a cycle


# -- charts against rules ------------------------------------------------------------------------

Tri = bool | None


def _tri(node: Any, fact: Callable[[str, Any], Tri]) -> Tri:
    """Kleene three-valued evaluation of a rule condition: None where a fact is unknown."""
    if isinstance(node, bool):
        return node
    if isinstance(node, str):
        return fact(node, None)
    if isinstance(node, dict) and len(node) == 1:
        ((key, arg),) = node.items()
        if key in ("all", "any") and isinstance(arg, list):
            parts = [_tri(x, fact) for x in arg]
            if key == "all":
                return False if False in parts else (True if all(p is True for p in parts) else None)
            return True if True in parts else (False if all(p is False for p in parts) else None)
        if key == "not":
            inner = _tri(arg, fact)
            return None if inner is None else not inner
        return fact(key, arg)
    return None


def _names(arg: Any) -> set[str]:
    if isinstance(arg, str):
        return {arg}
    if isinstance(arg, list):
        return {x for x in arg if isinstance(x, str)}
    return set()


def chart_event_problems(st: StepType, doc: Document, ruleset: RuleSet) -> list[Problem]:
    """States where the step rules may allow an action whose event the chart has no move for.

    The step's definition flags (canSkip, proceedNext, automatic) are tried both ways;
    what a chart state decides (status, running, started, asynchronous, type, the moves
    it accepts) is known, everything else (actor, holds, request) is unknown.
    """
    problems: list[Problem] = []
    flags = [StepDef("x", st.id, can_skip=a, proceed_next=b, automatic=c)
             for a, b, c in itertools.product((False, True), repeat=3)]  # fmt: skip
    for sid, state in st.states.items():
        if state.final:
            continue
        allowed: list[str] = []
        for action, event in ACTION_EVENTS.items():
            rules = ruleset.for_action("step", action)
            for step in flags:
                if _move(st, sid, event, step) is not None:
                    continue

                def fact(name: str, arg: Any, sid: str = sid, step: StepDef = step) -> Tri:
                    return _chart_fact(st, sid, step, name, arg)

                if all(_tri(r.require, fact) is not False for r in rules):
                    cond = f" (canSkip: {str(step.can_skip).lower()})" if _depends_on_flags(st, sid, event) else ""
                    allowed.append(f"{action}{cond}")
                    break
        if allowed:
            events = ", ".join(ACTION_EVENTS[a.split(" ")[0]] for a in allowed)
            problems.append(
                doc.problem(
                    ("states", sid), "unhandled-event",
                    f"the rules allow {', '.join(allowed)} on a {st.id} step in {sid}, but the chart has no "
                    f"{events} move from {sid}: the engine would answer InvalidRequest; add the moves, or rules "
                    "that refuse them (e.g. require {step.accepts: EVENT})",
                    key=True,
                )
            )  # fmt: skip
    return problems


def _depends_on_flags(st: StepType, status: str, event: str) -> bool:
    return any(t.event == event and status in t.sources and t.guard is not None for t in st.transitions)


def _chart_fact(st: StepType, status: str, step: StepDef, name: str, arg: Any) -> Tri:
    state = st.states[status]
    if name in ("step.inDiagram", "step.current"):
        return True
    if name == "step.status":
        return status in _names(arg)
    if name == "step.running":
        return state.running
    if name == "step.started":
        return state.started
    if name == "step.canSkip":
        return step.can_skip
    if name == "step.asynchronous":
        return st.asynchronous
    if name == "step.type":
        return st.id in _names(arg)
    if name == "step.accepts" and isinstance(arg, str):
        return _move(st, status, arg, step) is not None
    return None


# -- rules that cannot pass or cannot fail ---------------------------------------------------------

_OTHER = "\x00other"
_NONE = "\x00none"
_RECORD_FACTS = {
    "step.running", "step.started", "step.accepts", "step.assignedToActorUser", "step.assignedToActorGroup",
    "request.assigneeIsStepGroup",
}  # fmt: skip
_DEFINITION_FACTS = {"step.canSkip", "step.asynchronous", "step.answerDeclared", "step.current"}
_VARS = {"step.status": "status", "step.type": "type", "request.stepCount": "stepCount",
         "request.assignedType": "assignedType"}  # fmt: skip

Expr = tuple[Any, ...]


def _expr(node: Any) -> Expr:
    """A rule condition as ``("const", b) | ("atom", key) | ("in", var, values) | ("and"|"or", [..]) | ("not", e)``."""
    if isinstance(node, bool):
        return ("const", node)
    if isinstance(node, str):
        return _fact_expr(node, None)
    if isinstance(node, dict) and len(node) == 1:
        ((key, arg),) = node.items()
        if key in ("all", "any"):
            return ("and" if key == "all" else "or", [_expr(x) for x in arg])
        if key == "not":
            return ("not", _expr(arg))
        return _fact_expr(key, arg)
    raise ValueError("not a condition")


def _fact_expr(name: str, arg: Any) -> Expr:
    if name == "actor.anyPrivilege":
        return ("or", [("atom", ("actor.privilege", n)) for n in sorted(_names(arg))])
    if name == "step.assignedToActor":
        return ("or", [("atom", ("step.assignedToActorUser", None)), ("atom", ("step.assignedToActorGroup", None))])
    if name in _VARS:
        values = frozenset(_names(arg)) if name in ("step.status", "step.type") else frozenset([arg])
        return ("in", _VARS[name], values)
    if name == "step.accepts" or name in ("actor.privilege", "actor.inGroup", "request.has"):
        return ("atom", (name, arg))
    return ("atom", (name, None))


def _collect(e: Expr, atoms: set[tuple[str, Any]], domains: dict[str, set[Any]]) -> None:
    kind = e[0]
    if kind == "atom":
        atoms.add(e[1])
    elif kind == "in":
        domains.setdefault(e[1], set()).update(e[2])
    elif kind in ("and", "or"):
        for x in e[1]:
            _collect(x, atoms, domains)
    elif kind == "not":
        _collect(e[1], atoms, domains)


def _eval(e: Expr, world: Mapping[Any, Any]) -> bool:
    kind = e[0]
    if kind == "const":
        return bool(e[1])
    if kind == "atom":
        return bool(world[e[1]])
    if kind == "in":
        return world[("var", e[1])] in e[2]
    if kind == "and":
        return all(_eval(x, world) for x in e[1])
    if kind == "or":
        return any(_eval(x, world) for x in e[1])
    return not _eval(e[1], world)


def _valid(world: Mapping[Any, Any]) -> bool:
    """The facts' own dependencies: a world that breaks one cannot happen."""

    def atom(name: str, arg: Any = None) -> bool | None:
        return world.get((name, arg))

    def var(name: str) -> Any:
        return world.get(("var", name))

    current = atom("step.current")
    if current is False:
        if var("status") not in (None, _NONE):
            return False
        for (name, _arg), v in world.items():
            if name in _RECORD_FACTS and v:
                return False
    elif current is True and var("status") == _NONE:
        return False
    if atom("step.inDiagram") is False:
        if var("type") not in (None, _NONE):
            return False
        for (name, _arg), v in world.items():
            if name in _DEFINITION_FACTS and v:
                return False
    elif atom("step.inDiagram") is True and var("type") == _NONE:
        return False
    if atom("step.assignedToActorUser") and atom("step.assignedToActorGroup"):
        return False
    if atom("step.hasReleasableHold") and atom("step.held") is False:
        return False
    if atom("request.releaseInFuture") and atom("request.has", "holdScheduledRelease") is False:
        return False
    if atom("request.dependentJobExists") and atom("request.has", "dependentJobId") is False:
        return False
    kind = var("assignedType")
    if atom("request.assigneeIsActor") and kind not in (None, "User"):
        return False
    if (atom("request.assigneeIsActorGroup") or atom("request.assigneeIsStepGroup")) and kind not in (None, "Group"):
        return False
    has_ids, count = atom("request.has", "stepIds"), var("stepCount")
    return not (has_ids is not None and count is not None and has_ids != (count != 0))


def decide(require: Any) -> tuple[bool, bool] | None:
    """(can pass, can fail) of a rule condition over every possible world, or None if too many."""
    try:
        e = _expr(require)
    except (ValueError, TypeError):
        return None
    atoms: set[tuple[str, Any]] = set()
    domains: dict[str, set[Any]] = {}
    _collect(e, atoms, domains)
    names = {a[0] for a in atoms}
    if names & _RECORD_FACTS or "status" in domains:
        atoms.add(("step.current", None))
    if names & _DEFINITION_FACTS or "type" in domains or ("step.current", None) in atoms:
        atoms.add(("step.inDiagram", None))
    if names & {"request.assigneeIsActor", "request.assigneeIsActorGroup", "request.assigneeIsStepGroup"}:
        domains.setdefault("assignedType", set()).update({"User", "Group"})
    if "stepCount" in domains and ("request.has", "stepIds") in atoms:
        domains["stepCount"].add(0)
    for name, values in domains.items():
        values.add(_OTHER)
        if name in ("status", "type"):
            values.add(_NONE)
    atom_list = sorted(atoms, key=repr)
    var_list = sorted(domains)
    size = 1 << len(atom_list)
    for name in var_list:
        size *= len(domains[name])
    if size > MAX_WORLDS:
        return None
    can_pass = can_fail = False
    var_values = [sorted(domains[n], key=repr) for n in var_list]
    for bits in itertools.product((False, True), repeat=len(atom_list)):
        for choice in itertools.product(*var_values):
            world: dict[Any, Any] = dict(zip(atom_list, bits, strict=True))
            world.update({("var", n): v for n, v in zip(var_list, choice, strict=True)})
            if not _valid(world):
                continue
            if _eval(e, world):
                can_pass = True
            else:
                can_fail = True
            if can_pass and can_fail:
                return True, True
    return can_pass, can_fail


def rule_problems(doc: Document, ruleset: RuleSet | None = None) -> list[Problem]:
    """Rules of one file whose ``require`` can never pass, or never fail.

    A literal ``require: false`` is taken as meant (the action is forbidden); a literal
    ``true`` never refuses and is reported.
    """
    problems: list[Problem] = []
    for i, r in enumerate(doc.value.get("rules", [])):
        if not isinstance(r, dict) or "require" not in r or r["require"] is False:
            continue
        verdict = decide(r["require"])
        if verdict is None:
            continue
        can_pass, can_fail = verdict
        actions = ", ".join(r.get("actions", []))
        if not can_pass:
            problems.append(
                doc.problem(
                    ("rules", i, "require"), "rule-never-passes",
                    f"rule {r.get('name')!r} can never pass whatever the facts: {actions} always yields "
                    f"{r.get('yields')} (write require: false if that is meant)",
                )
            )  # fmt: skip
        elif not can_fail:
            problems.append(
                doc.problem(
                    ("rules", i, "require"), "rule-never-fails",
                    f"rule {r.get('name')!r} holds whatever the facts: it never refuses {actions}",
                    severity="warning",
                )
            )  # fmt: skip
    return problems
