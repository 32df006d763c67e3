"""Records as the stores write and read them: compact JSON, times as integers, job documents,
the derived index columns, job summaries, and the export format with its importer.

Jobs are kept as their 6.2 JSON documents (:meth:`Job.to_doc`) plus a few columns
derived from them by :func:`index_job` (closed, workflow, current steps and their
assignees, the next scheduled release, the jobs waited on). The document is the
truth; the columns only serve queries and are rewritten with it in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..io.jsontext import describe_unstorable
from ..model import CurrentStep, Hold, Job, JobProperties
from ..model.times import parse_datetime
from .base import ImportReport, JobExistsError, StoreError
from .propcolumns import PROPERTY_COLUMNS

__all__ = [
    "EXPORT_FORMAT",
    "JobIndex",
    "check_header",
    "dumps",
    "export_header",
    "index_job",
    "job_from_doc",
    "job_summary",
    "property_row",
    "run_import",
    "to_micros",
]

EXPORT_FORMAT = 1
"""Version of the ``stepchart export`` JSON-lines format."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
"""Made once: ``json.dumps`` with options builds an encoder per call (a request dumps six values)."""


def dumps(value: Any) -> str:
    """Compact JSON as every store writes it (UTF-8 kept, no spaces)."""
    return _ENCODE(value)


def to_micros(value: str | datetime) -> int:
    """An RFC 3339 date-time (text or aware datetime) as whole microseconds since 1970 UTC.

    Integers sort as the times do, in SQL too; the texts do not (``...00.5Z`` sorts
    before ``...00Z``).
    """
    delta = (parse_datetime(value) if isinstance(value, str) else value) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def job_from_doc(doc: Mapping[str, Any]) -> Job:
    """The exact inverse of :meth:`Job.to_doc` for documents this code wrote.

    Stored documents were checked when they entered (:func:`~stepchart.load.jobs.parse_job`
    for imports, the engine for everything else), so reading them back is a plain
    rebuild: no schema check, no workflow needed.
    """
    job = Job(doc["jobId"], doc["workflow"], doc.get("workflowVersion", ""), bool(doc.get("closed", False)))
    job.current_steps = [
        CurrentStep(c["stepId"], c["status"], c.get("assignedType", "Unassigned"), c.get("assignedTo"))
        for c in doc.get("currentSteps", [])
    ]
    job.holds = [
        Hold(
            h["holdId"],
            h["stepId"],
            h.get("setBy"),
            h.get("setDate"),
            h.get("scheduledRelease"),
            h.get("dependentJobId"),
            h.get("dependentStepId"),
            h.get("releasedBy"),
            h.get("releasedDate"),
        )
        for h in doc.get("holds", [])
    ]
    job.return_values = dict(doc.get("returnValues", {}))
    job.history = [dict(h) for h in doc.get("history", [])]
    job.properties = JobProperties.from_doc(doc)
    return job


@dataclass(frozen=True)
class JobIndex:
    """The queryable columns of a job, derived from its document only.

    ``next_release``: the earliest scheduled release (microseconds, :func:`to_micros`)
    among holds not yet recorded as released, for an open job; the sweep finds due
    jobs by an index on it. ``waits``: (dependent job, dependent step) of every
    unreleased dependency hold of an open job. ``steps``: (step, assigned type,
    assignee) of each current step; the status is left out, so the common moves
    (Run, Stop, Finish within a step) rewrite only the document.
    """

    closed: bool
    workflow: str
    workflow_version: str
    next_release: int | None
    steps: tuple[tuple[str, str, str | None], ...]
    waits: tuple[tuple[str, str | None], ...]
    props: tuple[Any, ...] = ()
    """The property columns (:func:`property_row`)."""


def property_row(props: JobProperties) -> tuple[Any, ...]:
    """The values of the property columns of ``props`` (:data:`~.propcolumns.PROPERTY_COLUMNS` order)."""
    out: list[Any] = []
    for column, kind in PROPERTY_COLUMNS:
        value = getattr(props, "template" if column == "template_id" else column)
        out.append(to_micros(value) if kind == "time" and value is not None else value)
    return tuple(out)


def index_job(job: Job) -> JobIndex:
    """Compute the derived columns of ``job`` (see :class:`JobIndex`)."""
    releases: list[int] = []
    waits: list[tuple[str, str | None]] = []
    if not job.closed:
        for h in job.holds:
            if h.released:
                continue
            if h.scheduled_release is not None:
                releases.append(to_micros(h.scheduled_release))
            if h.dependent_job_id is not None and (h.dependent_job_id, h.dependent_step_id) not in waits:
                waits.append((h.dependent_job_id, h.dependent_step_id))
    steps = tuple((c.step_id, c.assigned_type, c.assigned_to) for c in job.current_steps)
    return JobIndex(
        job.closed,
        job.workflow,
        job.workflow_version,
        min(releases) if releases else None,
        steps,
        tuple(waits),
        property_row(job.properties),
    )


def job_summary(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What a job list shows of a job: id, workflow and version, closed, current steps."""
    return {
        "jobId": doc["jobId"],
        "workflow": doc["workflow"],
        "workflowVersion": doc.get("workflowVersion", ""),
        "closed": bool(doc.get("closed", False)),
        "currentSteps": [
            {k: c[k] for k in ("stepId", "status", "assignedType", "assignedTo") if k in c}
            for c in doc.get("currentSteps", [])
        ],
    }


# -- the export format ----------------------------------------------------------------------


def check_header(record: Mapping[str, Any]) -> None:
    """Refuse an export file this code cannot read."""
    if record.get("kind") != "stepchart-export":
        raise StoreError("not a stepchart export: the first record must be the export header")
    if int(record.get("format", 0)) > EXPORT_FORMAT:
        raise StoreError(
            f"export format {record.get('format')} is newer than this stepchart "
            f"(reads up to {EXPORT_FORMAT}): upgrade stepchart"
        )


def refuse_unstorable(record: Any, where: str, outcome: str) -> None:
    """A :class:`StoreError` naming the first string of ``record`` holding NUL or a lone surrogate.

    Export and import refuse them: no store can keep them, and a lone surrogate cannot even
    be written as UTF-8 (issue 11).
    """
    problems = describe_unstorable(record)
    if problems:
        raise StoreError(f"{where}: {problems[0]}; {outcome}")


def export_header(schema_version: int) -> dict[str, Any]:
    """The first record of an export."""
    return {"kind": "stepchart-export", "format": EXPORT_FORMAT, "schemaVersion": schema_version}


def run_import(
    records: Iterable[Mapping[str, Any]],
    *,
    skip_existing: bool,
    known: Callable[[str], bool],
    put_workflow: Callable[[str, str, Mapping[str, Any]], None],
    put_job: Callable[[Job], None],
    put_log: Callable[[Mapping[str, Any]], None],
    put_comment: Callable[[str, dict[str, Any]], None],
) -> ImportReport:
    """Feed export records to a store's writers (inside the store's one transaction).

    A job id the target knows already (a stored job, or log entries of a deleted
    one) is decided once, at its first record: :class:`JobExistsError`, or with
    ``skip_existing`` its job and log records are passed over.
    """
    report = ImportReport()
    decided: dict[str, bool] = {}

    def take(job_id: str) -> bool:
        if job_id not in decided:
            if known(job_id):
                if not skip_existing:
                    raise JobExistsError(job_id)
                report.skipped_jobs.append(job_id)
            decided[job_id] = job_id not in report.skipped_jobs
        return decided[job_id]

    header = False
    for i, rec in enumerate(records):
        refuse_unstorable(rec, f"record {i + 1}", "nothing was imported")
        if not header:
            check_header(rec)
            header = True
            continue
        kind = rec.get("kind")
        if kind == "workflow":
            put_workflow(rec["workflow"], rec["version"], rec["source"])
            report.workflows += 1
        elif kind == "job":
            job = job_from_doc(rec["doc"])
            if take(job.job_id):
                put_job(job)
                report.jobs += 1
        elif kind == "log":
            if take(rec["jobId"]):
                put_log(rec)
                report.log_entries += 1
                report.events += len(rec.get("events", []))
        elif kind == "comment":
            from .comments import comment_record  # comments imports base, as this module does

            comment = comment_record(rec, f"record {i + 1}")
            if take(rec["jobId"]):
                put_comment(rec["jobId"], comment)
                report.comments += 1
        else:
            raise StoreError(f"record {i + 1}: unknown kind {kind!r}")
    if not header:
        raise StoreError("not a stepchart export: it is empty")
    return report
