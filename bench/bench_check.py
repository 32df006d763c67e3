"""Benchmark (not a test): ``stepchart check`` against ``check-jsonschema`` on a folder of 200 workflows.

Both tools get the same files: ``stepchart check FOLDER`` (every load error plus the
semantic findings) and one ``check-jsonschema --schemafile workflow.schema.json`` process
given every file (the workflow schema alone). The figure is the wall time of each whole
command, the median of several rounds; then what each found.

The corpus (made fresh in a temporary folder, seeded): 200 workflows of 6 to 40 steps
of the four shipped types, with questions, return-value paths, automatic and skippable
steps. About a third carry one planted mistake each, of these kinds: a schema error
(unknown key, wrong type), a path to a missing step, an unreachable step, a question
answer no path takes, a path on a return value the step never gives, a duplicate path,
a loop of automatic steps, a step with no way to an end. Only the first two are visible
to a schema.

    python bench/bench_check.py                  # 200 workflows, 5 rounds
    python bench/bench_check.py --workflows 50 --rounds 1

Prints a table, then one JSON line (the last line of output). Needs ``check-jsonschema``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from jsonschema_cli import ENV, run_check_jsonschema, stepchart_command

from stepchart.io.schemas import load_schema

"""Both tools run with their bytecode cached, as installed tools do (check-jsonschema's is
compiled at install; stepchart's is written by the warm-up run)."""

MISTAKES = (
    "unknown-key", "wrong-type", "unknown-step", "unreachable-step", "unused-answer",
    "impossible-return-value", "duplicate-path", "automatic-loop", "no-way-to-end",
)  # fmt: skip
SCHEMA_VISIBLE = {"unknown-key", "wrong-type"}


def make_workflow(rng: random.Random, index: int, mistake: str | None) -> str:
    n = rng.randint(6, 40)
    ids = [f"s{i}" for i in range(n)]
    lines = [
        "# yaml-language-server: $schema=../src/stepchart/schemas/workflow.schema.json",
        f"workflow: wf-{index}",
        f"name: Generated workflow {index}",
        f"initialStep: {ids[0]}",
        "steps:",
    ]
    for i, sid in enumerate(ids):
        last = i == n - 1
        kind = "manual" if last else rng.choice(("manual", "manual", "openApp", "question", "gp"))
        lines.append(f"  - id: {sid}")
        lines.append(f"    name: Step {i} of workflow {index}")
        lines.append(f"    type: {kind}")
        if kind != "gp" and rng.random() < 0.5:
            lines.append("    assignedType: Group")
            lines.append(f"    assignedTo: team{rng.randint(1, 5)}")
        if kind == "manual" and rng.random() < 0.2:
            lines.append("    canSkip: true")
        if kind == "gp" and rng.random() < 0.5:
            lines.append("    automatic: true")
        if last:
            lines.append("    paths: []")
            continue
        nxt = ids[i + 1]
        later = ids[rng.randint(i + 1, n - 1)]
        if kind == "question":
            lines.append("    answers: [approve, reject]")
            lines.append("    paths:")
            lines.append(f"      - {{nextStep: {nxt}, returnValue: approve}}")
            back = ids[rng.randint(0, i)]
            lines.append(f"      - {{nextStep: {back}, returnValue: reject, assignedType: User, assignedTo: u{i}}}")
        elif kind == "gp":
            lines.append("    paths:")
            lines.append(f"      - {{nextStep: {nxt}, returnValue: Success}}")
            lines.append(f"      - {{nextStep: {later}, returnValue: [Failed, Partial]}}")
        else:
            lines.append(f"    paths: [{{nextStep: {nxt}}}]")
    text = "\n".join(lines) + "\n"
    return plant(text, mistake, ids, rng) if mistake else text


def plant(text: str, mistake: str, ids: list[str], rng: random.Random) -> str:
    last = ids[-1]
    if mistake == "unknown-key":
        return text.replace("    type:", "    kind: x\n    type:", 1)
    if mistake == "wrong-type":
        return text.replace("initialStep:", "autoClose: sometimes\ninitialStep:", 1)
    if mistake == "unknown-step":
        return text.replace("paths: []", "paths: [{nextStep: nowhere}]")
    if mistake == "unreachable-step":
        return text + "  - {id: orphan, type: manual, paths: []}\n"
    if mistake == "unused-answer":
        return (
            text.replace("answers: [approve, reject]", "answers: [approve, reject, later]", 1)
            if "answers:" in text
            else text
            + "  - {id: q, type: question, answers: [a, b], paths: [{nextStep: "
            + last
            + ", returnValue: a}]}\n"
        )
    if mistake == "impossible-return-value":
        return text.replace("paths: []", f"paths: [{{nextStep: {ids[0]}, returnValue: Approved}}]", 1)
    if mistake == "duplicate-path":
        return re.sub(r"paths: \[\{nextStep: (s\d+)\}\]", r"paths: [{nextStep: \1}, {nextStep: \1}]", text, count=1)
    if mistake == "automatic-loop":
        return text.replace("paths: []", "paths: [{nextStep: loop-a}]", 1) + (
            "  - {id: loop-a, type: manual, automatic: true, proceedNext: true, paths: [{nextStep: loop-b}]}\n"
            "  - {id: loop-b, type: manual, automatic: true, proceedNext: true, paths: [{nextStep: loop-a}]}\n"
        )
    if mistake == "no-way-to-end":
        return text.replace("paths: []", f"paths: [{{nextStep: {ids[-2]}}}]", 1)
    raise ValueError(mistake)


def make_corpus(folder: Path, n: int, seed: int = 3) -> tuple[list[Path], Counter[str]]:
    rng = random.Random(seed)
    files, planted = [], Counter[str]()
    for i in range(n):
        mistake = MISTAKES[(i // 3) % len(MISTAKES)] if i % 3 == 0 else None
        if mistake:
            planted[mistake] += 1
        p = folder / f"wf-{i:03d}.yaml"
        p.write_text(make_workflow(rng, i, mistake), encoding="utf-8")
        files.append(p)
    return files, planted


def run_stepchart(folder: Path) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    done = subprocess.run(
        [*stepchart_command(), "check", str(folder), "--format", "json"],
        capture_output=True, text=True, check=False, env=ENV,
    )  # fmt: skip
    elapsed = time.perf_counter() - t0
    if done.returncode not in (0, 1):
        raise SystemExit(f"stepchart check failed: {done.stderr}")
    return elapsed, json.loads(done.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workflows", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="stepchart-bench-") as tmp:
        root = Path(tmp)
        folder = root / "workflows"
        folder.mkdir()
        files, planted = make_corpus(folder, args.workflows)
        schema = root / "workflow.schema.json"
        schema.write_text(json.dumps(load_schema("workflow")), encoding="utf-8")
        ours_t, theirs_t = [], []
        data: dict[str, Any] = {}
        theirs_bad: set[str] = set()
        run_stepchart(folder)  # warm-up: bytecode and the page cache, for both tools
        run_check_jsonschema(schema, files)
        for _ in range(args.rounds):
            t, data = run_stepchart(folder)
            ours_t.append(t)
            t2, theirs_bad = run_check_jsonschema(schema, files)
            theirs_t.append(t2)
    ours, theirs = statistics.median(ours_t), statistics.median(theirs_t)
    codes = Counter(p["code"] for p in data["problems"])
    ours_files = {Path(f["file"]).name for f in data["files"] if f["errors"] or f["warnings"]}
    print(f"{args.workflows} workflows, {args.rounds} rounds (median wall time of the whole command)")
    print(f"  stepchart check          {ours:7.3f} s   {len(ours_files)} files with findings, "
          f"{data['summary']['errors']} errors, {data['summary']['warnings']} warnings")  # fmt: skip
    print(f"  check-jsonschema         {theirs:7.3f} s   {len(theirs_bad)} files with schema errors")
    print(f"  ratio                    {ours / theirs:7.2f} (stepchart / check-jsonschema; <= 1 is the target)")
    print(f"  planted mistakes: {dict(sorted(planted.items()))} (schema-visible: {sorted(SCHEMA_VISIBLE)})")
    print(f"  stepchart findings by code: {dict(sorted(codes.items()))}")
    print(json.dumps({
        "bench": "check", "workflows": args.workflows, "rounds": args.rounds, "stepchart_s": round(ours, 3),
        "check_jsonschema_s": round(theirs, 3), "ratio": round(ours / theirs, 2),
        "stepchart_files_flagged": len(ours_files), "check_jsonschema_files_flagged": len(theirs_bad),
        "findings": dict(sorted(codes.items())), "planted": dict(sorted(planted.items())),
        "python": platform.python_version(),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
