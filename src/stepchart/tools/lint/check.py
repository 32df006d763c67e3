"""The whole check: read every file, load what loads, then run the semantic findings on the loaded whole."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...errors import DefinitionError, Problem
from ...io.files import data_dir, walk_files
from ...io.project import project_problems
from ...io.schemas import check_document
from ...io.yamldoc import Document, read_yaml_file
from ...load.charts import parse_chart
from ...load.jobs import parse_job
from ...load.templates import parse_template
from ...load.workflows import parse_workflow
from ...model import StepType, Workflow
from ...rules import Rule, RuleSet, order_rules, parse_rules
from .charts import chart_event_problems
from .report import CheckedFile, CheckResult, FileFindings, document_kind, expand_paths
from .satisfiable import rule_problems
from .workflows import workflow_problems

__all__ = ["check_paths"]


def check_paths(
    paths: Sequence[str | Path],
    *,
    charts: Sequence[str | Path] | None = None,
    rules: Sequence[str | Path] | None = None,
    skip_unknown: bool = False,
    stdin: Document | DefinitionError | None = None,
) -> CheckResult:
    """Check files and folders; ``charts``/``rules`` are the context folders (default: the shipped ones).

    A file named directly that is no stepchart document is an ``unknown-document`` error,
    or with ``skip_unknown`` skipped as files found in a folder are (so is one stepchart's
    reader refuses but a plain YAML reader reads as no stepchart document: a compose file
    with anchors). A path ``-`` is ``stdin``: a document already read from standard input
    (or why it could not be), checked as a file named directly. Raises
    ``FileNotFoundError`` naming the paths that do not exist.
    """
    named = [p for p in paths if str(p) != "-"]
    found, missing = expand_paths(named)
    if missing:
        raise FileNotFoundError(", ".join(missing))
    out = FileFindings()
    docs: dict[str, list[tuple[Document, CheckedFile]]] = {
        "workflow": [], "chart": [], "rules": [], "scenario": [], "job": [], "template": [], "project": [],
    }  # fmt: skip
    sources: list[tuple[Path | Document | DefinitionError, bool]] = list(found)
    if len(named) != len(paths) and stdin is not None:
        sources.insert(0 if str(paths[0]) == "-" else len(sources), (stdin, True))
    for source, direct in sources:
        try:
            if isinstance(source, DefinitionError):
                raise source
            doc = source if isinstance(source, Document) else read_yaml_file(source)
        except DefinitionError as exc:
            file = exc.file if isinstance(source, DefinitionError) else str(source)
            if skip_unknown and isinstance(source, Path) and _plain_kind(source) == "unknown":
                out.get(file, "unknown").skipped = True
                continue
            out.get(file, "invalid")
            out.add(exc.problems)
            continue
        name = doc.file
        kind = document_kind(doc.value)
        entry = out.get(name, kind)
        if kind == "unknown":
            if direct and not skip_unknown:
                entry.problems.append(
                    doc.problem(
                        (), "unknown-document",
                        "not a stepchart document: a workflow has steps:, a chart stepType:, rules rules:, "
                        "a scenario do: or scenarios:, a job document jobId:, a job template jobTemplate:",
                    )
                )  # fmt: skip
            else:
                entry.skipped = True
            continue
        docs[kind].append((doc, entry))

    step_types, broken_types, chart_docs = _context_charts(docs["chart"], charts, out)
    ruleset, rules_checked = _context_rules(docs["rules"], rules, out)

    workflow_ids: dict[str, str] = {}
    loaded: dict[str, Workflow] = {}
    broken_workflows: set[str] = set()
    for doc, entry in docs["workflow"]:
        try:
            wf = parse_workflow(doc, step_types)
        except DefinitionError as exc:
            broken_workflows.add(str(doc.value.get("workflow")))
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
        loaded.setdefault(wf.id, wf)

    for doc, entry in docs["template"]:  # a template's workflow is checked when workflows are checked with it
        try:
            parse_template(doc, loaded if docs["workflow"] else None)
        except DefinitionError as exc:
            entry.problems.extend(exc.problems)

    if docs["scenario"]:  # the runner's checks, imported only when there are scenarios to check
        from ..scenarios.prechecks import scenario_problems
    checked_workflows = {Path(doc.file).resolve() for doc, _ in docs["workflow"]}
    scenario_workflows: dict[Path, Any] = {}  # each workflow file a scenario names is loaded once
    for doc, entry in docs["scenario"]:
        entry.problems.extend(check_document(doc, "scenario"))
        entry.problems.extend(_scenario_workflow_paths(doc))
        entry.problems.extend(scenario_problems(doc, step_types, checked_workflows, scenario_workflows))
    for doc, entry in docs["job"]:
        entry.problems.extend(_job_problems(doc, loaded, broken_workflows, step_types))
    for doc, entry in docs["project"]:
        entry.problems.extend(project_problems(doc))

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


def _plain_kind(path: Path) -> str | None:
    """The kind of a file as a plain YAML reader sees it (anchors allowed); None if that cannot read it either."""
    import yaml

    try:
        with open(path, "rb") as f:
            value = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError, ValueError):
        return None
    return document_kind(value)


_SHIPPED_HINT = " (to replace a shipped type, leave out the shipped charts: --no-shipped charts)"


def _is_shipped(file: str) -> bool:
    return Path(file).resolve().parent == data_dir("statecharts").resolve()


def _job_problems(
    doc: Document, loaded: dict[str, Workflow], broken: set[str], step_types: dict[str, StepType]
) -> list[Problem]:
    """What the job loader (``run``, ``serve``, the engine) refuses in a job document, against the checked workflows."""
    workflow = None
    if isinstance(doc.value, dict) and "workflow" not in doc.value and len(loaded) == 1:
        workflow = next(iter(loaded.values()))  # as run takes the only --workflow given
    try:
        parse_job(doc, loaded.get, step_types, workflow=workflow)
    except DefinitionError as exc:
        problems = []
        for p in exc.problems:
            if p.code == "unknown-workflow":
                if str(doc.value.get("workflow")) in broken:  # that workflow's own errors are reported in its file
                    continue
                known = ", ".join(sorted(loaded)) or "none"
                p = Problem(
                    p.file, p.line, p.column, p.code,
                    f"{p.message}; checked workflows: {known} (check the job with its workflow's file)", p.path,
                )  # fmt: skip
            problems.append(p)
        return problems
    return []


def _folder_files(entry: str | Path) -> list[Path]:
    """A context entry's files: a file as named, or a folder's YAML files in name order (one level)."""
    p = Path(entry)
    if not p.is_dir():
        return [p]
    return [f.path for f in walk_files([p], recursive=False)[0]]


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
    checked: list[tuple[Document, CheckedFile]], charts: Sequence[str | Path] | None, out: FileFindings
) -> tuple[dict[str, StepType], set[str], dict[str, tuple[StepType, Document]]]:
    """The step types workflows are checked against: the context folders overlaid by the checked charts."""
    types: dict[str, StepType] = {}
    docs: dict[str, tuple[StepType, Document]] = {}
    checked_paths = {Path(doc.file).resolve() for doc, _ in checked}
    for folder in charts if charts is not None else [data_dir("statecharts")]:
        for f in _folder_files(folder):
            if f.resolve() in checked_paths:
                continue
            try:
                doc = read_yaml_file(f)
                st = parse_chart(doc)
            except DefinitionError as exc:
                out.get(str(f), "chart")
                out.add(exc.problems)
                continue
            if st.id in docs and docs[st.id][1].value == doc.value:
                continue  # the same chart twice, as the engine's loader takes it: counted once
            if st.id in types:  # as the engine's loader: a later folder may add types, never redefine one
                out.get(str(f), "chart")
                where = types[st.id].file + _SHIPPED_HINT * _is_shipped(types[st.id].file)
                message = f"step type {st.id!r} is already defined in {where}"
                out.add([doc.problem(("stepType",), "duplicate-step-type", message)])
                continue
            types[st.id] = st
            docs[st.id] = (st, doc)
    broken: set[str] = set()
    mine: dict[str, str] = {}
    context = {type_id: st.file for type_id, st in types.items()}
    for doc, entry in checked:
        try:
            st = parse_chart(doc)
        except DefinitionError as exc:
            entry.problems.extend(exc.problems)
            if isinstance(doc.value.get("stepType"), str):
                broken.add(doc.value["stepType"])
            continue
        if st.id not in mine and st.id in context and docs[st.id][1].value == doc.value:
            continue  # a checked copy of a context chart: the same definition, counted once
        if st.id in mine or st.id in context:
            where = mine.get(st.id) or context[st.id] + _SHIPPED_HINT * _is_shipped(context[st.id])
            entry.problems.append(
                doc.problem(("stepType",), "duplicate-step-type", f"step type {st.id!r} is already defined in {where}")
            )
            continue
        mine[st.id] = doc.file
        types[st.id] = st
        docs[st.id] = (st, doc)
    return types, broken - set(mine), docs


def _context_rules(
    checked: list[tuple[Document, CheckedFile]], rules: Sequence[str | Path] | None, out: FileFindings
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
        for f in _folder_files(folder):
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
