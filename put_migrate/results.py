"""What a run says about each file: the result record, the file-level codes and the exit status."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from put_migrate import rules, safety
from put_migrate.rules import Finding, Severity

if TYPE_CHECKING:
    from put_migrate.monitors import Scan

# File-level codes (PM3xx) and the opt-out code; rules.py catalogues their messages and advice.
SKIPPED_BY_COMMENT = rules.SKIPPED_BY_COMMENT.code  # a call carrying `# put-migrate: skip` (Severity.SKIPPED)
SYNTAX_ERROR = rules.SYNTAX_ERROR.code  # the file does not parse
UNREADABLE = rules.UNREADABLE.code  # cannot be read: I/O error, binary, undecodable
UNSAFE_TO_WRITE = rules.UNSAFE_TO_WRITE.code  # would not survive a rewrite byte for byte (round trip, re-parse, ...)
DIRTY_FILE = rules.DIRTY_FILE.code  # has uncommitted changes and --allow-dirty was not given
INTERNAL_ERROR = rules.INTERNAL_ERROR.code  # the codemod raised on this file
TOO_DEEP = rules.TOO_DEEP.code  # nested too deeply for the parser

# Codes whose findings never make the run fail (they record a decision the user took).
INFORMATIONAL_CODES = frozenset({SKIPPED_BY_COMMENT})

DEBUG_ENV = "PUT_MIGRATE_DEBUG"

EXIT_OK = 0  # nothing left to do
EXIT_PENDING = 1  # changes pending (check/diff), or calls left for a human
EXIT_ERROR = 2  # usage error, or a file that could not be read, parsed or written


class Mode(str, Enum):
    WRITE = "write"  # rewrite files in place
    CHECK = "check"  # report what would change, write nothing
    DIFF = "diff"  # like CHECK, and produce a unified diff


class FileStatus(str, Enum):
    CHANGED = "changed"  # rewritten (or, in check/diff mode, would be)
    UNCHANGED = "unchanged"  # nothing to rewrite (including files the pre-filter never parsed)
    SKIPPED = "skipped"  # opted out with `# put-migrate: skip-file`
    ERROR = "error"  # could not be processed; `reason` says why, `findings` holds one PM3xx finding


@dataclass(frozen=True)
class FileResult:
    """What happened to one file. Plain data: it crosses process boundaries."""

    path: str  # as shown to the user (relative to the current folder when below it)
    status: FileStatus
    findings: tuple[Finding, ...] = ()
    reason: str = ""  # why a file was skipped or failed
    diff: bytes = b""  # unified diff (Mode.DIFF), in the file's own encoding
    parsed: bool = False  # the file went past the pre-filter
    written: bool = False
    detail: str = ""  # a traceback, for --verbose / PUT_MIGRATE_DEBUG
    # Read for the monitors section where the run asks (``RunOptions.mark_monitors``): which files it parses.
    names_monitor: bool = False  # the text writes ``monitor=`` or ``"monitor":`` before a string literal
    may_put: bool = False  # the text calls ``put``/``put_dict``, or a ``log`` that is not a maths library's
    monitor_scan: Scan | None = None  # a .py file that names a monitor: ``monitors.scan_file`` of it, as it ends

    @property
    def changed(self) -> bool:
        return self.status is FileStatus.CHANGED


def error(path: str, code: str, reason: str, line: int = 1, column: int = 0, detail: str = "") -> FileResult:
    """An error result holding one finding of ``code``."""
    finding = Finding(path=path, line=line, column=column, code=code, message=reason, severity=Severity.ERROR)
    return FileResult(path=path, status=FileStatus.ERROR, findings=(finding,), reason=reason, detail=detail)


def failure(
    path: str, exc: Exception, locate: Callable[[int], tuple[str, int]] | None = None, text: str | None = None
) -> FileResult:
    """The result for a file whose migration raised ``exc`` (called in the ``except`` block; the run goes on).

    ``locate`` maps a line of the migrated text to a message prefix and a line of the file (notebook cells).
    ``text``: the text that was parsed. A libcst syntax error names where its parser gave up, often the line after
    the one at fault: where CPython's parser refuses the text too, its error (line, column, message) is reported.
    """
    where = locate or (lambda line: ("", line))
    libcst = sys.modules.get("libcst")  # imported by the parse that raised, if one did
    if libcst is not None and isinstance(exc, libcst.ParserSyntaxError) and text is not None:
        exc = _python_syntax_error(text) or exc
    if libcst is not None and isinstance(exc, libcst.ParserSyntaxError):
        prefix, line = where(exc.editor_line)
        return error(path, SYNTAX_ERROR, f"{prefix}syntax error: {exc.message}", line, exc.editor_column - 1)
    if isinstance(exc, SyntaxError):  # from CPython's parser in check_parser_limits
        prefix, line = where(exc.lineno or 1)
        return error(path, SYNTAX_ERROR, f"{prefix}syntax error: {exc.msg}", line, max((exc.offset or 1) - 1, 0))
    if isinstance(exc, safety.UnsafeFile):
        return error(path, UNSAFE_TO_WRITE, str(exc))
    if isinstance(exc, RecursionError):
        return error(path, TOO_DEEP, "nested too deeply to be parsed safely; not rewritten")
    message = f"internal error: {type(exc).__name__}: {exc}"
    return error(path, INTERNAL_ERROR, message, detail=traceback.format_exc())


def _python_syntax_error(text: str) -> SyntaxError | None:
    """CPython's syntax error for ``text``; None where it parses (or fails otherwise: too deep, NUL bytes)."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like: not ours to report
            compile(text, "<file>", "exec", flags=0x400, dont_inherit=True)  # ast.PyCF_ONLY_AST
    except SyntaxError as exc:
        return exc
    except (ValueError, RecursionError, MemoryError):
        return None
    return None


def exit_code(results: Sequence[FileResult], mode: Mode) -> int:
    """The process exit status for a run's results (see docs/cli.md)."""
    if any(r.status is FileStatus.ERROR for r in results):
        return EXIT_ERROR
    if mode is not Mode.WRITE and any(r.changed for r in results):
        return EXIT_PENDING
    if any(
        f.severity is Severity.MANUAL and f.code not in INFORMATIONAL_CODES for r in results for f in r.findings
    ):
        return EXIT_PENDING
    return EXIT_OK


def debug_enabled() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")
