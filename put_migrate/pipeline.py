"""One file through the codemod: text (``migrate_text``), bytes of a module or a notebook, a file on disk."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from put_migrate import markers, monitors, safety, todo
from put_migrate.discover import display_path, has_skip_file_marker
from put_migrate.prefilter import Stage, Subject, settled
from put_migrate.results import DIRTY_FILE, UNREADABLE, FileResult, FileStatus, Mode, error, failure
from put_migrate.rules import Finding

SKIP_FILE_REASON = "`# put-migrate: skip-file` comment"

# What the runner already knows of a file: its text (decoded as the index reads it) and the reason the TEXT gates
# settle it (None: they do not). Used only where it is the very text being migrated.
Prefiltered = tuple[str, "str | None"]


class TransformDeferred(BaseException):
    """Raised where the transform would run, in a process that defers it (``defer_transforms``). Not an Exception:
    no handler on the way may turn it into the file's result."""


_deferring = False


def defer_transforms(defer: bool = True) -> None:
    """In this process, from now on, a file that needs the transform raises TransformDeferred (or, with False, is
    transformed): a pool worker that has not imported libcst hands such files to one that has (``workers``)."""
    global _deferring
    _deferring = defer


def transform_loaded() -> bool:
    return "put_migrate.transform" in sys.modules


def load_transform() -> None:
    """Import the transform ahead of need (where it cannot be imported, each file that needs it says so)."""
    try:
        import put_migrate.transform  # noqa: F401
    except Exception:  # noqa: BLE001 - reported per file
        pass


def transform_text(text: str, path: str, index):
    """The transform (imported late: the screens settle most files without loading libcst)."""
    if _deferring:
        raise TransformDeferred
    from put_migrate.transform import migrate_source

    return migrate_source(text, path, index=index)


def migrate_text(
    text: str, path: str = "<string>", index=None, add_todo: bool = False
) -> tuple[str, list[Finding]]:
    """The transform, honouring `# put-migrate: skip` lines. Returns the new text and the findings, sorted.

    ``index``: the run's ``RepositoryIndex`` (None: the file is indexed alone). ``add_todo``: write a
    ``# TODO(put-migrate)`` marker above each call left (``todo``); markers of calls now migrated are removed either
    way. Raises libcst.ParserSyntaxError (or SyntaxError, from CPython) for unparsable text, and safety.UnsafeFile
    when the skip comments cannot be honoured safely or the text could crash libcst's parser.
    """
    if not add_todo and todo.MARKER not in text:
        return _migrate_text(text, path, index)
    from put_migrate.project_config import import_style

    return todo.migrate_with_markers(
        text, lambda source: _migrate_text(source, path, index), add_todo, import_style(path).line_length
    )


def _migrate_text(text: str, path: str, index) -> tuple[str, list[Finding]]:
    masked, masks = markers.mask(text)
    if settled(Stage.SOURCE, Subject(text=masked, path=path, index=index)) is None:
        safety.check_parser_limits(masked, path)  # before libcst parses it (the screen's parser is CPython's)
        result = transform_text(masked, path, index)
        new_text, findings = result.source, list(result.findings)
    else:  # no libcst parse: nothing in the file is for the transform
        new_text, findings = masked, []
    if masks:
        new_text, skipped = markers.unmask(new_text, masks, path)
        findings.extend(skipped)
    return new_text, sorted(findings)


def unified_diff(old: bytes, new: bytes, path: str) -> bytes:
    """A unified diff `git apply` accepts (a/ and b/ prefixes), in the bytes of the file's own encoding."""
    name = os.fsencode(path)
    import difflib  # here: only a diff needs it

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


@dataclass(frozen=True)
class _Code:
    """The code of a file as the transform sees it, and the way back to the file's bytes."""

    text: str
    head: str  # where a `skip-file` marker counts
    encode: Callable[[str], bytes]
    locate: Callable[[int], tuple[str, int]] | None = None  # a line of ``text`` -> (message prefix, file line)


class _Unreadable(Exception):
    def __init__(self, message: str, line: int = 1, column: int = 0) -> None:
        super().__init__(message)
        self.line, self.column = line, column


def _module_code(data: bytes) -> _Code:
    try:
        source = safety.decode_source(data)
    except safety.UnsafeFile as exc:
        raise _Unreadable(str(exc), exc.line, exc.column) from None
    return _Code(source.text, source.text, source.encode)


def _notebook_code(data: bytes) -> _Code:
    """A Jupyter notebook: its code cells (without IPython syntax) as one module (``notebook.py``)."""
    from put_migrate import notebook as nb

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Unreadable(f"a notebook must be UTF-8: {exc.reason}", *safety.byte_position(data, exc.start)) from None
    try:
        book = nb.split_notebook(text)
        head = nb.cell_source(book.document["cells"][book.cells[0]]) if book.cells else ""
    except nb.NotebookError as exc:
        raise _Unreadable(str(exc)) from None

    def encode(new_code: str) -> bytes:
        try:
            return nb.join_notebook(book, new_code).encode("utf-8")
        except nb.NotebookError as exc:
            raise safety.UnsafeFile(str(exc)) from None

    def in_cell(line: int) -> tuple[str, int]:
        cell, cell_line = book.cell_and_line(line)
        return f"[cell {cell}] ", cell_line

    return _Code(book.text, head, encode, in_cell)


def migrate_bytes(
    data: bytes, path: str = "<string>", *, mode: Mode = Mode.WRITE, index=None,
    prefiltered: Prefiltered | None = None, add_todo: bool = False,
) -> tuple[FileResult, bytes]:
    """Migrate a file's content (a notebook when ``path`` ends with ``.ipynb``). Returns the result and the new
    bytes (== data when nothing changes). Never raises for a problem with the file itself. ``add_todo``: see
    ``migrate_text`` (not for notebooks, whose cells take no markers)."""
    notebook = str(path).endswith(".ipynb")
    if not notebook and settled(Stage.BYTES, Subject(data=data)) is not None:
        return FileResult(path=path, status=FileStatus.UNCHANGED), data
    try:
        code = _notebook_code(data) if notebook else _module_code(data)
    except _Unreadable as exc:
        return error(path, UNREADABLE, str(exc), exc.line, exc.column), data
    if has_skip_file_marker(code.head):
        return FileResult(path=path, status=FileStatus.SKIPPED, reason=SKIP_FILE_REASON), data
    if prefiltered is not None and prefiltered[0] == code.text:
        reason = prefiltered[1]
    else:
        reason = settled(Stage.TEXT, Subject(text=code.text))
    if reason is not None:
        return FileResult(path=path, status=FileStatus.UNCHANGED), data
    try:
        with safety.recursion_limit():
            new_text, findings = migrate_text(code.text, path, index, add_todo and not notebook)
            new_data = data
            if new_text != code.text:
                safety.check_parses(new_text)
                new_data = code.encode(new_text)
    except Exception as exc:  # noqa: BLE001 - one file's failure must not end the run
        return failure(path, exc, code.locate, code.text), data
    if code.locate is not None:
        findings = sorted(_in_cell(f, code.locate) for f in findings)
    changed = new_data != data
    result = FileResult(
        path=path,
        status=FileStatus.CHANGED if changed else FileStatus.UNCHANGED,
        findings=tuple(findings),
        parsed=True,
        diff=unified_diff(data, new_data, path) if changed and mode is Mode.DIFF else b"",
    )
    return result, new_data


def _in_cell(finding: Finding, locate: Callable[[int], tuple[str, int]]) -> Finding:
    prefix, line = locate(finding.line)
    return replace(finding, line=line, message=f"{prefix}{finding.message}")


def migrate_file(
    path: str | Path, *, mode: Mode = Mode.WRITE, may_write: bool = True, display: str | None = None, index=None,
    data: bytes | None = None, prefiltered: Prefiltered | None = None, add_todo: bool = False,
    mark_monitors: bool = False,
) -> FileResult:
    """Migrate one file on disk; in Mode.WRITE (and when may_write) rewrite it atomically. ``data``: the file's
    bytes, already read (never in Mode.WRITE: files change as a run goes). ``mark_monitors``: the result says
    whether the file names a monitor or may put a name (``monitors.marks``), so that the monitors section reads
    only those files again."""
    shown = display if display is not None else display_path(Path(path))
    if data is None:
        try:
            with open(path, "rb") as stream:  # no ``Path`` per file: most files of a large tree are read and let go
                data = stream.read()
        except OSError as exc:
            return error(shown, UNREADABLE, f"cannot read: {exc.strerror or exc}")
    result, new_data = migrate_bytes(
        data, shown, mode=mode, index=index, prefiltered=prefiltered, add_todo=add_todo
    )
    if mode is not Mode.WRITE or not result.changed:
        return _marked(result, data) if mark_monitors else result
    if not may_write:
        return error(shown, DIRTY_FILE, "has uncommitted changes; commit them or pass --allow-dirty")
    try:
        safety.atomic_write(Path(path), new_data)
    except OSError as exc:
        return error(shown, UNREADABLE, f"cannot write: {exc.strerror or exc}")
    result = replace(result, written=True)
    return _marked(result, new_data) if mark_monitors else result


def _marked(result: FileResult, data: bytes) -> FileResult:
    """``result`` with the monitors section's marks of the file's bytes as the run leaves them (and, for a .py
    file that names a monitor, its scan)."""
    names_monitor, may_put = monitors.marks(data)
    if not (names_monitor or may_put):  # most files: the defaults say so already
        return result
    scan = monitors.scan_file(data, result.path) if names_monitor and result.path.endswith(".py") else None
    return replace(result, names_monitor=names_monitor, may_put=may_put, monitor_scan=scan)
