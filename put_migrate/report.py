"""Every output format in one place: the stderr summary and the --report files (json, github, sarif).

Columns are 1-based in every format (``Finding.column`` is 0-based, as libcst's positions).
Severities map to levels as follows:

=========================  ===========  ==============  ======
finding                    json         github command  sarif
=========================  ===========  ==============  ======
call rewritten             "rewritten"  ``notice``      note
call left for a human      "manual"     ``warning``     warning
``# put-migrate: skip``    "skipped"    ``notice``      note
file not processed (PM3x)  "error"      ``error``       error
=========================  ===========  ==============  ======
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from put_migrate import __version__, rules
from put_migrate.api import INFORMATIONAL_CODES, FileResult, FileStatus, Mode
from put_migrate.project_config import repository_root
from put_migrate.rules import Finding, PutName, Severity

if TYPE_CHECKING:
    from put_migrate.monitors import Check

FORMATS = ("json", "github", "sarif")
JSON_REPORT_VERSION = 1
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "put-migrate"
SRCROOT = "%SRCROOT%"  # the uriBaseId of paths under the repository root
ALWAYS_AVAILABLE = frozenset({"epoch", "step"})  # as monitors.ALWAYS_AVAILABLE (not imported: monitors is optional)


@dataclass
class Summary:
    scanned: int = 0
    parsed: int = 0
    changed: int = 0
    written: int = 0
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason), opted out
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, reason), not processed
    rewritten: int = 0
    left: Counter[str] = field(default_factory=Counter)  # code -> calls left for a human
    informational: Counter[str] = field(default_factory=Counter)  # code -> calls skipped by comment


def summarize(results: Sequence[FileResult]) -> Summary:
    summary = Summary(scanned=len(results))
    for result in results:
        summary.parsed += result.parsed
        summary.written += result.written
        if result.status is FileStatus.CHANGED:
            summary.changed += 1
        elif result.status is FileStatus.UNCHANGED:
            summary.unchanged += 1
        elif result.status is FileStatus.SKIPPED:
            summary.skipped.append((result.path, result.reason))
        else:
            summary.errors.append((result.path, result.reason))
        for finding in result.findings:
            if finding.severity is Severity.REWRITTEN:
                summary.rewritten += 1
            elif finding.code in INFORMATIONAL_CODES:
                summary.informational[finding.code] += 1
            elif finding.severity is Severity.MANUAL:
                summary.left[finding.code] += 1
    return summary


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def format_summary(summary: Summary, mode: Mode) -> str:
    """The closing lines on stderr."""
    verb = "changed" if mode is Mode.WRITE else "would change"
    lines = [
        f"put-migrate: {_plural(summary.scanned, 'file')} scanned ({summary.parsed} parsed): "
        f"{summary.changed} {verb}, {summary.unchanged} unchanged, "
        f"{len(summary.skipped) + len(summary.errors)} skipped"
    ]
    for path, reason in summary.skipped + summary.errors:
        lines.append(f"  skipped {path}: {reason}")
    rewritten = "rewritten" if mode is Mode.WRITE else "to rewrite"
    left_total = sum(summary.left.values())
    line = f"calls {rewritten}: {summary.rewritten}; calls left for manual review: {left_total}"
    if summary.left:
        line += " (" + ", ".join(f"{code}: {n}" for code, n in sorted(summary.left.items())) + ")"
    if summary.informational:
        line += "; skipped by comment: " + ", ".join(
            f"{code}: {n}" for code, n in sorted(summary.informational.items())
        )
    lines.append(line)
    return "\n".join(lines)


# --- report files -------------------------------------------------------------------------------------------------


def _findings(results: Sequence[FileResult], monitors: Check | None = None) -> list[Finding]:
    extra = monitors.findings if monitors is not None else []
    return sorted([f for result in results for f in result.findings] + extra)


def render_report(results: Sequence[FileResult], fmt: str, monitors: Check | None = None) -> str:
    """The report in ``fmt``; ``monitors`` (``monitors.check``) adds the monitors section and its PM401 findings."""
    if fmt == "json":
        return render_json(results, monitors)
    if fmt == "github":
        return render_github(results, monitors)
    if fmt == "sarif":
        return render_sarif(results, monitors=monitors)
    raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _name_record(named: PutName) -> dict[str, object]:
    return {
        "logged": named.logged,
        "name": named.name,
        "destinations": list(named.destinations),
        "hook": named.hook,
        "aggregator": named.aggregator or None,
        "attribute": named.attribute or None,
        "per_dataloader": named.per_dataloader,
    }


def _finding_record(finding: Finding) -> dict[str, object]:
    record: dict[str, object] = {
        "file": finding.path,
        "line": finding.line,
        "column": finding.column + 1,
        "code": finding.code,
        "message": finding.message,
        "severity": finding.severity.value,
    }
    if finding.severity is Severity.REWRITTEN:
        record["names"] = [_name_record(named) for named in finding.names]
    return record


def _monitors_record(check: Check) -> dict[str, object]:
    return {
        "yaml_reader": check.yaml_reader,
        "runtime_names": check.runtime_names,
        "monitors": [
            {
                "name": monitor.name,
                "file": monitor.file,
                "line": monitor.line,
                "source": monitor.source,
                "context": monitor.context,
                "put": bool(puts) or monitor.name in ALWAYS_AVAILABLE,
                "where": [
                    {"file": p.file, "line": p.line, "name": p.name, "how": p.how, "hook": p.hook} for p in puts
                ],
            }
            for monitor, puts in check.monitors
        ],
    }


def render_json(results: Sequence[FileResult], monitors: Check | None = None) -> str:
    """One object: tool, summary counts, one record per finding (a rewritten call's with the names it puts), the
    files that were not left as they were, and (``monitors``) every monitored name with the puts of that name."""
    summary = summarize(results)
    document = {
        "version": JSON_REPORT_VERSION,
        "tool": {"name": TOOL_NAME, "version": __version__},
        "summary": {
            "files_scanned": summary.scanned,
            "files_changed": summary.changed,
            "files_unchanged": summary.unchanged,
            "files_skipped": len(summary.skipped) + len(summary.errors),
            "calls_rewritten": summary.rewritten,
            "calls_left": dict(sorted(summary.left.items())),
            "calls_skipped_by_comment": dict(sorted(summary.informational.items())),
        },
        "findings": [_finding_record(f) for f in _findings(results, monitors)],
        "files": [
            {"file": r.path, "status": r.status.value, "reason": r.reason}
            for r in results
            if r.status is not FileStatus.UNCHANGED
        ],
    }
    if monitors is not None:
        document["summary"]["monitors_not_put"] = len(monitors.findings)  # type: ignore[index]
        document["monitors"] = _monitors_record(monitors)
    return json.dumps(document, indent=2) + "\n"


def _github_escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_escape_property(value: str) -> str:
    return _github_escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _github_command(finding: Finding) -> str:
    if finding.severity is Severity.ERROR:
        return "error"
    if finding.severity is Severity.MANUAL and finding.code not in INFORMATIONAL_CODES:
        return "warning"
    return "notice"


def render_github(results: Sequence[FileResult], monitors: Check | None = None) -> str:
    """GitHub Actions workflow commands: one annotation per finding."""
    lines = []
    for f in _findings(results, monitors):
        props = ",".join(
            f"{key}={_github_escape_property(str(value))}"
            for key, value in (("file", f.path), ("line", f.line), ("col", f.column + 1), ("title", f.code))
        )
        lines.append(f"::{_github_command(f)} {props}::{_github_escape_data(f.message)}")
    return "".join(line + "\n" for line in lines)


def _sarif_level(finding: Finding) -> str:
    return {"error": "error", "warning": "warning", "notice": "note"}[_github_command(finding)]


def _sarif_uri(path: str, root: Path, cwd: Path) -> tuple[str, str | None]:
    """(uri, uriBaseId): a path under the repository root is relative to it (%SRCROOT%), any other a file: URI."""
    absolute = Path(os.path.normpath(cwd / path))
    try:
        relative = absolute.relative_to(root)
    except ValueError:
        return absolute.as_uri(), None
    return urllib.parse.quote(relative.as_posix()), SRCROOT


def _sarif_rule(code: str, first_message: str) -> dict[str, object]:
    """A reportingDescriptor: from the catalogue in rules.py when the code is there, else from its first message."""
    rule = getattr(rules, "RULES", {}).get(code)
    if rule is None:
        return {"id": code, "shortDescription": {"text": first_message}}
    return {
        "id": code,
        "shortDescription": {"text": rule.title},
        "help": {"text": rule.advice},
        "defaultConfiguration": {"level": "note" if rule.severity is Severity.REWRITTEN else "warning"},
    }


def render_sarif(results: Sequence[FileResult], cwd: Path | None = None, monitors: Check | None = None) -> str:
    """A SARIF 2.1.0 log with one run and one result per finding. Paths (relative to ``cwd``, default the current
    folder) are given relative to the repository root, which ``originalUriBaseIds`` names (%SRCROOT%), so that
    they are right wherever in the repository the tool ran."""
    cwd = (Path.cwd() if cwd is None else cwd).resolve()  # as git gives the top level
    root = repository_root(cwd)
    findings = _findings(results, monitors)
    rule_ids: list[str] = []
    descriptions: dict[str, str] = {}
    for f in findings:
        if f.code not in descriptions:
            rule_ids.append(f.code)
            descriptions[f.code] = f.message
    rule_ids.sort()
    rule_index = {code: i for i, code in enumerate(rule_ids)}
    sarif_results = []
    for f in findings:
        uri, base = _sarif_uri(f.path, root, cwd)
        artifact: dict[str, object] = {"uri": uri}
        if base:
            artifact["uriBaseId"] = base
        sarif_results.append(
            {
                "ruleId": f.code,
                "ruleIndex": rule_index[f.code],
                "level": _sarif_level(f),
                "message": {"text": f.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": artifact,
                            "region": {"startLine": max(f.line, 1), "startColumn": f.column + 1},
                        }
                    }
                ],
                "properties": {"severity": f.severity.value},
            }
        )
    log = {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": __version__,
                        "rules": [_sarif_rule(code, descriptions[code]) for code in rule_ids],
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri().rstrip("/") + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": sarif_results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


# --- the --names table ------------------------------------------------------------------------------------------


def _destinations(destinations: Sequence[str]) -> str:
    return ", ".join(destinations)


def format_names(results: Sequence[FileResult], monitors: Check | None = None) -> str:
    """A readable table: per rewritten call, the names it puts, where to, what computes them and in which hook;
    then every monitored name and the puts of it (or PM401)."""
    lines = ["Names put by the rewritten calls:"]
    rows: list[tuple[str, ...]] = []
    for finding in _findings(results):
        if finding.severity is not Severity.REWRITTEN or not finding.names:
            continue
        lines_of_call = [(f"{finding.path}:{finding.line}", "", "", "", "")]
        for logged in dict.fromkeys(named.logged for named in finding.names):
            for named in (n for n in finding.names if n.logged == logged):
                suffix = "/dataloader_idx_N" if named.per_dataloader else ""
                computed = f"{named.aggregator} {named.attribute}".strip() or "value as logged"
                lines_of_call.append(
                    (f"  {logged}", f"-> {named.name}{suffix}", _destinations(named.destinations), computed, named.hook)
                )
        rows += lines_of_call
    if not rows:
        lines.append("  (none)")
    lines += _table(rows)
    if monitors is not None:
        lines.append("")
        lines.append(f"Monitors (YAML read by: {monitors.yaml_reader}):")
        monitor_rows: list[tuple[str, ...]] = []
        for monitor, puts in monitors.monitors:
            where = f"{monitor.file}:{monitor.line}"
            label = monitor.name + (f" ({monitor.context})" if monitor.context else "")
            if puts:
                first, *rest = puts
                monitor_rows.append((where, label, f"put by {first.file}:{first.line} {first.hook} ({first.how})"))
                monitor_rows += [("", "", f"put by {p.file}:{p.line} {p.hook} ({p.how})") for p in rest]
            elif monitor.name in ALWAYS_AVAILABLE:
                monitor_rows.append((where, label, "given by Lightning"))
            else:
                monitor_rows.append((where, label, f"NOT PUT by any code ({rules.MONITOR_NOT_PUT.code})"))
        if not monitor_rows:
            lines.append("  (none)")
        lines += _table(monitor_rows)
    return "\n".join(lines) + "\n"


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(max(len(r) for r in rows))]
    return ["  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
