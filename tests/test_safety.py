"""File-level promises of put_migrate.safety: encodings, round trip, atomic writes, the dirty-tree guard."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from put_migrate import safety
from tests.test_cli_support import commit_all, init_repo


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b"x = 'caf\xc3\xa9'\n", "utf-8"),
        (b"\xef\xbb\xbfx = 1\r\n", "utf-8-sig"),
        (b"# -*- coding: latin-1 -*-\nx = 'caf\xe9'\n", "iso-8859-1"),
    ],
)
def test_decode_and_encode_give_the_same_bytes_back(data, encoding):
    source = safety.decode_source(data)
    assert source.encoding == encoding
    assert not source.text.startswith("\ufeff")
    assert source.encode(source.text) == data


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"x = 1\0\n", "binary"),
        (b"x = '\xff\xfe'\n", "not valid UTF-8"),
        (b"# coding: no-such-codec\nx = 1\n", "encoding"),
    ],
)
def test_undecodable_files_are_refused(data, reason):
    with pytest.raises(safety.UnsafeFile, match=reason):
        safety.decode_source(data)


def test_text_that_cannot_be_encoded_back_is_refused():
    source = safety.decode_source(b"# coding: latin-1\nx = 1\n")
    with pytest.raises(safety.UnsafeFile, match="cannot be encoded"):
        source.encode("x = '\u2603'\n")


@pytest.mark.parametrize("text", ["a = 1\r\nb = 2\r\n", "a = 1\nb = 2\r\n", "x = 1", "if x:\n    y = 2\n"])
def test_round_trip_accepts_what_libcst_reproduces(text):
    safety.check_round_trip(text)


def test_round_trip_refuses_a_lone_carriage_return():
    with pytest.raises(safety.UnsafeFile, match="does not reproduce"):
        safety.check_round_trip("a = 1\nb = 2\r")


def test_check_parses():
    safety.check_parses("x = 1\n")
    with pytest.raises(safety.UnsafeFile, match="does not parse"):
        safety.check_parses("def f(:\n")


def test_atomic_write_keeps_permissions_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "script.py"
    target.write_bytes(b"old\n")
    target.chmod(0o751)
    safety.atomic_write(target, b"new\r\n")
    assert target.read_bytes() == b"new\r\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o751
    assert os.listdir(tmp_path) == ["script.py"]


def test_recursion_limit_is_raised_then_restored():
    before = sys.getrecursionlimit()
    with safety.recursion_limit(before + 1234):
        assert sys.getrecursionlimit() == before + 1234
    assert sys.getrecursionlimit() == before


def test_dirty_files_in_a_git_work_tree(tmp_path):
    repo = init_repo(tmp_path / "repo")
    for name in ("clean.py", "modified.py", "staged.py"):
        (repo / name).write_text("x = 1\n")
    commit_all(repo)
    (repo / "modified.py").write_text("x = 2\n")
    (repo / "staged.py").write_text("x = 3\n")
    from tests.test_cli_support import git

    git(repo, "add", "staged.py")
    (repo / "sub").mkdir()
    (repo / "sub" / "untracked.py").write_text("x = 4\n")
    outside = tmp_path / "outside.py"
    outside.write_text("x = 5\n")
    files = [repo / "clean.py", repo / "modified.py", repo / "staged.py", repo / "sub" / "untracked.py", outside]
    dirty = safety.dirty_files(files)
    assert dirty == {(repo / n).resolve() for n in ("modified.py", "staged.py", "sub/untracked.py")}


def test_git_toplevel_outside_git(tmp_path):
    assert safety.git_toplevel(tmp_path) is None


def test_atomic_write_refuses_a_read_only_file(tmp_path):
    """Root may write anything: the permission bits, not ``open``, say whether the user meant the file to change."""
    target = tmp_path / "frozen.py"
    target.write_bytes(b"old\n")
    target.chmod(0o444)
    with pytest.raises(PermissionError, match=r"read-only \(mode 0444\)"):
        safety.atomic_write(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert os.listdir(tmp_path) == ["frozen.py"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file away needs root")
def test_atomic_write_keeps_owner_and_group(tmp_path):
    target = tmp_path / "theirs.py"
    target.write_bytes(b"old\n")
    target.chmod(0o640)
    os.chown(target, 1000, 1001)
    safety.atomic_write(target, b"new\n")
    info = target.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (1000, 1001, 0o640)
    assert target.read_bytes() == b"new\n"


def test_atomic_write_never_replaces_a_link(tmp_path):
    real = tmp_path / "real.py"
    real.write_bytes(b"old\n")
    (tmp_path / "alias.py").symlink_to("real.py")
    with pytest.raises(OSError, match="symbolic link"):
        safety.atomic_write(tmp_path / "alias.py", b"new\n")
    assert (tmp_path / "alias.py").is_symlink() and real.read_bytes() == b"old\n"
    os.link(real, tmp_path / "hard.py")
    with pytest.raises(OSError, match="2 hard links"):
        safety.atomic_write(real, b"new\n")
    assert (tmp_path / "hard.py").read_bytes() == b"old\n"


def test_atomic_write_refuses_when_the_owner_cannot_be_kept(tmp_path, monkeypatch):
    """Without root, another user's file in a folder we may write would become ours: refused, nothing left behind."""
    target = tmp_path / "theirs.py"
    target.write_bytes(b"old\n")
    real_stat = os.stat

    def stat_as_if_theirs(path, *args, **kwargs):
        info = real_stat(path, *args, **kwargs)
        return info if os.fspath(path) != os.fspath(target) else os.stat_result((*info[:4], info.st_uid + 1, *info[5:]))

    def chown_refused(*args, **kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "lstat", stat_as_if_theirs)
    monkeypatch.setattr(os, "chown", chown_refused)
    with pytest.raises(PermissionError, match="cannot give the new file the owner and group"):
        safety.atomic_write(target, b"new\n")
    assert target.read_bytes() == b"old\n" and os.listdir(tmp_path) == ["theirs.py"]


def test_python_parser_running_out_of_stack_is_too_deep_not_an_internal_error():
    """Found by benchmarks/fuzz.py (seed 1, input 4080): CPython's parser raises MemoryError, not SyntaxError, on
    some deeply nested invalid input; it is the file's nesting (PM306), not put-migrate's failure (PM305)."""
    from put_migrate import api

    text = "for idx + " + "(" * 201 + "1" + ")" * 201 + ", y in z:\n    pass\n"
    with pytest.raises(RecursionError, match="Python's parser"):
        safety.check_parser_limits(text, "deep.py")
    module = (
        "import lightning.pytorch as pl\n\n\nclass M(pl.LightningModule):\n"
        "    def training_step(self, batch, batch_idx):\n        self.log('a', 1)\n" + text
    )
    result, new = api.migrate_bytes(module.encode(), "deep.py")
    assert [f.code for f in result.findings] == ["PM306"] and new == module.encode()
