"""Text -> positioned documents -> schema problems; strict JSON; the shipped data folders."""
