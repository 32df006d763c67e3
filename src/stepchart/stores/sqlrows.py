"""What the SQL stores say in SQL and read back from rows: a job filter as a WHERE clause, log rows as entries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .base import JobFilter
from .compact import expand_response

__all__ = ["KEEP_RANK", "LOG_COLUMNS", "RECALL", "filter_where", "log_entries_of"]

RECALL = (
    "SELECT seq FROM action_log WHERE job_id = ? AND idem_key = ? AND seq > COALESCE("
    "(SELECT MAX(seq) FROM action_log WHERE job_id = ? AND action = 'Delete'), 0) ORDER BY seq DESC LIMIT 1"
)
"""The newest log row of a job under an idempotency key, after the job's last ``Delete`` (its
incarnation)."""

KEEP_RANK = (
    "INSERT INTO deleted_jobs (job_id, n) SELECT job_id, n FROM jobs WHERE job_id = ? "
    "ON CONFLICT (job_id) DO UPDATE SET n = excluded.n"
)
"""Remember a job's creation rank as it is deleted, so paging ``after`` it goes on from its place."""

LOG_COLUMNS = "seq, job_id, actor, action, body, now, response, reads, idem_key"
"""The columns of an action-log row, in the order :func:`log_entries_of` reads them."""


def filter_where(
    flt: JobFilter, flag: Callable[[bool], Any], in_list: Callable[[list[str]], tuple[str, list[Any]]]
) -> tuple[list[str], list[Any]]:
    """The conditions (on ``jobs j``, ``?`` placeholders) and arguments that select what ``flt`` finds.

    ``flag`` and ``in_list`` are the dialect's: a boolean as the database keeps it, and
    ``IN`` over a list of values (its SQL and its arguments).
    """
    where: list[str] = []
    args: list[Any] = []
    if flt.closed is not None:
        where.append("j.closed = ?")
        args.append(flag(flt.closed))
    if flt.workflow is not None:
        where.append("j.workflow = ?")
        args.append(flt.workflow)
    if flt.template is not None:
        where.append("j.template_id = ?")
        args.append(flt.template)
    if flt.step is not None:
        where.append("EXISTS (SELECT 1 FROM job_steps s WHERE s.job_id = j.job_id AND s.step_id = ?)")
        args.append(flt.step)
    if flt.assignees:
        among, among_args = in_list(list(flt.assignees))
        where.append(
            f"EXISTS (SELECT 1 FROM job_steps s WHERE s.job_id = j.job_id AND s.assigned_to {among} "
            "AND s.assigned_type <> 'Unassigned')"
        )
        args.extend(among_args)
    if flt.actor is not None:
        among, among_args = in_list(sorted(flt.actor.groups))
        where.append(
            "EXISTS (SELECT 1 FROM job_steps s WHERE s.job_id = j.job_id AND ("
            "(s.assigned_type = 'User' AND s.assigned_to = ?) OR "
            f"(s.assigned_type = 'Group' AND s.assigned_to {among})))"
        )
        args.extend([flt.actor.username, *among_args])
    if flt.after is not None:
        where.append(
            "j.n > COALESCE((SELECT n FROM jobs WHERE job_id = ?), (SELECT n FROM deleted_jobs WHERE job_id = ?), 0)"
        )
        args.extend([flt.after, flt.after])
    return where, args


def log_entries_of(
    rows: list[Any], events: Mapping[int, list[dict[str, Any]]], decode: Callable[[Any], Any]
) -> list[dict[str, Any]]:
    """Log rows (:data:`LOG_COLUMNS`) as entries, each with its events (by log sequence).

    ``decode`` reads a JSON column as the dialect returns it.
    """
    out = []
    for seq, jid, actor, action, body, now, resp, reads, key in rows:
        value = decode(body)
        entry = {
            "sequence": seq,
            "jobId": jid,
            "actor": decode(actor),
            "action": action,
            "body": value,
            "now": now,
            "response": expand_response(value, decode(resp)),
            "reads": decode(reads) if reads else {},
            "events": events.get(seq, []),
        }
        if key is not None:
            entry["idempotencyKey"] = key
        out.append(entry)
    return out
