"""The three layers of the codemod, each usable (and tested) without the next (Fixit's shape, see STYLE.md).

- ``migrate_source`` (``put_migrate.transform``): text in, text and findings out.
- ``migrate_bytes``: a file's bytes in; adds encodings, opt-out comments, the pre-filter and the safety checks.
- ``migrate_file``: adds reading, the diff, and the atomic write.
- ``migrate_paths``: adds discovery, the dirty-tree guard and a process pool.

Results cross process boundaries as plain data (``FileResult``), never as exceptions: an exception on one file is
turned into an error result for that file and the run goes on.

Opt-out comments:

- ``# put-migrate: skip-file`` on one of the first 10 lines: the file is not parsed or touched (status ``skipped``).
- ``# put-migrate: skip`` on the line where a ``.log(``/``.log_dict(`` call starts (the line holding ``.log(``):
  that call is left as it is and reported as PM001. It is done here, around the transform, by renaming the
  ``log`` attribute of the marked calls to a placeholder before the transform runs and back afterwards, so the
  transform never sees them and nothing is parsed twice (``tokenize`` finds the comments and names, and only in
  files that carry the marker).
"""

from __future__ import annotations

import difflib
import io
import os
import sys
import tokenize
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

from put_migrate import safety
from put_migrate.discover import _display_path, discover_files, has_skip_file_marker, may_contain_log_call
from put_migrate.discover import file_may_contain_log_call
from put_migrate.rules import Finding, Severity
from put_migrate.screen import may_need_transform, settled_by_index

# File-level codes (PM3xx) and the opt-out code; rules.py catalogues their messages and advice.
SKIPPED_BY_COMMENT = "PM001"  # a call carrying `# put-migrate: skip` (Severity.SKIPPED)
SYNTAX_ERROR = "PM301"  # the file does not parse
UNREADABLE = "PM302"  # cannot be read: I/O error, binary, undecodable
UNSAFE_TO_WRITE = "PM303"  # would not survive a rewrite byte for byte (round trip, re-parse, encoding)
DIRTY_FILE = "PM304"  # has uncommitted changes and --allow-dirty was not given
INTERNAL_ERROR = "PM305"  # the codemod raised on this file
TOO_DEEP = "PM306"  # nested too deeply for the parser

# Codes whose findings never make the run fail (they record a decision the user took).
INFORMATIONAL_CODES = frozenset({SKIPPED_BY_COMMENT})

SKIP_LINE_MARKER = "put-migrate: skip"
_PLACEHOLDER = "__put_migrate_skipped_{}__"  # `log` -> `__put_migrate_skipped_log__`
_LOG_NAMES = ("log", "log_dict")

DEBUG_ENV = "PUT_MIGRATE_DEBUG"


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

    @property
    def changed(self) -> bool:
        return self.status is FileStatus.CHANGED


def _error(path: str, code: str, reason: str, line: int = 1, column: int = 0, detail: str = "") -> FileResult:
    finding = Finding(path=path, line=line, column=column, code=code, message=reason, severity=Severity.ERROR)
    return FileResult(path=path, status=FileStatus.ERROR, findings=(finding,), reason=reason, detail=detail)


def _failure(path: str, exc: Exception, locate: Callable[[int], tuple[str, int]] | None = None) -> FileResult:
    """The result for a file whose migration raised ``exc`` (called in the ``except`` block; the run goes on).

    ``locate`` maps a line of the migrated text to a message prefix and a line of the file (notebook cells).
    """
    where = locate or (lambda line: ("", line))
    libcst = sys.modules.get("libcst")  # imported by the parse that raised, if one did
    if libcst is not None and isinstance(exc, libcst.ParserSyntaxError):
        prefix, line = where(exc.editor_line)
        return _error(path, SYNTAX_ERROR, f"{prefix}syntax error: {exc.message}", line, exc.editor_column - 1)
    if isinstance(exc, SyntaxError):  # from CPython's parser in check_parser_limits
        prefix, line = where(exc.lineno or 1)
        return _error(path, SYNTAX_ERROR, f"{prefix}syntax error: {exc.msg}", line, max((exc.offset or 1) - 1, 0))
    if isinstance(exc, safety.UnsafeFile):
        return _error(path, UNSAFE_TO_WRITE, str(exc))
    if isinstance(exc, RecursionError):
        return _error(path, TOO_DEEP, "nested too deeply to be parsed safely; not rewritten")
    message = f"internal error: {type(exc).__name__}: {exc}"
    return _error(path, INTERNAL_ERROR, message, detail=traceback.format_exc())


# --- layer 1: the transform, with the per-line opt-out around it ------------------------------------------------


# The repository index of the running ``migrate_paths`` (``put_migrate.index``): set in this process before a
# serial run, and in each worker by the pool's initializer. None: each file is indexed alone.
_INDEX = None


def _set_index(index) -> None:
    global _INDEX
    _INDEX = index


def _migrate_source(text: str, path: str):
    """The transform (imported late so that the rest of the package works while it is being written)."""
    from put_migrate.transform import migrate_source

    return migrate_source(text, path, index=_INDEX)


@dataclass(frozen=True)
class _Mask:
    offset: int  # character offset of the `log`/`log_dict` name in the text
    name: str
    line: int  # 1-based
    column: int  # 0-based, of the call's receiver (`self` in `self.log(`)


def _find_skipped_calls(text: str) -> list[_Mask]:
    """`.log(`/`.log_dict(` calls that start on a line carrying `# put-migrate: skip`."""
    if SKIP_LINE_MARKER not in text:
        return []
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))  # raises on untokenizable text
    marked = {
        tok.start[0]
        for tok in tokens
        if tok.type == tokenize.COMMENT and tok.string.lstrip("#").strip().startswith(SKIP_LINE_MARKER)
        and not tok.string.lstrip("#").strip().startswith(SKIP_LINE_MARKER + "-file")
    }
    if not marked:
        return []
    line_starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            line_starts.append(index + 1)
    masks = []
    significant = [t for t in tokens if t.type not in (tokenize.NL, tokenize.COMMENT)]
    for i, tok in enumerate(significant[1:-1], start=1):
        if (
            tok.type == tokenize.NAME
            and tok.string in _LOG_NAMES
            and tok.start[0] in marked
            and significant[i - 1].string == "."
            and significant[i + 1].string == "("
        ):
            receiver = significant[i - 2] if i >= 2 else significant[i - 1]
            column = receiver.start[1] if receiver.type == tokenize.NAME and receiver.start[0] == tok.start[0] else (
                significant[i - 1].start[1]
            )
            row, col = tok.start
            masks.append(_Mask(offset=line_starts[row - 1] + col, name=tok.string, line=row, column=column))
    return masks


def migrate_text(text: str, path: str = "<string>") -> tuple[str, list[Finding]]:
    """The transform, honouring `# put-migrate: skip` lines. Returns the new text and the findings, sorted.

    Raises libcst.ParserSyntaxError (or SyntaxError, from CPython) for unparsable text, and safety.UnsafeFile when
    the skip comments cannot be honoured safely or the text could crash libcst's parser.
    """
    try:
        masks = _find_skipped_calls(text)
    except (tokenize.TokenError, SyntaxError) as exc:
        # libcst will most likely reject the file too; if it does not, we cannot honour its skip comments.
        import libcst

        libcst.parse_module(text)
        raise safety.UnsafeFile(f"cannot find `# {SKIP_LINE_MARKER}` comments: {exc}") from None
    if masks and any(_PLACEHOLDER.format(name) in text for name in _LOG_NAMES):
        raise safety.UnsafeFile("the file already contains put-migrate's placeholder names")
    masked = text
    for mask in sorted(masks, key=lambda m: m.offset, reverse=True):
        masked = masked[: mask.offset] + _PLACEHOLDER.format(mask.name) + masked[mask.offset + len(mask.name) :]
    if may_need_transform(masked) and not (_INDEX is not None and settled_by_index(masked, path, _INDEX)):
        safety.check_parser_limits(masked, path)  # before libcst parses it (the screen's parser is CPython's)
        result = _migrate_source(masked, path)
        new_text, findings = result.source, list(result.findings)
    else:  # no libcst parse: nothing in the file is for the transform (the syntax screen, or the index, says so)
        new_text, findings = masked, []
    if masks:
        for name in _LOG_NAMES:
            expected = sum(1 for m in masks if m.name == name)
            placeholder = _PLACEHOLDER.format(name)
            if new_text.count(placeholder) != expected:
                raise safety.UnsafeFile("the transform changed a call marked `# put-migrate: skip`; not rewritten")
            new_text = new_text.replace(placeholder, name)
        findings.extend(
            Finding(
                path=path,
                line=m.line,
                column=m.column,
                code=SKIPPED_BY_COMMENT,
                message=f"`.{m.name}(...)` left as it is (`# {SKIP_LINE_MARKER}` comment)",
                severity=Severity.SKIPPED,
            )
            for m in masks
        )
    return new_text, sorted(findings)


# --- layer 2: bytes -----------------------------------------------------------------------------------------------


def unified_diff(old: bytes, new: bytes, path: str) -> bytes:
    """A unified diff `git apply` accepts (a/ and b/ prefixes), in the bytes of the file's own encoding."""
    name = os.fsencode(path)
    lines = difflib.diff_bytes(
        difflib.unified_diff, _split_lines(old), _split_lines(new), b"a/" + name, b"b/" + name, b"", b"", n=3
    )
    out = bytearray()
    for line in lines:
        out += line
        if not line.endswith(b"\n"):  # the last line of a file that does not end with a newline
            out += b"\n\\ No newline at end of file\n"
    return bytes(out)


def _split_lines(data: bytes) -> list[bytes]:
    """Lines as git sees them: split after each b"\\n" only (a CR stays part of its line)."""
    lines = data.split(b"\n")
    result = [line + b"\n" for line in lines[:-1]]
    if lines[-1]:
        result.append(lines[-1])
    return result


def migrate_bytes(data: bytes, path: str = "<string>", *, mode: Mode = Mode.WRITE) -> tuple[FileResult, bytes]:
    """Migrate a file's content. Returns the result and the new bytes (== data when nothing changes).

    Never raises for a problem with the file itself: those become an error result.
    """
    return _migrate_bytes(data, path, mode)


# What ``run_tasks`` already knows of a file: its text (decoded as the index reads it) and the pre-filter's answer
# for that text (``may_contain_log_call``). Used only where it is the very text being migrated.
_Prefiltered = tuple[str, bool]


def _migrate_bytes(
    data: bytes, path: str, mode: Mode, prefiltered: _Prefiltered | None = None
) -> tuple[FileResult, bytes]:
    if str(path).endswith(".ipynb"):
        return _migrate_notebook_bytes(data, path, mode)
    if _plainly_unchanged(data):
        return FileResult(path=path, status=FileStatus.UNCHANGED), data
    try:
        source = safety.decode_source(data)
    except safety.UnsafeFile as exc:
        return _error(path, UNREADABLE, str(exc)), data
    if has_skip_file_marker(source.text):
        return FileResult(path=path, status=FileStatus.SKIPPED, reason="`# put-migrate: skip-file` comment"), data
    if prefiltered is not None and prefiltered[0] == source.text:
        worth = prefiltered[1]
    else:
        worth = may_contain_log_call(source.text)
    if not worth:
        return FileResult(path=path, status=FileStatus.UNCHANGED), data
    try:
        with safety.recursion_limit():
            new_text, findings = migrate_text(source.text, path)
            new_data = data
            if new_text != source.text:
                safety.check_parses(new_text)
                new_data = source.encode(new_text)
    except Exception as exc:  # noqa: BLE001 - one file's failure must not end the run
        return _failure(path, exc), data
    changed = new_data != data
    result = FileResult(
        path=path,
        status=FileStatus.CHANGED if changed else FileStatus.UNCHANGED,
        findings=tuple(findings),
        parsed=True,
        diff=unified_diff(data, new_data, path) if changed and mode is Mode.DIFF else b"",
    )
    return result, new_data


def _plainly_unchanged(data: bytes) -> bool:
    """Bytes that decode without a word to say (ASCII, no NUL, no encoding declaration in the first two lines) and
    hold neither ``.log`` nor an opt-out comment: the file is unchanged, decided without decoding it (most files of
    a large tree)."""
    if b".log" in data or b"put-migrate" in data or b"\0" in data or not data.isascii():
        return False
    return b"coding" not in b"\n".join(data.split(b"\n", 2)[:2])


def _migrate_notebook_bytes(data: bytes, path: str, mode: Mode) -> tuple[FileResult, bytes]:
    """A Jupyter notebook: its code cells (without IPython syntax) migrated as one module (``notebook.py``)."""
    from put_migrate import notebook as nb

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _error(path, UNREADABLE, f"a notebook must be UTF-8: {exc.reason}"), data
    try:
        book = nb.split_notebook(text)
    except nb.NotebookError as exc:
        return _error(path, UNREADABLE, str(exc)), data
    code = book.text
    if book.cells:
        first = book.document["cells"][book.cells[0]]
        if has_skip_file_marker(nb._cell_source(first)):
            return FileResult(path=path, status=FileStatus.SKIPPED, reason="`# put-migrate: skip-file` comment"), data
    if not code or not may_contain_log_call(code):
        return FileResult(path=path, status=FileStatus.UNCHANGED), data

    def in_cells(finding: Finding) -> Finding:
        cell, line = book.cell_and_line(finding.line)
        return replace(finding, line=line, message=f"[cell {cell}] {finding.message}")

    try:
        with safety.recursion_limit():
            new_code, findings = migrate_text(code, path)
            new_data = data
            if new_code != code:
                safety.check_parses(new_code)
                new_data = nb.join_notebook(book, new_code).encode("utf-8")
    except nb.NotebookError as exc:
        return _error(path, UNSAFE_TO_WRITE, str(exc)), data
    except Exception as exc:  # noqa: BLE001 - one file's failure must not end the run

        def in_cell(line: int) -> tuple[str, int]:
            cell, cell_line = book.cell_and_line(line)
            return f"[cell {cell}] ", cell_line

        return _failure(path, exc, in_cell), data
    changed = new_data != data
    result = FileResult(
        path=path,
        status=FileStatus.CHANGED if changed else FileStatus.UNCHANGED,
        findings=tuple(sorted(in_cells(f) for f in findings)),
        parsed=True,
        diff=unified_diff(data, new_data, path) if changed and mode is Mode.DIFF else b"",
    )
    return result, new_data


# --- layer 3: one file on disk ------------------------------------------------------------------------------------


def migrate_file(
    path: str | Path, *, mode: Mode = Mode.WRITE, may_write: bool = True, display: str | None = None
) -> FileResult:
    """Migrate one file on disk; in Mode.WRITE (and when may_write) rewrite it atomically."""
    return _migrate_file(path, mode, may_write, display)


def _migrate_file(
    path: str | Path,
    mode: Mode,
    may_write: bool,
    display: str | None,
    data: bytes | None = None,
    prefiltered: _Prefiltered | None = None,
) -> FileResult:
    """``migrate_file``; ``data``: the file's bytes, already read (never in Mode.WRITE: files change as it runs)."""
    shown = display if display is not None else _display_path(Path(path))
    if data is None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            return _error(shown, UNREADABLE, f"cannot read: {exc.strerror or exc}")
    result, new_data = _migrate_bytes(data, shown, mode, prefiltered)
    if mode is not Mode.WRITE or not result.changed:
        return result
    if not may_write:
        return _error(shown, DIRTY_FILE, "has uncommitted changes; commit them or pass --allow-dirty")
    try:
        safety.atomic_write(Path(path), new_data)
    except OSError as exc:
        return _error(shown, UNREADABLE, f"cannot write: {exc.strerror or exc}")
    return replace(result, written=True)


@dataclass(frozen=True)
class _Task:
    path: str
    display: str
    mode: Mode
    may_write: bool


def _run_task(task: _Task, data: bytes | None = None, prefiltered: _Prefiltered | None = None) -> FileResult:
    """Worker entry point: never raises."""
    try:
        return _migrate_file(task.path, task.mode, task.may_write, task.display, data, prefiltered)
    except Exception as exc:  # noqa: BLE001 - migrate_file already catches; this is the last line of defence
        return _error(task.display, INTERNAL_ERROR, f"internal error: {type(exc).__name__}: {exc}",
                      detail=traceback.format_exc())


# --- layer 4: many files -----------------------------------------------------------------------------------------

SERIAL_BELOW = 8  # fewer files than this are processed in the calling process: a pool costs more than it saves


def default_jobs() -> int:
    return os.cpu_count() or 1


@dataclass
class RunOptions:
    mode: Mode = Mode.WRITE
    jobs: int | None = None  # None: one per core
    excludes: Sequence[str] = ()  # replaces discover's built-in list when given (ruff's --exclude)
    allow_dirty: bool = False
    on_file: Callable[[FileResult], None] | None = field(default=None, repr=False)
    extend_excludes: Sequence[str] = ()
    force_exclude: bool = False  # the exclusions apply to the paths named too


def plan_tasks(paths: Iterable[str | Path], options: RunOptions) -> list[_Task]:
    """Discover the files. Raises FileNotFoundError, and safety.DirtyTree (Mode.WRITE without allow_dirty) when a
    file that may be rewritten has uncommitted changes."""
    files = discover_files(
        paths, options.excludes, extend_excludes=options.extend_excludes, force_exclude=options.force_exclude
    )
    cwd = Path.cwd()
    if options.mode is Mode.WRITE and not options.allow_dirty:  # all or nothing: before any file is written
        safety.refuse_dirty(files, file_may_contain_log_call, lambda f: _display_path(f, cwd))
    return [_Task(path=str(f), display=_display_path(f, cwd), mode=options.mode, may_write=True) for f in files]


def _worth_parsing(text: str | None) -> bool:
    """The pre-filter, read ahead: a pool is started only when enough files will be parsed (a file that could not
    be read goes on, to be reported)."""
    return text is None or may_contain_log_call(text)


def _read_ahead(tasks: Sequence[_Task]) -> dict[str, tuple[bytes, str]]:
    """Each task's file, read once for the whole run: its bytes and its text as the index reads it (a file that
    cannot be read is left out; it is read again, and reported, when its turn comes)."""
    read: dict[str, tuple[bytes, str]] = {}
    for task in tasks:
        try:
            data = Path(task.path).read_bytes()
        except OSError:
            continue
        read[task.path] = (data, data.decode("utf-8", errors="replace"))
    return read


def run_tasks(tasks: Sequence[_Task], jobs: int | None = None, index=None) -> Iterator[FileResult]:
    """Process tasks, in order, serially or in a process pool; with ``index`` (else one of the tasks' files, read
    as the workers' queries need them), subclasses of project classes of other files are migrated too.

    Where nothing is written (check and diff modes) and the tree is large or the run serial, the files are read as
    their turn comes: the workers (or this process) read, pre-filter and migrate them, and the index reads its
    modules from disk. Otherwise every file is read once, up front, so that the index's texts are the run's
    starting texts whatever the workers write; the index, the pre-filter and (except in Mode.WRITE, where a file is
    read again when its turn comes) the migration share that read, and only the files the pre-filter keeps go to
    the pool; the others are settled in this process, with the pre-filter's answer.
    """
    from put_migrate.index import build_index

    jobs = default_jobs() if not jobs or jobs < 1 else jobs
    # Keyed by the paths the transform is given (the display paths), so that a file's module key in the index is
    # the one its transform computes. A notebook's classes cannot be imported.
    modules = [task for task in tasks if task.path.endswith(".py")]
    writes = any(task.mode is Mode.WRITE for task in tasks)
    if not writes and (jobs == 1 or len(tasks) >= WORKERS_READ_FROM):
        if index is None and len(tasks) > 1:
            index = build_index([task.display for task in modules], {task.display: Path(task.path) for task in modules})
        if jobs > 1:
            # Workers import the transform (libcst) when a file needs it: most files of a large tree never do.
            yield from _run_pool(tasks, tasks, jobs, index, _run_task, chunk=16, preload=False)
            return
        previous = _INDEX
        _set_index(index)
        try:
            yield from map(_run_task, tasks)
        finally:
            _set_index(previous)
        return
    read = _read_ahead(tasks)
    if index is None and len(tasks) > 1:
        texts = {task.display: read[task.path][1] for task in modules if task.path in read}
        index = build_index(texts, texts)
    prefiltered: dict[str, _Prefiltered] = {}
    candidates = []
    for task in tasks:
        text = read[task.path][1] if task.path in read else None
        worth = _worth_parsing(text)
        if text is not None:
            prefiltered[task.path] = (text, worth)
        if worth:
            candidates.append(task)

    def run_here(task: _Task) -> FileResult:
        entry = read.pop(task.path, None)  # the bytes are let go of as the files are done
        data = entry[0] if entry is not None and task.mode is not Mode.WRITE else None
        return _run_task(task, data, prefiltered.get(task.path))

    previous = _INDEX
    _set_index(index)
    try:
        if jobs == 1 or len(candidates) < SERIAL_BELOW:
            for task in tasks:
                yield run_here(task)
            return
        for task in candidates:  # the workers read these themselves
            read.pop(task.path, None)
            prefiltered.pop(task.path, None)
        yield from _run_pool(tasks, candidates, jobs, index, run_here, chunk=4, preload=True)
    finally:
        _set_index(previous)


# Files from which, where nothing is written, the workers read the files too: below, one process reads them faster
# than a pool starts.
WORKERS_READ_FROM = 64


def _run_pool(
    tasks: Sequence[_Task], candidates: Sequence[_Task], jobs: int, index, run_here: Callable[[_Task], FileResult],
    chunk: int, preload: bool,
) -> Iterator[FileResult]:
    """The candidates in a process pool, the other tasks here (``run_here``); results in order. ``chunk``: the most
    tasks a worker takes at once; ``preload``: import the transform here, once, so that forked workers inherit it
    instead of each importing it."""
    if preload:
        _preload_transform()
    done = 0
    wanted = {id(task) for task in candidates}
    # Small chunks: a candidate costs from a millisecond (screened out) to a second (a large module to rewrite).
    chunksize = max(1, min(chunk, len(candidates) // (jobs * 16)))
    try:
        with ProcessPoolExecutor(
            max_workers=min(jobs, len(candidates)), initializer=_set_index, initargs=(index,)
        ) as pool:
            results = pool.map(_run_task, candidates, chunksize=chunksize)
            for task in tasks:
                yield next(results) if id(task) in wanted else run_here(task)
                done += 1
    except BrokenProcessPool:
        # A worker died (e.g. a C stack overflow in the parser); the files not yet reported cannot be trusted.
        for task in tasks[done:]:
            yield _error(task.display, INTERNAL_ERROR, "a worker process died while this file was being processed")


def _preload_transform() -> None:
    try:
        import put_migrate.transform  # noqa: F401
    except Exception:  # noqa: BLE001 - reported per file, by the workers
        pass


def migrate_paths(paths: Iterable[str | Path], options: RunOptions | None = None) -> list[FileResult]:
    """Discover files under paths and migrate them. Raises FileNotFoundError for a missing path."""
    options = options or RunOptions()
    results = []
    for result in run_tasks(plan_tasks(paths, options), options.jobs):
        if options.on_file is not None:
            options.on_file(result)
        results.append(result)
    return results


EXIT_OK = 0  # nothing left to do
EXIT_PENDING = 1  # changes pending (check/diff), or calls left for a human
EXIT_ERROR = 2  # usage error, or a file that could not be read, parsed or written


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


__all__ = [
    "FileResult",
    "FileStatus",
    "Mode",
    "RunOptions",
    "migrate_bytes",
    "migrate_file",
    "migrate_paths",
    "migrate_text",
    "plan_tasks",
    "run_tasks",
    "unified_diff",
    "exit_code",
    "INFORMATIONAL_CODES",
]
