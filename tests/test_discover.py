"""Discovery (.gitignore, skipped folders, --exclude) and the pre-filter."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from put_migrate.discover import discover_files, has_skip_file_marker, may_contain_log_call
from tests.test_cli_support import commit_all, init_repo


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("self.log('a', 1)", True),
        ("self.log_dict({'a': 1})", True),
        ("pl_module.log ( 'a', 1)", True),
        ("self.trainer.model.log('a', x)", False),  # an attribute: the syntax screen never passes it
        ("get()[0].log('a', x)", True),
        ("torch.log(x) + math.log(2) + np.log(y)", False),
        ("logger.info('x'); self.logger", False),
        ("x = 1", False),
        ("self.logging(x)", False),
    ],
)
def test_pre_filter(text, expected):
    assert may_contain_log_call("import lightning.pytorch as pl\n" + text) is expected
    assert may_contain_log_call("import pytorch_lightning as pl\n" + text) is expected
    assert may_contain_log_call(text) is False  # no Lightning import: the transform has nothing to migrate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from pkg.base import Base\n\n\nclass M(Base):\n    def helper(self, x):\n        self.log('a', x)\n", True),
        ("class C(Base):\n    def _log(self, trainer, module):\n        module.log('a', 1)\n", True),
        ("class C(Base):\n    def _log(self, trainer, module):\n        other.log('a', 1)\n", False),
        ("import torch\n\n\nclass D(torch.nn.Module):\n    def entropy(self):\n        return self.probs.log()\n", False),
        # a third parameter's ``log()`` given nothing is a tensor's logarithm: Lightning's needs a name and a value
        ("import torch\n\n\nclass D(torch.nn.Module):\n    def f(self, x, probs):\n        return probs.log()\n", False),
        ("class D(Base):\n    def f(self, x, probs):\n        return probs.log( ) + probs.log('a', 1)\n", True),
        ("def f(self, x, probs):\n    return probs.log()\n", False),  # no class with bases
    ],
)
def test_pre_filter_without_a_lightning_name(text, expected):
    """A subclass of a project class need not name Lightning: the receivers the syntax screen looks at decide."""
    assert may_contain_log_call(text) is expected


def test_skip_file_marker_counts_in_the_first_ten_lines_only():
    assert has_skip_file_marker("# put-migrate: skip-file\nx = 1\n")
    assert has_skip_file_marker("\n" * 9 + "x = 1  # put-migrate: skip-file\n")
    assert not has_skip_file_marker("\n" * 10 + "# put-migrate: skip-file\n")
    assert not has_skip_file_marker("x = 1  # put-migrate: skip\n")


def _touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def _names(files, root):
    return sorted(p.resolve().relative_to(root.resolve()).as_posix() for p in files)


def test_walk_skips_tool_and_environment_folders(tmp_path):
    _touch(
        tmp_path,
        "a.py",
        "pkg/b.py",
        "pkg/notes.txt",
        "build/c.py",
        "__pycache__/d.py",
        ".git/e.py",
        "node_modules/f.py",
        "lib/site-packages/g.py",
        "env/h.py",
        ".venv/i.py",
    )
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    assert _names(discover_files([tmp_path]), tmp_path) == ["a.py", "pkg/b.py"]


def test_a_named_folder_may_itself_be_a_skipped_one(tmp_path):
    _touch(tmp_path, "site-packages/torch/a.py", "site-packages/torch/__pycache__/b.py")
    assert _names(discover_files([tmp_path / "site-packages" / "torch"]), tmp_path) == ["site-packages/torch/a.py"]


def test_git_work_tree_honours_gitignore(tmp_path):
    repo = init_repo(tmp_path / "repo")
    _touch(repo, "tracked.py", "generated/out.py", "new.py", "ignored.py", "venv/x.py", "sub/deleted.py")
    (repo / ".gitignore").write_text("generated/\nignored.py\n")
    commit_all(repo)
    (repo / "sub" / "deleted.py").unlink()
    found = _names(discover_files([repo]), repo)
    assert found == ["new.py", "tracked.py", "venv/x.py"]  # tracked: git decides, not the built-in list
    # a git-ignored folder named explicitly is walked
    assert _names(discover_files([repo / "generated"]), repo) == ["generated/out.py"]
    # an explicitly named file is always taken
    assert _names(discover_files([repo / "ignored.py"]), repo) == ["ignored.py"]


def test_outside_git_no_git_process_runs_and_a_link_into_a_work_tree_is_in_git(tmp_path, monkeypatch):
    """Outside any work tree (no ``.git`` above the folder, physically) discovery walks without asking git; a
    folder reached through a link into a work tree is git's to list, as git itself finds it, in two processes."""
    import subprocess

    repo = init_repo(tmp_path / "repo")
    _touch(repo, "pkg/tracked.py", "pkg/ignored.py")
    (repo / ".gitignore").write_text("ignored.py\n")
    commit_all(repo)
    (tmp_path / "link").symlink_to(repo / "pkg")
    _touch(tmp_path, "plain/a.py")
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("GIT_WORK_TREE", raising=False)
    ran = []
    real_run = subprocess.run
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: ran.append(a[0][:2]) or real_run(*a, **k))
    assert _names(discover_files([tmp_path / "plain"]), tmp_path) == ["plain/a.py"]
    assert ran == []
    assert [p.name for p in discover_files([tmp_path / "link"])] == ["tracked.py"]  # git's list: no ignored.py
    assert ran == [["git", "check-ignore"], ["git", "ls-files"]]  # whether in a work tree and ignored: one process


def test_exclude_globs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _touch(tmp_path, "src/a.py", "src/a_pb2.py", "src/legacy/b.py", "tests/test_a.py")
    assert _names(discover_files(["."], ["*_pb2.py", "legacy", "tests/*"]), tmp_path) == ["src/a.py"]
    assert _names(discover_files(["src/a_pb2.py"], ["*_pb2.py"], force_exclude=True), tmp_path) == []
    assert _names(discover_files(["."], ["src/legacy/"]), tmp_path) == ["src/a.py", "src/a_pb2.py", "tests/test_a.py"]


def test_in_git_tracked_files_are_never_skipped_by_the_built_in_list(tmp_path):
    """Tracked code under build/ or venv/ is the project's: a --check that skipped it would pass while calls remain.
    Untracked files git does not ignore still meet the built-in list (an un-ignored virtualenv is not code)."""
    repo = init_repo(tmp_path / "repo")
    _touch(repo, "a.py", "build/gen.py", "venv/tool.py", ".tox/t.py", "env/lib.py")
    (repo / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    commit_all(repo)
    _touch(repo, "build/new.py", "venv/new.py", "env/new.py", "new.py")
    expected = sorted(["a.py", "build/gen.py", "env/lib.py", "new.py", "venv/tool.py", ".tox/t.py"])
    assert _names(discover_files([repo]), repo) == expected
    assert _names(discover_files([repo], extend_excludes=["build"]), repo) == [e for e in expected if "build" not in e]


def test_exclude_replaces_the_built_in_list_and_extend_exclude_adds_to_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _touch(tmp_path, "a.py", "build/b.py", "legacy/c.py", ".venv/d.py")
    assert _names(discover_files(["."]), tmp_path) == ["a.py", "legacy/c.py"]
    assert _names(discover_files(["."], ["legacy"]), tmp_path) == [".venv/d.py", "a.py", "build/b.py"]
    assert _names(discover_files(["."], extend_excludes=["legacy"]), tmp_path) == ["a.py"]
    assert _names(discover_files(["."], ["legacy"], extend_excludes=["build"]), tmp_path) == [".venv/d.py", "a.py"]


def test_paths_named_directly_are_excluded_only_with_force_exclude(tmp_path, monkeypatch):
    """ruff's rule: what the user names is processed, unless --force-exclude (pre-commit names every file)."""
    monkeypatch.chdir(tmp_path)
    _touch(tmp_path, "legacy/c.py", "legacy/sub/d.py", "build/b.py", "src/gen_pb2.py")
    assert _names(discover_files(["legacy"], ["legacy"]), tmp_path) == ["legacy/c.py", "legacy/sub/d.py"]
    assert _names(discover_files(["legacy"], ["sub"]), tmp_path) == ["legacy/c.py"]  # below it, patterns apply
    assert _names(discover_files(["legacy"], ["legacy"], force_exclude=True), tmp_path) == []
    assert _names(discover_files(["legacy/c.py"], ["legacy"], force_exclude=True), tmp_path) == []
    assert _names(discover_files(["src/gen_pb2.py"], extend_excludes=["*_pb2.py"]), tmp_path) == ["src/gen_pb2.py"]
    assert _names(discover_files(["src/gen_pb2.py"], extend_excludes=["*_pb2.py"], force_exclude=True), tmp_path) == []
    assert _names(discover_files(["build/b.py"]), tmp_path) == ["build/b.py"]
    assert _names(discover_files(["build/b.py"], force_exclude=True), tmp_path) == []  # outside git: built-in list


def test_force_exclude_in_git_applies_only_the_users_patterns(tmp_path, monkeypatch):
    repo = init_repo(tmp_path / "repo")
    _touch(repo, "build/b.py", "gen_pb2.py")
    commit_all(repo)
    monkeypatch.chdir(repo)
    assert _names(discover_files(["build/b.py"], force_exclude=True), repo) == ["build/b.py"]
    assert _names(discover_files(["gen_pb2.py"], extend_excludes=["*_pb2.py"], force_exclude=True), repo) == []


def test_each_file_once_and_missing_paths_raise(tmp_path):
    _touch(tmp_path, "a.py")
    assert len(discover_files([tmp_path, tmp_path / "a.py"])) == 1
    with pytest.raises(FileNotFoundError):
        discover_files([tmp_path / "missing"])


@pytest.mark.parametrize(
    "path",
    ["a/b.py", "./a/b.py", "../x/y.py", "a//b.py", "a/./b.py", ".hidden/x.py", "a/..b/c.py", "a/../b.py", "{cwd}/a/b.py",
     "{cwd}/.venv/x.py", "{cwd}/a/../b.py", "{cwd}x/y.py", "{cwd}", "{parent}/other/x.py", "/"],
)
def test_display_path_is_relpath(path):
    """The fast path of ``_display_path`` gives what ``os.path.relpath`` gives."""
    import os

    from put_migrate.discover import _display_path

    cwd = Path.cwd()
    text = path.format(cwd=cwd, parent=cwd.parent)
    assert _display_path(text, cwd) == Path(os.path.relpath(text, cwd)).as_posix()


def _as_found(files, root):
    """The paths as discovery gives them (a link stays a link), relative to root."""
    return sorted(Path(os.path.relpath(p, root)).as_posix() for p in files)


@pytest.mark.parametrize("link", ["a_alias.py", "z_alias.py"])  # sorted before and after its target
def test_a_link_to_a_file_of_the_run_is_replaced_by_its_target(tmp_path, link):
    _touch(tmp_path, "m.py")
    (tmp_path / link).symlink_to("m.py")
    assert _as_found(discover_files([tmp_path]), tmp_path) == ["m.py"]
    assert _as_found(discover_files([tmp_path / link, tmp_path / "m.py"]), tmp_path) == ["m.py"]


def test_a_link_to_a_file_outside_the_run_is_kept_for_the_run_to_report(tmp_path):
    _touch(tmp_path, "elsewhere/m.py", "src/a.py")
    (tmp_path / "src" / "alias.py").symlink_to("../elsewhere/m.py")
    assert _as_found(discover_files([tmp_path / "src"]), tmp_path) == ["src/a.py", "src/alias.py"]


@pytest.mark.parametrize("git", [False, True])
def test_link_loops_and_dangling_links_are_kept_for_the_run_to_report(tmp_path, git):
    _touch(tmp_path, "a.py")
    (tmp_path / "loop.py").symlink_to("loop.py")
    (tmp_path / "dangling.py").symlink_to("missing.py")
    if git:
        commit_all(init_repo(tmp_path))
    assert _as_found(discover_files([tmp_path]), tmp_path) == ["a.py", "dangling.py", "loop.py"]
    assert _as_found(discover_files([tmp_path / "loop.py"]), tmp_path) == ["loop.py"]


def test_a_folder_inside_the_git_directory_is_walked(tmp_path):
    """git answers 128 there (no work tree): the folder is walked, as outside a repository."""
    repo = init_repo(tmp_path / "repo")
    _touch(repo, ".git/hooks/check.py")
    assert [p.name for p in discover_files([repo / ".git" / "hooks"])] == ["check.py"]
