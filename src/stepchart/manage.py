"""Job management beside jobAction (list, close, reopen, delete): a mixin of :class:`Engine`."""

from __future__ import annotations


class JobManagement:
    """Operations on whole jobs; filled in by the store issue."""
