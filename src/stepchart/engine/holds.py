"""Holds on steps (R18-R20): applied by Hold, released by ReleaseHold, by their time or by a dependency met."""

from __future__ import annotations

from ..model import Hold, Job
from ..model.times import format_datetime
from ..rules.context import Context
from .records import note_event, note_history

__all__ = ["apply_hold", "next_hold_id", "release", "release_expired"]


def apply_hold(ctx: Context, step_id: str) -> None:
    """Put the hold the Hold request describes on ``step_id`` (R18)."""
    req = ctx.request
    hold = Hold(
        next_hold_id(ctx.job),
        step_id,
        ctx.actor.username,
        ctx.now_text,
        format_datetime(req.hold_release) if req.hold_release is not None else None,
        req.dependent_job_id,
        req.dependent_step_id if req.dependent_job_id else None,
    )
    ctx.job.holds.append(hold)
    note_history(ctx, step_id, "Held")
    note_event(ctx, "StepHeld", step_id, holdId=hold.hold_id)


def release(ctx: Context, hold: Hold, by: str, date: str) -> None:
    """Release ``hold`` as ``by`` at ``date`` (R20), with its history record and event."""
    hold.released_by, hold.released_date = by, date
    note_history(ctx, hold.step_id, "HoldReleased", date=date, username=by)
    note_event(ctx, "StepHoldReleased", hold.step_id, username=by, holdId=hold.hold_id)


def release_expired(ctx: Context) -> None:
    """Record the holds that released themselves: a time that has come, a dependency met (R19)."""
    for h in ctx.job.holds:
        if h.released:
            continue
        expired = ctx.expiry(h)
        if expired is not None:
            release(ctx, h, "system", format_datetime(expired))
        elif ctx.dependency_met(h):
            release(ctx, h, "system", ctx.now_text)


def next_hold_id(job: Job) -> str:
    """``H<n>`` for the n-th hold of the job (R18), skipping ids a loaded job document already uses."""
    taken = {h.hold_id for h in job.holds}
    n = len(job.holds) + 1
    while f"H{n}" in taken:
        n += 1
    return f"H{n}"
