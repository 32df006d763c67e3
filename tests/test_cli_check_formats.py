"""``stepchart check -`` (standard input) and ``--format github|sarif`` beside text and json (issue 12).

SARIF is checked against the structure SARIF 2.1.0 requires (a local JSON Schema of its
required fields and value sets below: no network), and against the codes table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from cli_helpers import ROOT, cli, proc, write

from stepchart.tools.lint import CODES

PARCEL = ROOT / "examples" / "parcel-edit.yaml"
BAD_JOB = b"jobId: J9\nworkflow: parcel-edit\ncurrentSteps:\n  - {stepId: edit, status: Runing}\n"

SARIF_REQUIRED: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "description": "The parts of the SARIF 2.1.0 schema (sarifLog, run, tool, toolComponent, "
    "reportingDescriptor, result, location, physicalLocation, artifactLocation, region, "
    "message) that a log must satisfy.",
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string", "format": "uri"},
        "runs": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/run"}},
    },
    "definitions": {
        "message": {
            "type": "object",
            "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
            "properties": {"text": {"type": "string"}, "id": {"type": "string"}},
        },
        "run": {
            "type": "object",
            "required": ["tool"],
            "properties": {
                "tool": {
                    "type": "object",
                    "required": ["driver"],
                    "properties": {"driver": {"$ref": "#/definitions/toolComponent"}},
                },
                "results": {"type": "array", "items": {"$ref": "#/definitions/result"}},
            },
        },
        "toolComponent": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "version": {"type": "string"},
                "rules": {
                    "type": "array",
                    "uniqueItems": True,
                    "items": {
                        "type": "object",
                        "required": ["id"],
                        "properties": {
                            "id": {"type": "string"},
                            "shortDescription": {"$ref": "#/definitions/message"},
                            "defaultConfiguration": {
                                "type": "object",
                                "properties": {"level": {"enum": ["none", "note", "warning", "error"]}},
                            },
                        },
                    },
                },
            },
        },
        "result": {
            "type": "object",
            "required": ["message"],
            "properties": {
                "message": {"$ref": "#/definitions/message"},
                "ruleId": {"type": "string"},
                "ruleIndex": {"type": "integer", "minimum": -1},
                "level": {"enum": ["none", "note", "warning", "error"]},
                "locations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "physicalLocation": {
                                "type": "object",
                                "anyOf": [{"required": ["address"]}, {"required": ["artifactLocation"]}],
                                "properties": {
                                    "artifactLocation": {
                                        "type": "object",
                                        "properties": {"uri": {"type": "string", "format": "uri-reference"}},
                                    },
                                    "region": {
                                        "type": "object",
                                        "properties": {
                                            "startLine": {"type": "integer", "minimum": 1},
                                            "startColumn": {"type": "integer", "minimum": 1},
                                        },
                                    },
                                },
                            }
                        },
                    },
                },
            },
        },
    },
}



def test_check_reads_a_document_from_standard_input() -> None:
    r = cli("check", "-", str(PARCEL), stdin=BAD_JOB)
    assert r.code == 1, r.out + r.err
    assert r.lines[0].startswith("<stdin>:4:28: error[unknown-status]: 'Runing' is not a status"), r.out
    assert r.lines[-1] == "1 error, 0 warnings in 2 files (1 job document, 1 workflow)"
    good = cli("check", "-", stdin=PARCEL.read_bytes())
    assert good.code == 0, good.out
    assert good.lines[-1] == "0 errors, 0 warnings in 1 file (1 workflow)"


def test_standard_input_that_is_not_yaml_or_not_stepchart_is_located_there() -> None:
    r = cli("check", "-", stdin=b"steps: [\n")
    assert r.code == 1
    assert r.lines[0].startswith("<stdin>:"), r.out
    assert "error[yaml-syntax]" in r.lines[0]
    r = cli("check", "-", "--format", "json", stdin=b"hello: world\n")
    doc = json.loads(r.out)
    assert [(p["file"], p["code"]) for p in doc["problems"]] == [("<stdin>", "unknown-document")]
    assert cli("check", "-", "-", stdin=b"{}").code == 2


def test_github_format_prints_workflow_commands(tmp_path: Path) -> None:
    job = tmp_path / "job.yaml"
    job.write_bytes(BAD_JOB)
    wf = write(
        tmp_path,
        "wf.yaml",
        """
        workflow: w
        initialStep: a
        steps:
          - {id: a, type: manual, paths: [{nextStep: b}, {nextStep: b}]}
          - {id: b, type: manual}
        """,
    )
    r = proc("check", "job.yaml", "wf.yaml", str(PARCEL), "--format", "github", cwd=tmp_path)
    assert r.code == 1, r.out + r.err
    assert r.lines[0] == (
        "::error file=job.yaml,line=4,col=28,title=unknown-status::'Runing' is not a status of a current manual "
        "step; allowed: Ready, Running, Paused, Cancelled, Error"
    )
    assert r.lines[1].startswith("::warning file=wf.yaml,line=4,col="), r.lines
    assert ",title=duplicate-path::path 2 of step 'a' repeats path 1" in r.lines[1]
    assert r.lines[-1].startswith("1 error, 1 warning in 3 files")
    assert "\x1b[" not in r.out and wf.is_file()


def test_github_format_escapes_what_the_command_syntax_reserves(tmp_path: Path) -> None:
    """A file name with a comma and a colon, and a message with a newline and a percent sign."""
    odd = tmp_path / "a,b:c.yaml"
    odd.write_text(
        "workflow: w\ninitialStep: a\nsteps:\n  - {id: a, type: manual, name: x}\n  - {id: a, type: manual}\n"
    )
    r = proc("check", odd.name, "--format", "github", cwd=tmp_path)
    line = next(x for x in r.lines if x.startswith("::error "))
    props, _, message = line[len("::error ") :].partition("::")
    assert props.startswith("file=a%2Cb%3Ac.yaml,line=5,"), line
    assert "\n" not in message and message
    from stepchart.errors import Problem
    from stepchart.tools.reporting import github_annotation

    text = github_annotation(Problem("x.yaml", 1, 2, "bad-value", "50% done\nnext line"))
    assert text == "::error file=x.yaml,line=1,col=2,title=bad-value::50%25 done%0Anext line"


def test_sarif_format_is_a_sarif_2_1_0_log_of_the_findings(tmp_path: Path) -> None:
    job = tmp_path / "job.yaml"
    job.write_bytes(BAD_JOB)
    sc = write(
        tmp_path,
        "sc.yaml",
        """
        workflow: wf.yaml
        do:
          - act: {type: Run, stepIds: [1]}
        """,
    )
    (tmp_path / "wf.yaml").write_text(PARCEL.read_text("utf-8"))
    r = proc("check", "job.yaml", "sc.yaml", "wf.yaml", "--format", "sarif", cwd=tmp_path)
    assert r.code == 1, r.err
    log = json.loads(r.out)
    jsonschema.Draft7Validator(SARIF_REQUIRED, format_checker=jsonschema.FormatChecker()).validate(log)
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "stepchart"
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert rule_ids[: len(CODES)] == list(CODES)  # the one codes table, in its order
    for rule in driver["rules"][: len(CODES)]:
        severity, meaning = CODES[rule["id"]]
        assert rule["shortDescription"]["text"] == meaning
        assert rule["defaultConfiguration"]["level"] == severity
    got = [
        (
            res["ruleId"],
            res["level"],
            res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            res["locations"][0]["physicalLocation"]["region"]["startLine"],
            res["locations"][0]["physicalLocation"]["region"]["startColumn"],
        )
        for res in run["results"]
    ]
    assert got == [("unknown-status", "error", "job.yaml", 4, 28), ("wrong-type", "error", "sc.yaml", 3, 32)], got
    for res in run["results"]:
        assert driver["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["message"]["text"]
    assert sc.is_file()


def test_sarif_names_standard_input_by_a_valid_uri_reference() -> None:
    r = cli("check", "-", str(PARCEL), "--format", "sarif", stdin=BAD_JOB)
    (res,) = json.loads(r.out)["runs"][0]["results"]
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "%3Cstdin%3E"


def test_sarif_of_a_clean_check_has_no_results_and_exit_0() -> None:
    r = cli("check", str(PARCEL), "--format", "sarif")
    assert r.code == 0, r.out
    log = json.loads(r.out)
    jsonschema.Draft7Validator(SARIF_REQUIRED).validate(log)
    assert log["runs"][0]["results"] == []
