"""The put-migrate command through click's CliRunner (fake transform: these tests are about plumbing)."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from put_migrate import __version__, pipeline
from put_migrate.cli import main
from tests.test_cli_support import (  # noqa: F401
    NO_LOG,
    commit_all,
    fake_transform,
    git,
    init_repo,
    tree_hashes,
)

pytestmark = pytest.mark.usefixtures("fake_transform")

LOGGING = "import lightning\nclass M(lightning.LightningModule):\n    def f(self):\n        self.log('a', 1)\n"
MANUAL = "import lightning\nclass M(lightning.LightningModule):\n    def f(self):\n        self.log_dict({'a': 1})\n"


def run(*args: str, input: bytes | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "model.py").write_text(LOGGING)
    (tmp_path / "pkg" / "crlf.py").write_bytes(LOGGING.replace("\n", "\r\n").encode())
    (tmp_path / "pkg" / "bom.py").write_bytes(b"\xef\xbb\xbf" + LOGGING.encode())
    (tmp_path / "pkg" / "latin.py").write_bytes(
        b"# -*- coding: latin-1 -*-\n" + LOGGING.replace("'a'", "'caf\xe9'").encode("latin-1")
    )
    (tmp_path / "pkg" / "plain.py").write_text(NO_LOG)
    return tmp_path


def test_version_and_help():
    assert run("--version").output.strip() == f"put-migrate, version {__version__}"
    result = run("--help")
    assert result.exit_code == 0 and "Examples:" in result.output and "--check" in result.output


@pytest.mark.parametrize(
    "args", [[], ["--format", "json", "x.py"], ["missing.py"], ["-", "x.py"], ["--jobs", "0", "."]]
)
def test_usage_errors_exit_2(tree, args):
    assert run(*args).exit_code == 2


def test_check_writes_nothing_and_exits_1(tree):
    before = tree_hashes(tree)
    result = run("--check", ".")
    assert result.exit_code == 1
    assert tree_hashes(tree) == before
    assert "would rewrite pkg/model.py" in result.stderr
    assert "5 files scanned (4 parsed): 4 would change, 1 unchanged, 0 skipped" in result.stderr


def test_write_then_idempotent(tree):
    result = run(".")
    assert result.exit_code == 0, result.output
    assert (tree / "pkg" / "model.py").read_text() == LOGGING.replace("self.log(", "self.put(")
    # CRLF, BOM and latin-1 with its cookie are kept
    assert (tree / "pkg" / "crlf.py").read_bytes() == LOGGING.replace("\n", "\r\n").replace("log(", "put(").encode()
    assert (tree / "pkg" / "bom.py").read_bytes().startswith(b"\xef\xbb\xbfimport lightning\nclass M(lightning.LightningModule):\n")
    assert (tree / "pkg" / "latin.py").read_bytes().endswith("self.put('caf\xe9', 1)\n".encode("latin-1"))
    after = tree_hashes(tree)
    second = run(".")
    assert second.exit_code == 0 and tree_hashes(tree) == after
    assert run("--check", ".").exit_code == 0


def test_diff_applies_with_git_apply(tree):
    repo = init_repo(tree)
    commit_all(repo)
    before = tree_hashes(tree)
    result = run("--diff", "--no-color", ".")
    assert result.exit_code == 1
    assert tree_hashes(tree) == before
    patch = result.stdout_bytes
    assert patch.startswith(b"--- a/pkg/") and b"\x1b[" not in patch
    (tree / ".." / "p.diff").write_bytes(patch)
    git(repo, "apply", str((tree / ".." / "p.diff").resolve()))
    assert run("--check", ".").exit_code == 0  # the patch is the whole migration


def test_diff_colour_on_request(tree):
    assert b"\x1b[32m+" in run("--diff", "--color", "pkg/model.py").stdout_bytes


def test_check_and_diff_together_print_the_diff(tree):
    result = run("--check", "--diff", "pkg/model.py")
    assert result.exit_code == 1 and result.stdout_bytes.startswith(b"--- a/pkg/model.py")


def test_syntax_error_among_good_files(tree):
    (tree / "pkg" / "broken.py").write_text("import lightning\ndef f(:\n    self.log('a', 1)\n")
    result = run(".")
    assert result.exit_code == 2
    assert "pkg/broken.py:" in result.stderr and "PM301" in result.stderr
    assert (tree / "pkg" / "model.py").read_text() == LOGGING.replace("self.log(", "self.put(")
    assert (tree / "pkg" / "broken.py").read_text() == "import lightning\ndef f(:\n    self.log('a', 1)\n"


def test_binary_file_is_reported_not_touched(tree):
    (tree / "pkg" / "blob.py").write_bytes(b"self.log(\0)")
    result = run(".")
    assert result.exit_code == 2 and "binary" in result.stderr
    assert (tree / "pkg" / "blob.py").read_bytes() == b"self.log(\0)"


def test_internal_error_is_reported_without_traceback(tree, monkeypatch):
    from put_migrate import pipeline

    def crash(source, path, index):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(pipeline, "transform_text", crash)
    result = run("pkg/model.py")
    assert result.exit_code == 2 and "kaboom" in result.stderr and "Traceback" not in result.stderr
    assert "Traceback" in run("--verbose", "pkg/model.py").stderr
    monkeypatch.setenv("PUT_MIGRATE_DEBUG", "1")
    assert "Traceback" in run("pkg/model.py").stderr


def test_manual_calls_exit_1_even_when_written(tree):
    (tree / "pkg" / "manual.py").write_text(MANUAL)
    result = run("pkg/manual.py")
    assert result.exit_code == 1
    assert "pkg/manual.py:4:9: PM201" in result.stderr
    assert "calls left for manual review: 1 (PM201: 1)" in result.stderr


def test_jobs_2_each_file_independent(tree):
    for i in range(10):
        (tree / f"f{i}.py").write_text(LOGGING if i % 2 else MANUAL)
    result = run("-j", "2", "--report", "r.json", ".")
    assert result.exit_code == 1
    for i in range(10):
        expected = LOGGING.replace("self.log(", "self.put(") if i % 2 else MANUAL
        assert (tree / f"f{i}.py").read_text() == expected
    findings = json.loads((tree / "r.json").read_text())["findings"]
    assert sorted({f["file"] for f in findings if f["code"] == "PM201"}) == [f"f{i}.py" for i in range(0, 10, 2)]


def test_stdin_mode():
    result = run("-", "--stdin-filename", "m.py", input=LOGGING.encode())
    assert result.exit_code == 0 and result.stdout_bytes == LOGGING.replace("self.log(", "self.put(").encode()
    unchanged = run("-", input=NO_LOG.encode())
    assert unchanged.exit_code == 0 and unchanged.stdout_bytes == NO_LOG.encode()
    check = run("--check", "-", input=LOGGING.encode())
    assert check.exit_code == 1 and check.stdout_bytes == b""
    diff = run("--diff", "-", "--stdin-filename", "src/m.py", input=LOGGING.encode())
    assert diff.exit_code == 1 and diff.stdout_bytes.startswith(b"--- a/src/m.py\n+++ b/src/m.py\n")
    bad = run("-", "--stdin-filename", "bad.py", input=b"import lightning\ndef f(:\n self.log(1)\n")
    assert bad.exit_code == 2 and "bad.py:" in bad.stderr and bad.stdout_bytes == b"import lightning\ndef f(:\n self.log(1)\n"


def test_gitignore_and_exclude(tree):
    repo = init_repo(tree)
    (tree / ".gitignore").write_text("ignored/\n")
    (tree / "ignored").mkdir()
    (tree / "ignored" / "gen.py").write_text(LOGGING)
    (tree / "vendored").mkdir()
    (tree / "vendored" / "v.py").write_text(LOGGING)
    commit_all(repo)
    result = run("--check", "--exclude", "vendored", "--exclude", "*/latin.py", ".")
    assert "ignored/gen.py" not in result.stderr and "vendored" not in result.stderr
    assert "latin.py" not in result.stderr and "would rewrite pkg/model.py" in result.stderr


def test_dirty_tree_guard_is_all_or_nothing(tree):
    """A dirty file that may be rewritten refuses the whole run: no half-migrated tree."""
    repo = init_repo(tree)
    commit_all(repo)
    (tree / "pkg" / "model.py").write_text(LOGGING + "\n# edited\n")
    (tree / "pkg" / "new.py").write_text(LOGGING)  # untracked: the last commit cannot restore it either
    before = tree_hashes(tree)
    result = run(".")
    assert result.exit_code == 2 and "--allow-dirty" in result.stderr
    assert "2 files with uncommitted changes" in result.stderr
    assert "  pkg/model.py\n" in result.stderr and "  pkg/new.py\n" in result.stderr
    assert tree_hashes(tree) == before  # nothing written, the clean files included
    assert run("--check", ".").exit_code == 1  # check/diff are always allowed
    assert run("--allow-dirty", ".").exit_code == 0
    assert "self.put(" in (tree / "pkg" / "model.py").read_text()
    assert (tree / "pkg" / "crlf.py").read_bytes().count(b"self.put(") == 1


def test_dirty_files_without_a_call_to_migrate_do_not_stop_the_run(tree):
    repo = init_repo(tree)
    commit_all(repo)
    (tree / "pkg" / "plain.py").write_text(NO_LOG + "# edited\n")
    assert run(".").exit_code == 0
    assert "self.put(" in (tree / "pkg" / "model.py").read_text()


def test_the_api_refuses_a_dirty_tree_too(tree):
    from put_migrate import api, safety

    repo = init_repo(tree)
    commit_all(repo)
    (tree / "pkg" / "model.py").write_text(LOGGING + "\n# edited\n")
    with pytest.raises(safety.DirtyTree) as refused:
        api.migrate_paths(["."])
    assert refused.value.paths == ["pkg/model.py"]
    assert (tree / "pkg" / "crlf.py").read_bytes().count(b"self.put(") == 0


def test_outside_git_files_are_written(tree):
    assert run("pkg/model.py").exit_code == 0


@pytest.mark.parametrize(("fmt", "name"), [("json", "r.json"), ("sarif", "r.sarif"), ("github", "r.txt")])
def test_report_option(tree, fmt, name):
    result = run("--check", "--report", name, "--format", fmt, ".")
    assert result.exit_code == 1
    text = (tree / name).read_text()
    if fmt == "github":
        assert text.count("::notice file=pkg/") == 4
    else:
        assert json.loads(text)


def test_report_format_inferred_from_the_name(tree):
    run("--check", "--report", "out.sarif", ".")
    assert json.loads((tree / "out.sarif").read_text())["version"] == "2.1.0"


def test_skip_comments_end_to_end(tree):
    (tree / "pkg" / "model.py").write_text(LOGGING.replace("1)\n", "1)  # put-migrate: skip\n"))
    (tree / "pkg" / "crlf.py").write_text("# put-migrate: skip-file\n" + LOGGING)
    result = run("--check", "pkg/model.py", "pkg/crlf.py")
    assert result.exit_code == 0
    assert "PM001" in result.stderr and "skipped pkg/crlf.py: `# put-migrate: skip-file` comment" in result.stderr


def test_quiet(tree):
    result = run("--check", "-q", ".")
    assert result.exit_code == 1 and result.stderr == ""


def test_unwritable_report_is_a_usage_error(tree):
    result = run("--check", "--report", str(Path("no/such/dir/r.json")), ".")
    assert result.exit_code == 2
    assert "cannot write the report" in result.stderr


def test_the_cli_process_does_not_import_libcst_up_front():
    """libcst (a third of a second to import) is loaded where a file is parsed with it: the CLI's own process and
    its screens do without it (most files of a large tree never need it)."""
    import subprocess
    import sys

    code = ("import sys, put_migrate.cli, put_migrate.screen, put_migrate.index, put_migrate.api, put_migrate.report\n"
            "assert 'libcst' not in sys.modules, sorted(m for m in sys.modules if m.startswith('libcst'))\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_migrating_a_file_does_not_import_libcst_matchers():
    """libcst.matchers takes longer to import than libcst itself, in every worker that migrates a file: the
    transform finds its patterns with plain libcst nodes (``put_migrate.walk.find_all``)."""
    import subprocess
    import sys

    code = ("import sys\nfrom put_migrate.transform import migrate_source\n"
            f"migrate_source({LOGGING!r}, 'model.py')\n"
            "assert 'libcst.matchers' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_read_only_file_is_refused_with_a_finding(tree):
    model = tree / "pkg" / "model.py"
    model.chmod(0o444)
    result = run(".")
    assert result.exit_code == 2
    assert "pkg/model.py:1:1: PM302 cannot write: read-only (mode 0444)" in result.stderr
    assert model.read_text() == LOGGING and stat.S_IMODE(model.stat().st_mode) == 0o444
    assert "self.put(" in (tree / "pkg" / "bom.py").read_text(encoding="utf-8-sig")  # the others are written


def _invoke(*args: str):
    """Like ``run``, but an exception that escapes the command is left to click (as in a real process)."""
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("where", ["plan_tasks", "run_tasks"])
def test_an_internal_error_outside_any_file_exits_2_never_1(tree, monkeypatch, where):
    """1 means "changes pending": a crash of the run itself must not read as that."""
    from put_migrate import api

    def crash(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(api, where, crash)
    result = _invoke("--check", ".")
    assert result.exit_code == 2
    assert "internal error: RuntimeError: kaboom" in result.stderr and "Traceback" not in result.stderr
    assert "Traceback" in _invoke("--check", "-v", ".").stderr


def test_an_interrupt_exits_130(tree, monkeypatch):
    from put_migrate import api

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "run_tasks", interrupted)
    result = _invoke("--check", ".")
    assert result.exit_code == 130 and "interrupted" in result.stderr


def test_a_run_without_python_files_says_so(tree):
    (tree / "empty").mkdir()
    (tree / "empty" / "notes.txt").write_text("self.log\n")
    for args in (["empty"], ["-q", "--check", "empty"]):
        result = run(*args)
        assert result.exit_code == 0 and "no Python files (*.py, *.ipynb) found in empty" in result.stderr


@pytest.mark.parametrize("args", [["--diff", "--report", "-", "."], ["--report", "-", "-"]])
def test_the_report_and_the_code_never_share_stdout(tree, args):
    """stdout carries the diff (--diff) or the migrated file (`-`): a report there would corrupt it."""
    result = run(*args, input=LOGGING.encode())
    assert result.exit_code == 2 and "--report -" in result.stderr and result.stdout_bytes == b""


def test_check_reports_in_the_conditional(tree, monkeypatch):
    """``-v --check`` and ``-v --diff`` say what would happen; only a write says what happened."""
    from put_migrate.rules import Severity
    from tests import test_cli_support

    def migrated(source, path, index=None):
        result = test_cli_support.fake_migrate_source(source, path)
        findings = [
            replace(f, message="self.log call migrated to self.put") if f.severity is Severity.REWRITTEN else f
            for f in result.findings
        ]
        return test_cli_support.FakeResult(result.source, findings)

    monkeypatch.setattr(pipeline, "transform_text", migrated)
    for mode in ("--check", "--diff"):
        result = run("-v", mode, "pkg/model.py")
        assert "PM101 self.log call would be migrated to self.put" in result.stderr
        assert " call migrated" not in result.stderr
    assert "PM101 self.log call migrated to self.put" in run("-v", "pkg/model.py").stderr


def test_a_link_is_never_replaced_and_its_target_is_migrated_once(tree):
    (tree / "pkg" / "alias.py").symlink_to("model.py")
    result = run(".")
    assert result.exit_code == 0, result.stderr
    assert (tree / "pkg" / "alias.py").is_symlink()
    assert (tree / "pkg" / "model.py").read_text() == LOGGING.replace("self.log(", "self.put(")
    assert "alias.py" not in result.stderr


def test_a_link_to_a_file_outside_the_run_is_left_and_reported(tree):
    (tree / "src").mkdir()
    (tree / "src" / "alias.py").symlink_to("../pkg/model.py")
    result = run("src")
    assert result.exit_code == 2
    assert "src/alias.py:1:1: PM302 cannot write: a symbolic link (to ../pkg/model.py)" in result.stderr
    assert (tree / "src" / "alias.py").is_symlink() and (tree / "pkg" / "model.py").read_text() == LOGGING


@pytest.mark.parametrize("in_git", [False, True])
def test_a_link_loop_is_reported_and_the_run_goes_on(tree, in_git):
    (tree / "pkg" / "loop.py").symlink_to("loop.py")
    if in_git:
        commit_all(init_repo(tree))
    result = _invoke(".")
    assert result.exit_code == 2, result.output
    assert "pkg/loop.py:1:1: PM302 cannot read: Too many levels of symbolic links" in result.stderr
    assert (tree / "pkg" / "model.py").read_text() == LOGGING.replace("self.log(", "self.put(")


def test_tracked_files_under_build_are_checked(tree):
    """A --check that skipped tracked code under build/ would pass in CI while calls remain."""
    (tree / "build").mkdir()
    (tree / "build" / "gen.py").write_text(LOGGING)
    commit_all(init_repo(tree))
    result = run("--check", ".")
    assert result.exit_code == 1 and "would rewrite build/gen.py" in result.stderr
    assert "build/gen.py" not in run("--check", "--extend-exclude", "build", ".").stderr
    assert "build/gen.py" not in run("--check", "--exclude", "build", ".").stderr
    assert "would rewrite build/gen.py" in run("--check", "--exclude", "build", "build/gen.py").stderr
    excluded = run("--check", "--exclude", "build", "--force-exclude", "build/gen.py")
    assert "would rewrite" not in excluded.stderr and "no Python files" in excluded.stderr


def test_a_check_over_a_large_tree_reports_every_file_in_order_whatever_the_pool_took_first(tree):
    """Where nothing is written and the tree is large, the pool takes the files strided (neighbours in different
    chunks); the results still come back in the files' order, each with its own findings."""
    from put_migrate import api
    from put_migrate.runner import STRIDE, _chunks

    chunks = _chunks(300, 16, STRIDE)
    assert sorted(i for chunk in chunks for i in chunk) == list(range(300))
    assert all(len(chunk) <= 16 and all(b - a == STRIDE for a, b in zip(chunk, chunk[1:])) for chunk in chunks)
    for i in range(200):
        (tree / f"f{i:03}.py").write_text(LOGGING if i % 3 else MANUAL)
    options = api.RunOptions(mode=api.Mode.CHECK, jobs=2)
    tasks = api.plan_tasks([tree], options)
    results = list(api.run_tasks(tasks, 2))
    assert [r.path for r in results] == [t.display for t in tasks]
    for result in results:
        number = int(result.path.rsplit("f", 1)[1][:3]) if "/f" in result.path or result.path.startswith("f") else None
        if number is not None:
            assert ([f.code for f in result.findings] == ["PM201"]) is (number % 3 == 0)


def test_an_in_process_run_gives_back_the_callers_garbage_collection_thresholds(tree):
    """The CLI collects less often during a run; a caller that runs it in process (tests, tools) keeps its own."""
    import gc

    before = gc.get_threshold()
    run("--check", ".")
    assert gc.get_threshold() == before
