"""``stepchart init [DIR]``: a starter project that passes ``stepchart check`` and ``stepchart test`` at once.

It writes the project file, one step type chart of the project's own, one rule placed
before a shipped one, a workflow using both, a scenario that exercises them, every
shipped schema (as ``stepchart schema --all`` writes them) and editor settings pointing
at those schemas. A folder that is not empty is refused unless ``--force``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .output import err

__all__ = ["STARTER", "register", "write_starter"]

_SCHEMAS = "schemas"

STARTER: dict[str, str] = {
    "stepchart.yaml": """\
# yaml-language-server: $schema=schemas/project.schema.json
# The project file: every stepchart command run in this folder (or below it) loads
# these folders after the shipped charts and rules. Paths are relative to this file.
project: {name}
charts: charts
rules: rules
workflows: workflows
scenarios: scenarios
""",
    "charts/checklist.yaml": """\
# yaml-language-server: $schema=../schemas/chart.schema.json
stepType: checklist
description: A step whose items are ticked off one by one; Stop puts it back to Ready.
asynchronous: false
initial: Ready
states:
  Ready: {description: "Current, not started."}
  Ticking: {started: true, running: true, description: "Items are being ticked off."}
  Done: {final: true, description: "Every item ticked; the step leaves the current steps."}
transitions:
  - {event: run, from: Ready, to: Ticking, record: Started, emit: [StepStarted]}
  - {event: stop, from: Ticking, to: Ready, record: Paused, emit: [StepPaused]}
  - {event: finish, from: Ticking, to: Done, returnValue: Success}
""",
    "rules/checklist.yaml": """\
# yaml-language-server: $schema=../schemas/rules.schema.json
description: "The project's own rules, checked with the shipped ones; before: slots one in."
rules:
  - name: checklist-reset-needs-privilege
    description: Putting a checklist back to Ready (Stop) needs the checklistReset privilege.
    actions: [Stop]
    require: {any: [actor.isEngine, {not: {step.type: checklist}}, {actor.privilege: checklistReset}]}
    yields: InsufficientPrivileges
    before: stop-by-assignee-or-force
""",
    "workflows/hello.yaml": """\
# yaml-language-server: $schema=../schemas/workflow.schema.json
workflow: hello
name: Hello, stepchart
description: Tick the checklist, then decide whether to publish.
initialStep: prepare
steps:
  - id: prepare
    type: checklist
    assignedType: Group
    assignedTo: reviewers
    paths: [{nextStep: decide}]
  - id: decide
    type: question
    answers: [publish, redo]
    paths:
      - {nextStep: publish, returnValue: publish}
      - {nextStep: prepare, returnValue: redo}
  - id: publish
    type: manual
    paths: []
""",
    "scenarios/hello.yaml": """\
# yaml-language-server: $schema=../schemas/scenario.schema.json
scenarios:
  - name: a reviewer ticks the checklist and publishes
    workflow: ../workflows/hello.yaml
    actors:
      rita: {groups: [reviewers]}
    do:
      - act: {type: Run}
        as: rita
        expect: {stepResponses: [{stepId: prepare, status: Success}]}
      - act: {type: Finish}
        as: rita
        expect: {job: {currentSteps: [{stepId: decide, status: Ready}]}}
      - act: {type: Run}
        as: rita
        expect: {job: {currentSteps: [{stepId: decide, status: WaitingForInfo}]}}
      - respond: {stepId: decide, value: publish}
        as: rita
        expect: {job: {currentSteps: [{stepId: publish, status: Ready}]}}
  - name: the project's rule lets only a holder of checklistReset put a checklist back
    workflow: ../workflows/hello.yaml
    actors:
      rita: {groups: [reviewers]}
      lead: {groups: [reviewers], privileges: [checklistReset]}
    do:
      - act: {type: Run}
        as: rita
      - act: {type: Stop}
        as: rita
        expect: {error: {type: InsufficientPrivileges}}
      - act: {type: Stop}
        as: lead
        expect: {job: {currentSteps: [{stepId: prepare, status: Ready}]}}
""",
}
"""The starter files, by path in the project; ``{name}`` is the project's name (the folder's)."""

_EDITOR_GLOBS = {
    "project": ["stepchart.yaml"],
    "chart": ["charts/*.yaml", "charts/*.yml"],
    "rules": ["rules/*.yaml", "rules/*.yml"],
    "workflow": ["workflows/*.yaml", "workflows/*.yml"],
    "scenario": ["scenarios/*.yaml", "scenarios/*.yml"],
}


def register(sub: Any) -> None:
    """Add ``init`` to the ``stepchart`` parser's subcommands."""
    p = sub.add_parser(
        "init", help="make a starter project (passes check and test at once)",
        description="Write a starter project into DIR (default: the working folder): stepchart.yaml, "
        "a chart, a rule, a workflow, a scenario, every schema under schemas/ and .vscode/settings.json "
        "pointing at them. A folder that is not empty is refused unless --force, which replaces the "
        "starter files of the same names and leaves every other file alone.",
    )  # fmt: skip
    p.add_argument("dir", nargs="?", default=".", metavar="DIR", help="the project folder (created if missing)")
    p.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    p.set_defaults(handler=_cmd_init)


def write_starter(folder: str | Path) -> list[Path]:
    """Write the starter project into ``folder`` (created); the files written, schemas and editor settings included."""
    from .schema import write_all_schemas

    root = Path(folder)
    name = root.resolve().name or "project"
    written: list[Path] = []
    for rel, text in STARTER.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace("{name}", json.dumps(name)), encoding="utf-8")
        written.append(target)
    written.extend(write_all_schemas(root / _SCHEMAS))
    settings = root / ".vscode" / "settings.json"
    settings.parent.mkdir(exist_ok=True)
    schemas = {f"./{_SCHEMAS}/{kind}.schema.json": globs for kind, globs in _EDITOR_GLOBS.items()}
    settings.write_text(json.dumps({"yaml.schemas": schemas}, indent=2) + "\n", encoding="utf-8")
    written.append(settings)
    return written


def _cmd_init(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    if root.exists() and not root.is_dir():
        err(f"stepchart init: {root} is not a folder")
        return 2
    if root.is_dir() and any(root.iterdir()) and not args.force:
        err(f"stepchart init: {root} is not empty; nothing written (--force writes the starter files into it)")
        return 2
    try:
        written = write_starter(root)
    except OSError as exc:
        err(f"stepchart init: cannot write {root}: {exc.strerror or exc}")
        return 2
    print(f"wrote a starter project of {len(written)} files to {root}")
    print(f"next: cd {root} && stepchart check && stepchart test")
    return 0
