"""Job search over what the stores keep: the one map of stored fields, step names resolved through the workflows,
and the memory and SQL plans of :meth:`~.base.ManagedStore.find_jobs` and :meth:`~.base.ManagedStore.count_jobs_by`.

A field of :data:`~.query.FIELDS` is searchable when :data:`STORED_FIELDS` says where
the stores keep it (its SQL column on ``jobs j`` or ``job_steps s``, and its value of a
job in memory): a new stored column becomes searchable, sortable and (for names)
part of the free-text ``search`` by adding one entry there. ``currentStepName`` is
not stored: step names live in the workflow definitions, so :func:`prepare` rewrites
a test on it into tests on the workflow, its version and the step id (which the stores
index). A field in neither place is refused with "not searchable yet".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import RequestError
from ..model import CurrentStep, Job
from ..model.times import parse_datetime
from .base import JobFilter, JobSearch, SearchPage
from .query import FIELDS, And, Column, Compare, Field, FieldType, InList, IsNull, Like, Node, Not, Or, matches, to_sql
from .query import field_named as _named
from .query.sqlgen import Dialect
from .records import job_from_doc, to_micros
from .sqlrows import filter_where

__all__ = [
    "NOT_SEARCHABLE",
    "RESOLVED_FIELDS",
    "STEP_IN",
    "STORED_FIELDS",
    "SqlDialect",
    "StepNames",
    "StoredField",
    "field_named",
    "job_row",
    "memory_count_by",
    "memory_find",
    "prepare",
    "sql_count_by",
    "sql_find",
]

StepNames = Mapping[tuple[str, str], Mapping[str, str]]  # see JobSearch.step_names


@dataclass(frozen=True)
class StoredField:
    """Where the stores keep a field: its SQL (on ``jobs j``; ``job_steps s`` for a current-step field, which
    ``value`` then reads from one :class:`CurrentStep`), and whether it sorts and is free text."""

    column: str
    value: Callable[[Any], Any]
    sortable: bool = False
    text: bool = False
    few_values: bool = False
    """A column of few distinct values (a flag, the workflow): SQLite, which keeps no statistics, must not
    drive a search from its index when a selective condition (a step, an assignee) is beside it."""


STORED_FIELDS: dict[str, StoredField] = {
    "jobId": StoredField("j.job_id", lambda j: j.job_id, sortable=True, text=True),
    "diagramId": StoredField("j.workflow", lambda j: j.workflow, sortable=True, few_values=True),
    "diagramVersion": StoredField("j.workflow_version", lambda j: j.workflow_version, sortable=True, few_values=True),
    "closed": StoredField("j.closed", lambda j: int(j.closed), sortable=True, few_values=True),
    "currentStepId": StoredField("s.step_id", lambda c: c.step_id),
    "assignedType": StoredField("s.assigned_type", lambda c: c.assigned_type),
    "assignedTo": StoredField("s.assigned_to", lambda c: c.assigned_to),
    "jobName": StoredField("j.job_name", lambda j: j.properties.job_name, sortable=True, text=True),
    "jobTemplateId": StoredField("j.template_id", lambda j: j.properties.template, sortable=True),
    "description": StoredField("j.description", lambda j: j.properties.description, text=True),
    "priority": StoredField("j.priority", lambda j: j.properties.priority, sortable=True),
    "ownedBy": StoredField("j.owned_by", lambda j: j.properties.owned_by, sortable=True),
    "createdBy": StoredField("j.created_by", lambda j: j.properties.created_by, sortable=True),
    "createdDate": StoredField("j.created_date", lambda j: _date(j.properties.created_date), sortable=True),
    "startDate": StoredField("j.start_date", lambda j: _date(j.properties.start_date), sortable=True),
    "dueDate": StoredField("j.due_date", lambda j: _date(j.properties.due_date), sortable=True),
    "endDate": StoredField("j.end_date", lambda j: _date(j.properties.end_date), sortable=True),
    "notes": StoredField("j.notes", lambda j: j.properties.notes),
    "parentJob": StoredField("j.parent_job", lambda j: j.properties.parent_job, sortable=True),
    "percentComplete": StoredField("j.percent_complete", lambda j: j.properties.percent_complete, sortable=True),
}
"""The one column map: a field's entry here when its column is stored (the job properties: schema 4)."""

RESOLVED_FIELDS = ("currentStepName",)
"""Fields answered through the loaded workflow definitions, not a column."""

NOT_SEARCHABLE = tuple(f.name for f in FIELDS if f.name not in STORED_FIELDS and f.name not in RESOLVED_FIELDS)
"""Fields ``q`` knows that no store keeps yet: naming one is a 400 "not searchable yet"."""

STEP_IN = "j.job_id IN (SELECT s.job_id FROM job_steps s WHERE {})"
"""Where a test on the current steps goes: an uncorrelated ``IN`` the planner drives from the step indexes."""


def field_named(name: str, where: str) -> Field:
    """The searchable field ``name`` spells; a 400 located at ``where`` (a body path) if unknown or not stored."""
    found = _named(name) if isinstance(name, str) else None
    if found is None:
        raise RequestError("InvalidRequest", f"{where}: an unknown field {name!r}.", [f"{where}: {str(name)[:80]}"])
    if found.name in NOT_SEARCHABLE:
        raise _not_stored(found.name, where)
    return found


def _not_stored(name: str, where: str) -> RequestError:
    return RequestError(
        "InvalidRequest",
        f"{where}: the field {name!r} is not searchable yet (no store keeps it).",
        [f"{where}: {name}", "not searchable yet: " + ", ".join(NOT_SEARCHABLE)],
    )


# -- preparing a condition ------------------------------------------------------------------------


def _known(name: str) -> Field:
    found = _named(name)
    assert found is not None, name
    return found


_JOB_ID, _STEP_ID, _WORKFLOW, _VERSION = (_known(n) for n in ("jobId", "currentStepId", "diagramId", "diagramVersion"))
_FALSE: Node = IsNull(_JOB_ID)  # a job id is never null: false, never unknown


def prepare(where: Node | None, text: str | None, names: StepNames) -> Node | None:
    """``where`` (a parsed ``q``) with free ``text`` ANDed in and step names resolved; 400 on an unstored field."""
    parts: list[Node] = []
    if where is not None:
        parts.append(_resolve(where, names))
    if text:
        pattern = "%" + text + "%"
        likes: list[Node] = [Like(_known(n), pattern) for n, f in STORED_FIELDS.items() if f.text]
        parts.append(likes[0] if len(likes) == 1 else Or(tuple(likes)))
    return None if not parts else parts[0] if len(parts) == 1 else And(tuple(parts))


def _resolve(node: Node, names: StepNames) -> Node:
    if isinstance(node, And | Or):
        return type(node)(tuple(_resolve(n, names) for n in node.operands))
    if isinstance(node, Not):
        return Not(_resolve(node.operand, names))
    if node.field.name in NOT_SEARCHABLE:
        raise _not_stored(node.field.name, "q")
    if node.field.name != "currentStepName":
        return node
    if isinstance(node, IsNull) and not node.negated:  # a current step whose name no loaded version gives
        unknown_step = [_version(w, v, InList(_STEP_ID, tuple(sorted(s)), True)) for (w, v), s in names.items() if s]
        unloaded = And((Not(_any([_version(w, v, None) for w, v in names])), IsNull(_STEP_ID, True)))
        return _any([*unknown_step, unloaded])
    tests = []
    for (w, v), steps in names.items():
        ids = tuple(sorted(sid for sid, name in steps.items() if matches(node, {"currentStepName": [name]})))
        if ids:
            tests.append(_version(w, v, InList(_STEP_ID, ids)))
    return _any(tests)


def _version(workflow: str, version: str, step: Node | None) -> Node:
    tests: list[Node] = [Compare(_WORKFLOW, "=", workflow), Compare(_VERSION, "=", version)]
    return And(tuple(tests + ([step] if step is not None else [])))


def _any(tests: list[Node]) -> Node:
    return _FALSE if not tests else tests[0] if len(tests) == 1 else Or(tuple(tests))


# -- values of a job ------------------------------------------------------------------------------


def _step_name(names: StepNames, job: Job, c: CurrentStep) -> str | None:
    return names.get((job.workflow, job.workflow_version), {}).get(c.step_id)


def job_row(job: Job, names: StepNames) -> dict[str, Any]:
    """Every searchable field of ``job``: a value, or for a current-step field the list of its steps' values."""
    row: dict[str, Any] = {}
    for name, f in STORED_FIELDS.items():
        per_step = name in _PER_STEP
        row[name] = [f.value(c) for c in job.current_steps] if per_step else f.value(job)
    row["currentStepName"] = [_step_name(names, job, c) for c in job.current_steps]
    return row


_PER_STEP = frozenset(f.name for f in FIELDS if f.per_step)


def _sort_key(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _sorted(rows: list[tuple[Job, dict[str, Any]]], sort: Iterable[tuple[str, bool]]) -> list[Job]:
    """Rows in creation order sorted by each (field, descending), nulls last, ties kept in creation order."""
    for name, desc in reversed(list(sort)):
        nulls = [r for r in rows if r[1][name] is None]
        rest = [r for r in rows if r[1][name] is not None]
        rest.sort(key=lambda r: _sort_key(r[1][name]), reverse=desc)
        rows = rest + nulls
    return [job for job, _ in rows]


# -- memory ---------------------------------------------------------------------------------------


def _memory_matches(jobs: Iterable[Job], search: JobSearch, names: StepNames) -> list[tuple[Job, dict[str, Any]]]:
    own = JobFilter(actor=search.actor)
    out = []
    for job in jobs:
        row = job_row(job, names)
        if matches(search.where, row) and own.matches(job):
            out.append((job, row))
    return out


def memory_find(jobs: Iterable[Job], search: JobSearch) -> SearchPage:
    """:meth:`find_jobs` over ``jobs`` (in creation order) by evaluating the condition on each."""
    found = _sorted(_memory_matches(jobs, search, search.step_names), search.sort)
    end = None if search.num is None else search.start + search.num
    return SearchPage([j.copy() for j in found[search.start : end]], len(found))


def memory_count_by(jobs: Iterable[Job], search: JobSearch, field: str) -> tuple[int, list[tuple[Any, int]]]:
    """:meth:`count_jobs_by` over ``jobs``."""
    found = _memory_matches(jobs, search, search.step_names)
    counts: dict[Any, int] = {}
    for _job, row in found:
        values = set(row[field]) if field in _PER_STEP or field in RESOLVED_FIELDS else {row[field]}
        for v in values:
            counts[v] = counts.get(v, 0) + 1
    return len(found), _ordered(counts)


def _ordered(counts: Mapping[Any, int]) -> list[tuple[Any, int]]:
    """Groups by value, nulls last (the same order on every store)."""
    known = sorted((v for v in counts if v is not None), key=_sort_key)
    return [(v, counts[v]) for v in known] + ([(None, counts[None])] if None in counts else [])


# -- SQL ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SqlDialect:
    """What the search SQL needs of a store's dialect (:class:`~.sql.SQLStore`'s hooks)."""

    name: Dialect
    q: Callable[[str], str]
    flag: Callable[[bool], Any]
    in_list: Callable[[list[str]], tuple[str, list[Any]]]
    decode: Callable[[Any], Any]
    limit: Callable[[int | None], Any]


def _column_sql(f: StoredField, d: SqlDialect) -> str:
    """SQLite's unary ``+`` keeps the planner off a few-valued column's index (its documented hint)."""
    return "+" + f.column if f.few_values and d.name == "sqlite" else f.column


def _columns(d: SqlDialect) -> dict[str, Column]:
    types = {f.name: f.type for f in FIELDS}
    encode: dict[FieldType, Callable[[Any], Any]] = {FieldType.FLAG: lambda v: d.flag(bool(v))}
    encode[FieldType.DATE] = to_micros
    return {n: Column(_column_sql(f, d), encode.get(types[n], _same)) for n, f in STORED_FIELDS.items()}


def _same(value: Any) -> Any:
    return value


def _date(text: str | None) -> datetime | None:
    """A stored date (RFC 3339 text) as the datetime ``q`` compares with in memory; the SQL columns hold micros."""
    return None if text is None else parse_datetime(text)


def _where(search: JobSearch, d: SqlDialect) -> tuple[str, list[Any]]:
    cond = to_sql(search.where, _columns(d), dialect=d.name, step_exists=STEP_IN)
    own, own_args = filter_where(JobFilter(actor=search.actor), d.flag, d.in_list)
    return " AND ".join([cond.text, *(d.q(w) for w in own)]), [*cond.params, *own_args]


def _order(search: JobSearch, d: SqlDialect) -> str:
    types = {f.name: f.type for f in FIELDS}
    parts = []
    for name, desc in search.sort:
        collate = ' COLLATE "C"' if d.name == "postgresql" and types[name] is FieldType.TEXT else ""
        parts.append(f"{STORED_FIELDS[name].column}{collate} {'DESC' if desc else 'ASC'} NULLS LAST")
    return ", ".join([*parts, "j.n"])


def sql_find(conn: Any, search: JobSearch, d: SqlDialect) -> SearchPage:
    """:meth:`find_jobs` as two statements on ``conn`` (one snapshot): the count, then the page."""
    where, args = _where(search, d)
    total = int(conn.execute(f"SELECT COUNT(*) FROM jobs j WHERE {where}", args).fetchone()[0])
    page = d.q(f"SELECT j.doc FROM jobs j WHERE {where} ORDER BY {_order(search, d)} LIMIT ? OFFSET ?")
    rows = conn.execute(page, [*args, d.limit(search.num), search.start]).fetchall()
    return SearchPage([job_from_doc(d.decode(r[0])) for r in rows], total)


def sql_count_by(conn: Any, search: JobSearch, field: str, d: SqlDialect) -> tuple[int, list[tuple[Any, int]]]:
    """:meth:`count_jobs_by` on ``conn``: a job field grouped in SQL, a current-step field by its steps' rows."""
    where, args = _where(search, d)
    total = int(conn.execute(f"SELECT COUNT(*) FROM jobs j WHERE {where}", args).fetchone()[0])
    flag = next(f.type for f in FIELDS if f.name == field) is FieldType.FLAG
    counts: dict[Any, int] = {}
    if field not in _PER_STEP:
        col = STORED_FIELDS[field].column
        for value, n in conn.execute(f"SELECT {col}, COUNT(*) FROM jobs j WHERE {where} GROUP BY {col}", args):
            counts[int(value) if flag else value] = int(n)
        return total, _ordered(counts)
    seen: set[tuple[int, Any]] = set()
    sql = (
        "SELECT j.n, j.workflow, j.workflow_version, s.step_id, s.assigned_type, s.assigned_to "
        f"FROM jobs j JOIN job_steps s ON s.job_id = j.job_id WHERE {where}"
    )
    for n, workflow, version, step_id, assigned_type, assigned_to in conn.execute(sql, args):
        step = CurrentStep(step_id, "", assigned_type, assigned_to)
        if field in RESOLVED_FIELDS:
            value = search.step_names.get((workflow, version), {}).get(step_id)
        else:
            value = STORED_FIELDS[field].value(step)
        if (n, value) not in seen:
            seen.add((n, value))
            counts[value] = counts.get(value, 0) + 1
    return total, _ordered(counts)

