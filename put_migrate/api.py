"""The public API: each layer adds one concern to the one below and is usable (and tested) without the next."""

# - ``migrate_source`` (``transform``): text in, text and findings out.
# - ``migrate_text`` (``pipeline``): adds the ``# put-migrate: skip`` opt-out (``markers``) and the pre-filter
#   (``prefilter``); ``migrate_bytes``: encodings, notebooks, ``# put-migrate: skip-file``, the safety checks;
#   ``migrate_file``: reading, the diff, the atomic write.
# - ``migrate_paths`` (``runner``): discovery, the dirty-tree guard, the repository index, read-ahead, a process pool.
# Results are plain data (``results.FileResult``), never exceptions: a failing file becomes an error result.

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
    EarlyPool,
    RunOptions,
    Task,
    default_jobs,
    discover,
    migrate_paths,
    plan_tasks,
    run_tasks,
)

__all__ = [
    "EarlyPool",
    "FileResult",
    "FileStatus",
    "Mode",
    "RunOptions",
    "Task",
    "discover",
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
