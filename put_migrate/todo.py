"""``--add-todo``: a ``# TODO(put-migrate): PM2xx <advice>`` comment above each call left for a human.

Markers are removed before the transform runs and put back (or, with ``add_todo``, written afresh) above the
statements whose calls are still left, so that a call a later run migrates loses its marker, a run without
``--add-todo`` keeps the markers it finds, and a run repeated changes nothing. Comments change no call, so the
transform leaves the same calls on the marked text; it runs twice only where markers are written or removed in a
file that also changes.
"""

from __future__ import annotations

import ast
import io
import textwrap
import tokenize
from collections.abc import Callable, Sequence

from put_migrate.rules import RULES, Finding, Severity

MARKER = "# TODO(put-migrate):"
CONTINUATION = "#     "  # the advice's further lines, directly below the marker, at its indentation
DEFAULT_LINE_LENGTH = 88

Migrate = Callable[[str], "tuple[str, list[Finding]]"]


def wants_marker(finding: Finding) -> bool:
    """A call left for a human (PM2xx); never a skip comment (PM001) or a file error (PM3xx)."""
    return finding.severity is Severity.MANUAL and finding.code.startswith("PM2")


def marker_lines(code: str, indent: str, line_length: int = DEFAULT_LINE_LENGTH) -> list[str]:
    """The marker of rule ``code``: its advice, wrapped at ``line_length`` (at least 40 columns of text)."""
    rule = RULES[code]
    first = f"{indent}{MARKER} {code} "
    width = max(line_length, len(first) + 40)
    wrapped = textwrap.wrap(
        rule.advice, width=width, initial_indent=first, subsequent_indent=indent + CONTINUATION,
        break_long_words=False, break_on_hyphens=False,
    )
    return wrapped or [first.rstrip()]


def strip_markers(text: str) -> tuple[str, dict[int, list[str]]]:
    """The text without marker comments, and the markers found: by the line (of the returned text) they stood
    above, each as its lines, line endings included."""
    comments = _comment_lines(text)
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    attached: dict[int, list[str]] = {}
    pending: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        body = line.lstrip(" \t")
        if body.startswith(MARKER) and index + 1 in comments:
            indent = line[: len(line) - len(body)]
            pending.append(line)
            index += 1
            while index < len(lines) and lines[index].startswith(indent + CONTINUATION) and index + 1 in comments:
                pending.append(lines[index])
                index += 1
            continue
        if pending:
            attached[len(kept) + 1] = pending
            pending = []
        kept.append(line)
        index += 1
    return "".join(kept), attached  # markers at the very end of the file stand above nothing: dropped


def _comment_lines(text: str) -> set[int]:
    """Lines that hold a comment token (never a line of a string that looks like one); none if untokenizable."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)
        return {token.start[0] for token in tokens if token.type == tokenize.COMMENT}
    except (tokenize.TokenError, SyntaxError):
        return set()


def statement_lines(text: str, lines: Sequence[int]) -> dict[int, int]:
    """For each line, the first line of the innermost statement that holds it (a marker must stand above a whole
    statement: a line inside a bracket or after a backslash may not take a comment line above it)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}
    wanted = set(lines)
    found: dict[int, int] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt) or node.end_lineno is None:
            continue
        for line in wanted:
            if node.lineno <= line <= node.end_lineno and node.lineno >= found.get(line, 0):
                found[line] = node.lineno
    return found


def _ending(line: str) -> str:
    for ending in ("\r\n", "\n", "\r"):
        if line.endswith(ending):
            return ending
    return "\n"


def _insert(text: str, inserts: dict[int, list[str]]) -> str:
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    for number, line in enumerate(lines, start=1):
        out.extend(inserts.get(number, ()))
        out.append(line)
    return "".join(out)


def _shifted(findings: list[Finding], inserts: dict[int, list[str]]) -> list[Finding]:
    from dataclasses import replace

    starts = sorted(inserts)
    shifted = []
    for finding in findings:
        added = sum(len(inserts[line]) for line in starts if line <= finding.line)
        shifted.append(replace(finding, line=finding.line + added) if added else finding)
    return shifted


def migrate_with_markers(text: str, migrate: Migrate, add_todo: bool, line_length: int = DEFAULT_LINE_LENGTH
                         ) -> tuple[str, list[Finding]]:
    """``migrate(text)`` with the markers kept in step with the calls left (see the module's docstring)."""
    if not add_todo and MARKER not in text:
        return migrate(text)
    stripped, attached = strip_markers(text)
    new, findings = migrate(stripped)
    left = [f for f in findings if wants_marker(f)]
    starts = statement_lines(stripped, [f.line for f in left])
    source_lines = stripped.splitlines(keepends=True)
    inserts: dict[int, list[str]] = {}
    for finding in left:
        start = starts.get(finding.line)
        if start is None:
            continue
        if not add_todo:
            if start in attached:
                inserts[start] = attached[start]
            continue
        line = source_lines[start - 1]
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        block = [body + _ending(line) for body in marker_lines(finding.code, indent, line_length)]
        existing = inserts.setdefault(start, [])
        if not _contains(existing, block):
            existing.extend(block)
    if not inserts and not attached:
        return new, findings
    marked = _insert(stripped, inserts)
    if new != stripped:
        new, _ = migrate(marked)
    else:  # nothing rewritten: the marked text is the result
        new = marked
    # Findings give lines of the text as it was given, as they do without markers.
    return new, sorted(_shifted(findings, attached))


def _contains(lines: list[str], block: list[str]) -> bool:
    return any(lines[i : i + len(block)] == block for i in range(len(lines) - len(block) + 1))
