"""Coverage per repository from a put-migrate JSON report (``--check --report r.json --format json CORPUS``).

    .venv/bin/python benchmarks/coverage_report.py REPORT.json [--root PREFIX] [--compare OLD.json]
                                                   [--rule PM205] [--where]

The repository of a finding is the first path component under ``--root`` (default: the longest folder prefix
common to every file of the report, i.e. the corpus folder given to the CLI). Prints, as Markdown (the tables of
docs/real-codebases.md):

- per repository: calls (rewritten + left), rewritten, left, rewrite %, left by rule, file errors (PM3xx);
- left by rule per repository (a rule x repository matrix);
- the overall rewrite % and the issue-14 targets (>= 97% overall, NeMo >= 95%, no repository below 85%);
- ``--compare OLD.json``: the same figures of an older report beside each repository (``818 (+12)``);
- ``--rule CODE --where``: the ``path:line`` of every call left with that rule (``--where`` alone: every left call).

Only counts the calls the codemod reported: calls it never saw are measured by ``benchmarks/real_repos.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath

OVERALL_TARGET = 97.0
PER_REPO_TARGETS = {"NeMo": 95.0}
FLOOR = 85.0


@dataclass
class RepoCoverage:
    name: str
    rewritten: int = 0
    left: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    left_where: list = field(default_factory=list)  # (code, "path:line")

    @property
    def left_total(self) -> int:
        return sum(self.left.values())

    @property
    def calls(self) -> int:
        return self.rewritten + self.left_total

    @property
    def percent(self) -> float:
        return 100.0 * self.rewritten / self.calls if self.calls else 100.0


def common_root(paths: list[str]) -> str:
    """The longest folder prefix shared by every path (the folder the CLI was given)."""
    folders = [PurePosixPath(p).parent.as_posix() for p in paths]
    if not folders:
        return ""
    root = os.path.commonpath(folders) if len(folders) > 1 else folders[0]
    return "" if root == "." else root


def repository_of(path: str, root: str) -> tuple[str, str]:
    """(repository, path inside it) of a report path under root."""
    rel = PurePosixPath(path).as_posix()
    if root and rel.startswith(root.rstrip("/") + "/"):
        rel = rel[len(root.rstrip("/")) + 1:]
    repo, _, inner = rel.partition("/")
    return (repo, inner) if inner else ("(root)", rel)


def coverage(report: dict, root: str | None = None) -> tuple[dict[str, RepoCoverage], str]:
    """Per-repository figures of a JSON report, and the root used."""
    paths = [f["file"] for f in report.get("findings", [])] + [f["file"] for f in report.get("files", [])]
    if root is None:
        root = common_root(paths)
    repos: dict[str, RepoCoverage] = {}
    for finding in report.get("findings", []):
        repo, inner = repository_of(finding["file"], root)
        stats = repos.setdefault(repo, RepoCoverage(repo))
        severity = finding["severity"]
        if finding["code"].startswith("PM4"):  # a monitor string, not a log call: not part of the rewrite rate
            continue
        if severity == "rewritten":
            stats.rewritten += 1
        elif severity == "manual":
            stats.left[finding["code"]] += 1
            stats.left_where.append((finding["code"], f"{repo}/{inner}:{finding['line']}"))
        elif severity == "error":
            stats.errors[finding["code"]] += 1
    for entry in report.get("files", []):  # repositories whose every call was left still get a row
        repos.setdefault(repository_of(entry["file"], root)[0], RepoCoverage(repository_of(entry["file"], root)[0]))
    return dict(sorted(repos.items(), key=lambda kv: kv[0].lower())), root


def _total(repos: dict[str, RepoCoverage]) -> RepoCoverage:
    total = RepoCoverage("**total**")
    for stats in repos.values():
        total.rewritten += stats.rewritten
        total.left.update(stats.left)
        total.errors.update(stats.errors)
    return total


def _counts(counter: Counter) -> str:
    return ", ".join(f"{c} {n}" for c, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))) or "-"


def _delta(new: float, old: float | None, fmt: str = "{}") -> str:
    if old is None:
        return fmt.format(new)
    diff = new - old
    if not diff:
        return fmt.format(new)
    return f"{fmt.format(new)} ({'+' if diff > 0 else ''}{fmt.format(diff)})"


def repo_table(repos: dict[str, RepoCoverage], old: dict[str, RepoCoverage] | None = None) -> str:
    head = ["repo", "calls", "rewritten", "left", "rewrite %", "left by rule", "file errors"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows = list(repos.values()) + [_total(repos)]
    old_rows = None if old is None else {**old, "**total**": _total(old)}
    for s in rows:
        o = None if old_rows is None else old_rows.get(s.name, RepoCoverage(s.name))
        cells = [
            s.name,
            _delta(s.calls, o and o.calls),
            _delta(s.rewritten, o and o.rewritten),
            _delta(s.left_total, o and o.left_total),
            _delta(round(s.percent, 1), o and round(o.percent, 1), "{:.1f}"),
            _counts(s.left),
            _counts(s.errors),
        ]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def rule_matrix(repos: dict[str, RepoCoverage]) -> str:
    total = _total(repos)
    codes = [c for c, _ in sorted(total.left.items(), key=lambda kv: (-kv[1], kv[0]))]
    shown = [s for s in repos.values() if s.left_total]
    head = ["rule", *[s.name for s in shown], "total"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for code in codes:
        cells = [code, *[str(s.left[code] or "") for s in shown], str(total.left[code])]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("| " + " | ".join(["**total**", *[str(s.left_total) for s in shown], str(total.left_total)]) + " |")
    return "\n".join(lines)


def target_lines(repos: dict[str, RepoCoverage]) -> list[str]:
    total = _total(repos)
    out = [f"overall: rewritten {total.rewritten} of {total.calls} calls ({total.percent:.1f}%), "
           f"left {total.left_total}; target >= {OVERALL_TARGET:.0f}%: {'met' if total.percent >= OVERALL_TARGET else 'NOT met'}"]
    for name, target in PER_REPO_TARGETS.items():
        if name in repos:
            p = repos[name].percent
            out.append(f"{name}: {p:.1f}%; target >= {target:.0f}%: {'met' if p >= target else 'NOT met'}")
    below = [f"{s.name} {s.percent:.1f}%" for s in repos.values() if s.calls and s.percent < FLOOR]
    out.append(f"repositories below {FLOOR:.0f}%: {', '.join(below) if below else 'none'}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", help="JSON report written by put-migrate --report FILE --format json")
    parser.add_argument("--root", help="path prefix of the corpus folder in the report (default: common prefix)")
    parser.add_argument("--compare", metavar="OLD", help="an older JSON report of the same corpus")
    parser.add_argument("--rule", action="append", default=[], help="with --where: only this code (repeatable)")
    parser.add_argument("--where", action="store_true", help="list path:line of the left calls")
    args = parser.parse_args(argv)
    try:
        with open(args.report, encoding="utf-8") as handle:
            report = json.load(handle)
        old_report = None
        if args.compare:
            with open(args.compare, encoding="utf-8") as handle:
                old_report = json.load(handle)
    except (OSError, json.JSONDecodeError) as exc:
        parser.error(f"cannot read report: {exc}")
    repos, root = coverage(report, args.root)
    old = coverage(old_report, args.root)[0] if old_report is not None else None
    print(f"corpus root in the report: {root or '(none)'}\n")
    print(repo_table(repos, old))
    print()
    print(rule_matrix(repos))
    print()
    for line in target_lines(repos):
        print(line)
    if args.where:
        print()
        for stats in repos.values():
            for code, where in stats.left_where:
                if not args.rule or code in args.rule:
                    print(f"{code} {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
