"""The one table of codes ``stepchart check`` reports: every loader's, and its own findings'."""

from __future__ import annotations

__all__ = ["CODES"]

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
    "unknown-document": ("error", "a named file (or a scenario's workflow:) that is no stepchart document of its kind"),
    # the shipped JSON Schemas (stepchart.io.schemas)
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
    "version-mismatch": ("error", "a job document on a workflow version that is not loaded (ask for the upgrade)"),
    "upgrade-refused": ("error", "a job document that cannot move to the loaded workflow version"),
    # the project file (stepchart.yaml)
    "project-path-missing": ("error", "a folder or file the project file names does not exist"),
    # job templates (templates)
    "bad-placeholder": ("error", "a job template's jobName holds a {...} that is not {counter}"),
    "duplicate-template": ("error", "two loaded job templates with one id"),
    # Workflow Manager diagrams (stepchart import-diagram)
    "unmapped-action-type": ("warning", "an action type that no step type stands for (see --map)"),
    "unmapped-action-args": ("warning", "an action's args a workflow has no place for"),
    "unmapped-expression": ("warning", "an expression that is no return-value comparison (the path always matches)"),
    "unmapped-schedule": ("warning", "a diagram step's schedule"),
    "unmapped-notifications": ("warning", "a diagram path's notifications"),
    "unmapped-annotations": ("warning", "a diagram's annotations"),
    "unmapped-datasources": ("warning", "a diagram's data sources"),
    "unmapped-field": ("warning", "a diagram field a workflow cannot hold (help text, custom assignment)"),
    "renamed-id": ("warning", "a diagram or step id that is not a workflow id, renamed"),
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
    # scenarios: what stepchart test and the engine would refuse (tools.scenarios.prechecks)
    "unknown-actor": ("error", "a scenario operation's as: names no actor of the scenario"),
    "bad-duration": ("error", "a scenario's advance: is not an ISO 8601 duration"),
    "invalid-json": ("error", "a scenario's act: text is not JSON (the engine answers InvalidJson)"),
    # findings of stepchart verify (the states a job reaches)
    "stuck": ("error", "a reachable state, not complete, from which no sequence of moves completes the job"),
    "dead-step": ("error", "a step that is current in no reachable state"),
    "refused-result": ("error", "a result a step can give (Finish, complete, an answer) is refused: no path matches"),
    "livelock": ("error", "a reachable state from which the automatic steps exceed the cascade bound (R6)"),
}
"""Every code ``stepchart check`` and ``stepchart verify`` can report: code -> (severity, meaning)."""
