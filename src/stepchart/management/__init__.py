"""Job operations beside jobAction (close, reopen, delete, upgrade, search, sweep, events) and replay."""
