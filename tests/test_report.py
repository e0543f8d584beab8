"""Report formats, validated against their schemas (tests/schemas/)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from put_migrate import api, report, results
from put_migrate.api import FileResult, FileStatus, Mode
from put_migrate.rules import Finding, Severity

SCHEMAS = Path(__file__).parent / "schemas"


def _results() -> list[FileResult]:
    return [
        FileResult(
            "src/m.py",
            FileStatus.CHANGED,
            (
                Finding("src/m.py", 7, 8, "PM101", "self.log call migrated to self.put", Severity.REWRITTEN),
                Finding("src/m.py", 9, 8, "PM204", "the metric name is not a literal string, a:b,c%\nx"),
                Finding("src/m.py", 11, 8, "PM001", "`.log(...)` left as it is"),
            ),
            parsed=True,
        ),
        FileResult("src/ok.py", FileStatus.UNCHANGED),
        FileResult("src/skip.py", FileStatus.SKIPPED, reason="`# put-migrate: skip-file` comment"),
        results.error("src/dir with space/bad.py", api.SYNTAX_ERROR, "syntax error: boom", 3, 4),
        results.error("/abs/outside.py", api.UNREADABLE, "binary file"),
    ]


def test_json_report_matches_its_schema():
    document = json.loads(report.render_json(_results()))
    schema = json.loads((SCHEMAS / "report.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    assert document["summary"]["calls_rewritten"] == 1
    assert document["summary"]["calls_left"] == {"PM204": 1}
    assert document["summary"]["calls_skipped_by_comment"] == {"PM001": 1}
    assert len(document["findings"]) == 5
    first = document["findings"][-1]
    assert first == {
        "file": "src/m.py",
        "line": 11,
        "column": 9,
        "code": "PM001",
        "message": "`.log(...)` left as it is",
        "severity": "manual",
    }


def test_empty_json_report_is_valid():
    schema = json.loads((SCHEMAS / "report.schema.json").read_text())
    jsonschema.validate(json.loads(report.render_json([])), schema, cls=jsonschema.Draft202012Validator)


def test_sarif_report_is_valid_sarif_2_1_0():
    log = json.loads(report.render_sarif(_results()))
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)
    run = log["runs"][0]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {"PM101": "note", "PM204": "warning", "PM001": "note", "PM301": "error", "PM302": "error"}
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert all(rule_ids[r["ruleIndex"]] == r["ruleId"] for r in run["results"])
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {"src/m.py", "src/dir%20with%20space/bad.py", "file:///abs/outside.py"}
    region = run["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_sarif_with_no_findings_is_valid():
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(json.loads(report.render_sarif([])), schema, cls=jsonschema.Draft4Validator)


# https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions
_COMMAND = re.compile(
    r"^::(?P<kind>notice|warning|error) file=(?P<file>[^,:]+),line=(?P<line>\d+),col=(?P<col>\d+),"
    r"title=(?P<title>PM\d{3})::(?P<message>[^\r\n]*)$"
)


def test_github_workflow_commands():
    lines = report.render_github(_results()).splitlines()
    assert len(lines) == 5
    parsed = [_COMMAND.match(line) for line in lines]
    assert all(parsed), lines
    kinds = {m["title"]: m["kind"] for m in parsed}
    assert kinds == {"PM101": "notice", "PM204": "warning", "PM001": "notice", "PM301": "error", "PM302": "error"}
    pm204 = next(m for m in parsed if m["title"] == "PM204")
    assert pm204["message"] == "the metric name is not a literal string, a:b,c%25%0Ax"
    assert (pm204["file"], pm204["line"], pm204["col"]) == ("src/m.py", "9", "9")


def test_render_report_rejects_unknown_formats():
    with pytest.raises(ValueError):
        report.render_report([], "xml")


def test_summary_text():
    text = report.format_summary(report.summarize(_results()), Mode.CHECK)
    assert text.splitlines()[0] == "put-migrate: 5 files scanned (1 parsed): 1 would change, 1 unchanged, 3 skipped"
    assert "  skipped src/skip.py: `# put-migrate: skip-file` comment" in text
    assert "  skipped src/dir with space/bad.py: syntax error: boom" in text
    assert text.splitlines()[-1] == (
        "calls to rewrite: 1; calls left for manual review: 1 (PM204: 1); skipped by comment: PM001: 1"
    )


def _sarif_locations(log) -> set[tuple[str, str | None]]:
    return {
        (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
         r["locations"][0]["physicalLocation"]["artifactLocation"].get("uriBaseId"))
        for r in log["runs"][0]["results"]
    }


@pytest.mark.parametrize("marker", ["git", "pyproject"])
def test_sarif_paths_are_relative_to_the_repository_root(tmp_path, marker):
    import subprocess

    root = tmp_path / "repo"
    (root / "sub" / "pkg").mkdir(parents=True)
    if marker == "git":
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    else:
        (root / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    file_results = [
        results.error("pkg/bad.py", api.SYNTAX_ERROR, "syntax error: boom", 3, 4),
        results.error("../../elsewhere/x.py", api.UNREADABLE, "binary file"),
    ]
    log = json.loads(report.render_sarif(file_results, cwd=root / "sub"))
    jsonschema.validate(log, json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text()), cls=jsonschema.Draft4Validator)
    run = log["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": root.resolve().as_uri() + "/"}}
    elsewhere = (tmp_path / "elsewhere" / "x.py").resolve().as_uri()
    assert _sarif_locations(log) == {("sub/pkg/bad.py", "%SRCROOT%"), (elsewhere, None)}
