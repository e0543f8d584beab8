"""File-level promises: how a file is read, checked and written.

Every function here is about bytes on disk, not about Lightning. The rules (pyupgrade's and black's):

- A file is read as bytes; its encoding comes from the BOM or the PEP 263 cookie (``tokenize.detect_encoding``),
  and the same encoding (BOM included) is used to write it back.
- Binary files (NUL bytes) and files that do not decode are reported and never touched.
- Line endings are never translated: text is decoded from bytes without universal newlines, and libcst keeps the
  newline of every existing line. Lines the codemod adds use the file's first line ending.
- A file whose libcst round trip (parse -> code) is not identical to its text is skipped: a rewrite of it could
  change lines we did not mean to touch (libcst does not round-trip, e.g., a lone ``\\r`` ending the file).
- The new text is parsed again before it is written, and writes are atomic (temp file in the same folder,
  permissions, owner and group kept, ``os.replace``). Read-only files, symbolic links and files with several hard
  links are never replaced.
- Inside a git work tree, a run that may rewrite a file with uncommitted changes is refused as a whole, before
  anything is written, unless the caller allows it (``refuse_dirty``): never a half-migrated tree.
"""

from __future__ import annotations

import ast
import errno
import io
import os
import stat
import subprocess
import sys
import tempfile
import tokenize
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # libcst is imported where a file is parsed with it, not by every process of a run
    import libcst

    from put_migrate.codegen import ModuleCode

# How deep libcst may recurse in a worker. Python's default (1000) is hit by deeply nested expressions; more than
# this risks overflowing the C stack, so a file deeper than that is reported (RecursionError), not processed.
RECURSION_LIMIT = 6000


class UnsafeFile(Exception):
    """The file cannot be processed safely; the message says why (it is shown to the user), ``line`` and
    ``column`` (0-based, in characters) where in the file, when one place is at fault."""

    def __init__(self, message: str, line: int = 1, column: int = 0) -> None:
        super().__init__(message)
        self.line, self.column = line, column


@dataclass(frozen=True)
class SourceText:
    """A file's text together with what is needed to write it back byte for byte."""

    text: str  # decoded, BOM removed, line endings untouched
    encoding: str  # codec name as detect_encoding reports it ("utf-8-sig" when there was a BOM)

    def encode(self, text: str) -> bytes:
        """Encode new text the way the original was encoded (the utf-8-sig codec writes the BOM back)."""
        try:
            return text.encode(self.encoding)
        except UnicodeEncodeError as exc:
            raise UnsafeFile(f"the new text cannot be encoded as {self.encoding}: {exc}") from None


def decode_source(data: bytes) -> SourceText:
    """Decode a Python file's bytes as the interpreter would, or raise UnsafeFile."""
    if b"\0" in data:
        raise UnsafeFile("binary file (contains NUL bytes)", *byte_position(data, data.index(b"\0")))
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # undecodable UTF-8, an unknown codec in the cookie, a BOM contradicting it
        raise UnsafeFile(
            f"not valid UTF-8, or no usable encoding declaration ({exc})", *_encoding_problem_position(data)
        ) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = data[exc.start:exc.end]
        raise UnsafeFile(
            f"not valid {encoding}: cannot decode {' '.join(f'0x{b:02x}' for b in bad)} ({exc.reason})",
            *byte_position(data, exc.start, encoding),
        ) from None
    except LookupError as exc:
        raise UnsafeFile(f"not valid {encoding}: {exc}") from None
    # utf-8-sig strips the BOM while decoding; any other codec must not leave one behind in the text.
    if text.startswith("\ufeff"):
        raise UnsafeFile("byte order mark with a non-UTF-8 encoding")
    return SourceText(text=text, encoding=encoding)


def byte_position(data: bytes, offset: int, encoding: str = "utf-8") -> tuple[int, int]:
    """The line (1-based) and column (0-based, in characters of ``encoding``) of byte ``offset`` of ``data``."""
    start = data.rfind(b"\n", 0, offset) + 1
    before = data[start:offset].decode(encoding, errors="replace")
    return data.count(b"\n", 0, offset) + 1, len(before)


def _encoding_problem_position(data: bytes) -> tuple[int, int]:
    """Where ``tokenize.detect_encoding`` found fault, in the first two lines: a byte that is not UTF-8, else the
    encoding declaration."""
    lines = data.split(b"\n", 2)[:2]
    try:
        b"\n".join(lines).decode("utf-8")
    except UnicodeDecodeError as exc:
        return byte_position(data, exc.start)
    for number, line in enumerate(lines, start=1):
        if line.lstrip(b" \t\f").startswith(b"#") and (b"coding:" in line or b"coding=" in line):  # PEP 263
            return number, 0
    return 1, 0


# libcst's native parser overflows its stack (a segfault, not an exception) on very deep bracket nesting (~2000)
# and on very long expressions on one line (~10,000 operands). CPython itself refuses more than 200 nested
# brackets, and no hand-written line is this long.
MAX_BRACKET_DEPTH = 200
MAX_LINE_LENGTH = 20_000


def check_parser_limits(text: str, path: str = "<string>") -> None:
    """Raise UnsafeFile (or SyntaxError, or RecursionError where CPython's parser runs out of stack) for text that
    could crash libcst's parser.

    The bracket count ignores strings and comments, so a deep count is confirmed with CPython's own parser,
    which is protected against deep input and refuses real nesting beyond 200 levels.
    """
    if max(map(len, text.split("\n")), default=0) > MAX_LINE_LENGTH:
        raise UnsafeFile(f"a line longer than {MAX_LINE_LENGTH} characters; not parsed (libcst could crash)")
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif char in ")]}":
            depth -= 1
    if deepest > MAX_BRACKET_DEPTH:
        try:
            compile(text, path, "exec", dont_inherit=True, flags=0x400)  # ast.PyCF_ONLY_AST; raises SyntaxError
        except MemoryError:  # CPython's parser ran out of its own stack (some deep invalid input); a RecursionError
            raise RecursionError("Python's parser ran out of stack on this file") from None  # is reported PM306


def check_round_trip(text: str, module: libcst.Module | None = None) -> ModuleCode:
    """Raise UnsafeFile when libcst would not give the text back unchanged (parse -> code). ``module``: the
    text's libcst parse, where the caller has it. Returns the generated code, whose pieces a rewrite of the
    module reuses (``ModuleCode.code_of``)."""
    import libcst

    from put_migrate.codegen import ModuleCode

    code = ModuleCode.of(module if module is not None else libcst.parse_module(text))
    if code.text != text:
        raise UnsafeFile("libcst does not reproduce this file exactly (unusual line endings?); not rewritten")
    return code


def check_parses(text: str) -> None:
    """The new text must be valid Python before it replaces the old one: CPython's parser is asked first (fast,
    and the judge of what runs); text it refuses (syntax newer than this interpreter) must satisfy libcst, which
    read the input."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<put-migrate>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        return
    except (SyntaxError, ValueError):
        pass
    import libcst

    try:
        libcst.parse_module(text)
    except libcst.ParserSyntaxError as exc:
        raise UnsafeFile(f"the rewritten file does not parse ({exc.message}); not written") from None


def atomic_write(path: Path, data: bytes) -> None:
    """Replace path's content with data atomically, keeping its permission bits, owner and group.

    Refuses (``OSError``, the file untouched) what a replace would betray: a read-only file (no write bit: root may
    write anything, so ``open`` would not refuse it), a symbolic link (it would become a regular file and its target
    would keep the old text), a file with several hard links (they would stop sharing its content), and a file
    whose owner or group the new file cannot be given.
    """
    path = Path(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    if info is not None:
        _check_replaceable(path, info)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".put-migrate.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if info is not None:
            _copy_owner(tmp_name, info)  # before the mode: a change of owner clears the set-user-ID bit
            os.chmod(tmp_name, stat.S_IMODE(info.st_mode))
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        raise


def _check_replaceable(path: Path, info: os.stat_result) -> None:
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        target = os.readlink(path)
        raise OSError(
            errno.EPERM,
            f"a symbolic link (to {target}), never replaced; migrate its target by naming it, or a folder holding it",
        )
    if not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EPERM, "not a regular file")
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, f"read-only (mode {mode:04o}); make it writable to migrate it")
    if info.st_nlink > 1:
        raise OSError(errno.EPERM, f"has {info.st_nlink} hard links, which a rewrite would separate; not rewritten")


def _copy_owner(tmp_name: str, info: os.stat_result) -> None:
    if not hasattr(os, "chown"):
        return
    tmp = os.stat(tmp_name)
    if (tmp.st_uid, tmp.st_gid) == (info.st_uid, info.st_gid):
        return
    try:
        os.chown(tmp_name, info.st_uid, info.st_gid)
    except OSError:
        raise PermissionError(
            errno.EPERM, f"cannot give the new file the owner and group of the old one (uid {info.st_uid}, "
            f"gid {info.st_gid}); not rewritten"
        ) from None


@contextmanager
def recursion_limit(limit: int = RECURSION_LIMIT) -> Iterator[None]:
    """Raise the interpreter's recursion limit for the duration (never lower it), then restore it."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


# --- git -------------------------------------------------------------------------------------------------------


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except (OSError, ValueError):  # git not installed, or cwd gone
        return None


def git_toplevel(path: Path) -> Path | None:
    """The root of the git work tree containing path (a file or a folder), or None outside git."""
    folder = path if path.is_dir() else path.parent
    proc = _git(["rev-parse", "--show-toplevel"], folder)
    if proc is None or proc.returncode != 0:
        return None
    out = proc.stdout.decode(errors="surrogateescape").strip()
    return Path(out).resolve() if out else None


def _resolved(path: Path) -> Path:
    """``path.resolve()``; for a link that leads nowhere (a loop, where ``resolve`` raises), the link itself."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return path.parent.resolve() / path.name


def dirty_files(paths: Iterable[Path]) -> set[Path]:
    """Resolved paths, among those given, that have uncommitted changes in their git work tree.

    Modified, staged, added, renamed and untracked files all count: for each of them the last commit does not
    hold the current content, so a rewrite could not be undone with git. Files outside any work tree never count.
    """
    by_root: dict[Path, list[Path]] = {}
    roots: dict[Path, Path | None] = {}
    for path in paths:
        resolved = _resolved(Path(path))
        if resolved.parent not in roots:
            roots[resolved.parent] = git_toplevel(resolved.parent)
        root = roots[resolved.parent]
        if root is not None:
            by_root.setdefault(root, []).append(resolved)
    dirty: set[Path] = set()
    for root, files in by_root.items():
        proc = _git(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored=no"], root)
        if proc is None or proc.returncode != 0:
            continue
        changed: set[Path] = set()
        entries = proc.stdout.split(b"\0")
        i = 0
        while i < len(entries):
            entry = entries[i]
            i += 1
            if len(entry) < 4:
                continue
            status, name = entry[:2], entry[3:]
            if status[:1] in (b"R", b"C"):  # the next entry is the source path of a rename/copy
                i += 1
            changed.add(_resolved(root / os.fsdecode(name)))
        dirty.update(f for f in files if f in changed)
    return dirty



class DirtyTree(Exception):
    """Files the run may rewrite have uncommitted changes: the whole run is refused, nothing is written."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        count = f"{len(paths)} file{'s' if len(paths) != 1 else ''}"
        super().__init__(
            f"{count} with uncommitted changes may be rewritten; nothing was written. Commit or stash them, or pass "
            "--allow-dirty:\n" + "".join(f"  {path}\n" for path in paths)
        )


def refuse_dirty(
    files: Iterable[Path], may_be_rewritten: Callable[[Path], bool], display: Callable[[Path], str]
) -> None:
    """Raise DirtyTree, naming every one of them, when some of ``files`` have uncommitted changes and may be
    rewritten (``may_be_rewritten``: a cheap test that answers False only for files that will certainly not
    change). Checked for all the files before any is written."""
    files = list(files)
    dirty = dirty_files(files)
    if not dirty:
        return
    refused = [display(f) for f in files if _resolved(Path(f)) in dirty and may_be_rewritten(Path(f))]
    if refused:
        raise DirtyTree(refused)
