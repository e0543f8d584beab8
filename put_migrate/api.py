"""The public API of the codemod: one layer per concern, each usable (and tested) without the next.

- ``migrate_source`` (``put_migrate.transform``): text in, text and findings out.
- ``migrate_text``: adds the ``# put-migrate: skip`` opt-out (``markers``) and the pre-filter (``prefilter``).
- ``migrate_bytes``: adds encodings, notebooks, the ``skip-file`` opt-out and the safety checks (``pipeline``).
- ``migrate_file``: adds reading, the diff, and the atomic write (``pipeline``).
- ``migrate_paths``: adds discovery, the dirty-tree guard, the repository index and a process pool (``runner``).

Results cross process boundaries as plain data (``FileResult``, ``results``), never as exceptions: an exception on
one file is turned into an error result for that file and the run goes on.

Opt-out comments: ``# put-migrate: skip-file`` on one of the first 10 lines: the file is not parsed or touched
(status ``skipped``); ``# put-migrate: skip`` on the line where a ``.log(``/``.log_dict(`` call starts: that call
is left as it is and reported as PM001.
"""

from __future__ import annotations

from put_migrate.markers import SKIP_LINE_MARKER
from put_migrate.pipeline import migrate_bytes, migrate_file, migrate_text, unified_diff
from put_migrate.results import (
    DEBUG_ENV,
    DIRTY_FILE,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PENDING,
    INFORMATIONAL_CODES,
    INTERNAL_ERROR,
    SKIPPED_BY_COMMENT,
    SYNTAX_ERROR,
    TOO_DEEP,
    UNREADABLE,
    UNSAFE_TO_WRITE,
    FileResult,
    FileStatus,
    Mode,
    debug_enabled,
    exit_code,
)
from put_migrate.runner import (
    SERIAL_BELOW,
    WORKERS_READ_FROM,
    RunOptions,
    Task,
    default_jobs,
    migrate_paths,
    plan_tasks,
    run_tasks,
)

__all__ = [
    "FileResult",
    "FileStatus",
    "Mode",
    "RunOptions",
    "Task",
    "migrate_bytes",
    "migrate_file",
    "migrate_paths",
    "migrate_text",
    "plan_tasks",
    "run_tasks",
    "unified_diff",
    "exit_code",
    "debug_enabled",
    "default_jobs",
    "INFORMATIONAL_CODES",
    "SKIP_LINE_MARKER",
    "DEBUG_ENV",
    "EXIT_OK",
    "EXIT_PENDING",
    "EXIT_ERROR",
    "SERIAL_BELOW",
    "WORKERS_READ_FROM",
    "SKIPPED_BY_COMMENT",
    "SYNTAX_ERROR",
    "UNREADABLE",
    "UNSAFE_TO_WRITE",
    "DIRTY_FILE",
    "INTERNAL_ERROR",
    "TOO_DEEP",
]
