"""The api layers with a fake transform: encodings, opt-outs, errors as data, the pool, exit codes."""

from __future__ import annotations

import subprocess

import pytest

from put_migrate import api, pipeline
from put_migrate.api import FileStatus, Mode, RunOptions
from put_migrate.rules import Severity
from tests.test_cli_support import LIGHTNING_MODULE, NO_LOG, fake_transform, init_repo, real_transform  # noqa: F401

pytestmark = pytest.mark.usefixtures("fake_transform")

LOGGING = "import lightning\nclass M(lightning.LightningModule):\n    def f(self):\n        self.log('a', 1)\n"


def test_unchanged_file_without_log_calls_is_not_parsed(monkeypatch):
    def boom(*_):
        raise AssertionError("parsed")

    monkeypatch.setattr(pipeline, "transform_text", boom)
    result, data = api.migrate_bytes(NO_LOG.encode(), "n.py")
    assert result.status is FileStatus.UNCHANGED and not result.parsed and data == NO_LOG.encode()


def test_changed_file_and_findings():
    result, data = api.migrate_bytes(LOGGING.encode(), "m.py")
    assert result.status is FileStatus.CHANGED and result.parsed
    assert data == LOGGING.replace("self.log(", "self.put(").encode()
    assert [(f.line, f.code, f.severity) for f in result.findings] == [(4, "PM101", Severity.REWRITTEN)]


@pytest.mark.parametrize(
    "data",
    [
        LOGGING.replace("\n", "\r\n").encode(),
        b"\xef\xbb\xbf" + LOGGING.encode(),
        b"# -*- coding: latin-1 -*-\n" + LOGGING.replace("'a'", "'caf\xe9'").encode("latin-1"),
        b"x = 1\r\ny = 2\n" + LOGGING.encode(),  # mixed endings: every existing line keeps its own
        LOGGING.rstrip("\n").encode(),  # no newline at the end
    ],
    ids=["crlf", "bom", "latin-1", "mixed", "no-final-newline"],
)
def test_encoding_bom_and_line_endings_are_kept(data):
    result, new = api.migrate_bytes(data, "m.py")
    assert result.status is FileStatus.CHANGED
    assert new == data.replace(b"self.log(", b"self.put(")


def test_syntax_error_is_reported_with_its_position():
    result, data = api.migrate_bytes(b"x = 1\nimport lightning\ndef f(:\n    self.log('a', 1)\n", "bad.py")
    assert result.status is FileStatus.ERROR and data.startswith(b"x = 1")
    (finding,) = result.findings
    # The line at fault (libcst names the line where it gave up, the next one): CPython's position and message.
    assert (finding.code, finding.line, finding.column) == (api.SYNTAX_ERROR, 3, 6)
    assert finding.severity is Severity.ERROR and result.reason == "syntax error: invalid syntax"


@pytest.mark.parametrize(
    "text",
    [
        'def broken(:\n    self.log("x", 1)\n',  # no Lightning named, no class with bases: the pre-filter's own gates
        'def broken(self):\n    self.log_dict({"x": 1}\n',
        'class Hook:\n    def on_fit_start(self, trainer, pl_module):\n        pl_module.log("x", 1\n',
    ],
    ids=["self.log", "self.log_dict", "pl_module.log"],
)
def test_a_file_that_does_not_parse_and_holds_a_candidate_call_is_reported(text):
    result, data = api.migrate_bytes(text.encode(), "broken.py")
    assert result.status is FileStatus.ERROR and data == text.encode()
    assert [(f.code, f.line) for f in result.findings] == [(api.SYNTAX_ERROR, 1 if "(:" in text else 2 + ("class" in text))]


def test_a_file_that_does_not_parse_without_a_candidate_call_is_left_alone(monkeypatch):
    def boom(*_):
        raise AssertionError("parsed")

    monkeypatch.setattr(pipeline, "transform_text", boom)
    for text in ["def broken(:\n    logger.log(1)\n", "def broken(:\n    torch.log(x)\n", "def broken(:\n"]:
        result, _ = api.migrate_bytes(text.encode(), "other.py")
        assert result.status is FileStatus.UNCHANGED and not result.parsed, text


@pytest.mark.parametrize(
    ("data", "line", "column"),
    [
        (b"import lightning\n\n\n\n\nx = '\xff'\nself.log(1)\n", 6, 5),  # an undecodable byte on line 6
        (b"# -*- coding: ascii -*-\nimport lightning\nx = 1\ny = '\xe9'\nself.log(1)\n", 4, 5),
        ("# -*- coding: latin-1 -*-\nx = 'caf\u00e9\u00e9'\n".encode("latin-1") + b"s = '\xc3'\n", None, None),
        (b"#!/usr/bin/env python\n# -*- coding: no-such-codec -*-\nself.log(1)\n", 2, 0),  # the declaration's line
        (b"import lightning\n\xef\xbb\xbf\nself.log(1)\n", None, None),  # a BOM inside a UTF-8 file decodes
        (b"x = '\xe9'\nself.log(1)\n", 1, 5),  # in the first two lines: found by the encoding detection
    ],
    ids=["utf-8", "ascii", "latin-1", "unknown-codec", "inner-bom", "first-line"],
)
def test_decoding_errors_name_their_line(data, line, column):
    result, _ = api.migrate_bytes(data, "enc.py")
    if line is None:
        assert result.status is not FileStatus.ERROR or result.findings[0].code != api.UNREADABLE
        return
    assert result.status is FileStatus.ERROR
    (finding,) = result.findings
    assert (finding.code, finding.line, finding.column) == (api.UNREADABLE, line, column), finding


@pytest.mark.parametrize(("data", "code"), [(b"self.log(1)\0", api.UNREADABLE), (b"self.log('\xff')\n", api.UNREADABLE)])
def test_binary_and_undecodable_files_are_reported(data, code):
    result, new = api.migrate_bytes(data, "b.py")
    assert result.status is FileStatus.ERROR and result.findings[0].code == code and new == data


def test_recursion_error_is_reported(monkeypatch):
    def recurse(source, path, index):
        return recurse(source, path, index)

    monkeypatch.setattr(pipeline, "transform_text", recurse)
    result, _ = api.migrate_bytes(LOGGING.encode(), "m.py")
    assert result.status is FileStatus.ERROR and result.findings[0].code == api.TOO_DEEP


def test_an_exception_in_the_transform_becomes_an_error_result(monkeypatch):
    def crash(source, path, index):
        raise KeyError("surprise")

    monkeypatch.setattr(pipeline, "transform_text", crash)
    result, _ = api.migrate_bytes(LOGGING.encode(), "m.py")
    assert result.status is FileStatus.ERROR and result.findings[0].code == api.INTERNAL_ERROR
    assert "KeyError" in result.reason and "Traceback" in result.detail


@pytest.mark.parametrize(
    ("expression", "code"),
    [
        ("[" * 3000 + "]" * 3000, api.SYNTAX_ERROR),  # CPython refuses it; libcst's parser would crash
        ("'" + "[" * 300 + "'", None),  # brackets in a string are not nesting
        (" + ".join(["a"] * 10000), api.UNSAFE_TO_WRITE),  # so long a line libcst's parser would crash
    ],
    ids=["nested", "string", "long-line"],
)
def test_deep_files_are_reported_never_crash(expression, code):
    result, _ = api.migrate_bytes(
        f"import lightning\nx = {expression}\nclass M(lightning.LightningModule):\n    def f(self):\n"
        f"        self.log('a', x)\n".encode(),
        "deep.py",
    )
    if code is None:
        assert result.status is FileStatus.CHANGED
    else:
        assert result.status is FileStatus.ERROR and result.findings[0].code == code


def test_round_trip_failure_is_not_rewritten(monkeypatch, real_transform):
    monkeypatch.setattr(pipeline, "transform_text", lambda text, path, index: real_transform(text, path))  # it checks
    data = LIGHTNING_MODULE.encode() + b"x = 1\r"  # libcst does not reproduce a lone CR at the end
    result, new = api.migrate_bytes(data, "m.py")
    assert result.status is FileStatus.ERROR and result.findings[0].code == api.UNSAFE_TO_WRITE and new == data


def test_skip_file_comment():
    data = ("# put-migrate: skip-file\n" + LOGGING).encode()
    result, new = api.migrate_bytes(data, "m.py")
    assert result.status is FileStatus.SKIPPED and new == data and "skip-file" in result.reason


def test_skip_line_comment_leaves_that_call_and_reports_pm001():
    text = (
        "import lightning.pytorch as pl\n"
        "class M(pl.LightningModule):\n"
        "    def f(self):\n"
        "        self.log('a', 1)\n"
        "        self.log('b', 2)  # put-migrate: skip\n"
        "        self.log(  # put-migrate: skip\n"
        "            'c', 3)\n"
        "        x = 'self.log(  # put-migrate: skip'\n"
    )
    result, new = api.migrate_bytes(text.encode(), "m.py")
    assert new.decode() == text.replace("self.log('a'", "self.put('a'").replace("x = 'self.log(", "x = 'self.put(")
    codes = [(f.line, f.column, f.code) for f in result.findings]
    assert codes == [(4, 8, "PM101"), (5, 8, "PM001"), (6, 8, "PM001"), (8, 13, "PM101")]
    assert api.exit_code([result], Mode.WRITE) == 0  # a skip comment is a decision, not pending work


def test_a_transform_that_touches_a_skipped_call_makes_the_file_fail(monkeypatch):
    def greedy(source, path, index):
        from tests.test_cli_support import FakeResult

        return FakeResult(source=source.replace("__put_migrate_skipped_log__", "put"))

    monkeypatch.setattr(pipeline, "transform_text", greedy)
    result, _ = api.migrate_bytes(
        b"import lightning\nclass M(lightning.LightningModule):\n    def f(self):\n"
        b"        self.log('a', 1)\n        self.log('b', 2)  # put-migrate: skip\n",
        "m.py",
    )
    assert result.status is FileStatus.ERROR and result.findings[0].code == api.UNSAFE_TO_WRITE


def test_unified_diff_applies_with_git_apply(tmp_path):
    repo = init_repo(tmp_path / "repo")
    cases = {
        "crlf.py": LOGGING.replace("\n", "\r\n").encode(),
        "bom.py": b"\xef\xbb\xbf" + LOGGING.encode(),
        "eof.py": LOGGING.rstrip("\n").encode(),
    }
    patch = b""
    for name, data in cases.items():
        (repo / name).write_bytes(data)
        patch += api.unified_diff(data, data.replace(b"self.log(", b"self.put("), name)
    (tmp_path / "p.diff").write_bytes(patch)
    subprocess.run(["git", "apply", "--check", str(tmp_path / "p.diff")], cwd=repo, check=True, capture_output=True)
    subprocess.run(["git", "apply", str(tmp_path / "p.diff")], cwd=repo, check=True, capture_output=True)
    for name, data in cases.items():
        assert (repo / name).read_bytes() == data.replace(b"self.log(", b"self.put(")


def test_migrate_file_write_check_and_diff(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(LOGGING)
    assert api.migrate_file(path, mode=Mode.CHECK).changed and path.read_text() == LOGGING
    diff = api.migrate_file(path, mode=Mode.DIFF, display="m.py").diff
    assert b"-        self.log('a', 1)\n+        self.put('a', 1)\n" in diff and path.read_text() == LOGGING
    refused = api.migrate_file(path, may_write=False)
    assert refused.status is FileStatus.ERROR and refused.findings[0].code == api.DIRTY_FILE
    assert path.read_text() == LOGGING
    written = api.migrate_file(path)
    assert written.written and path.read_text() == LOGGING.replace("self.log(", "self.put(")
    assert api.migrate_file(path).status is FileStatus.UNCHANGED  # idempotent


def test_unreadable_path_is_an_error(tmp_path):
    result = api.migrate_file(tmp_path / "missing.py")
    assert result.status is FileStatus.ERROR and result.findings[0].code == api.UNREADABLE


def test_pool_and_serial_give_the_same_results(tmp_path):
    for i in range(12):
        body = LOGGING if i % 3 else NO_LOG
        (tmp_path / f"f{i:02}.py").write_text(body + f"\nN = {i}\n")
    (tmp_path / "bad.py").write_text("import lightning\ndef f(:\n    self.log('a', 1)\n")
    serial = api.migrate_paths([tmp_path], RunOptions(mode=Mode.CHECK, jobs=1))
    pooled = api.migrate_paths([tmp_path], RunOptions(mode=Mode.CHECK, jobs=2))
    assert serial == pooled
    assert [r.status for r in pooled].count(FileStatus.CHANGED) == 8
    assert api.exit_code(pooled, Mode.CHECK) == 2


def test_exit_codes():
    changed = api.FileResult("a.py", FileStatus.CHANGED)
    ok = api.FileResult("b.py", FileStatus.UNCHANGED)
    manual, _ = api.migrate_bytes(b"import lightning\nclass M(lightning.LightningModule):\n    def f(self):\n        self.log_dict({'a': 1})\n", "c.py")
    error, _ = api.migrate_bytes(b"import lightning\ndef f(:\n self.log(1)\n", "d.py")
    assert api.exit_code([ok], Mode.CHECK) == 0
    assert api.exit_code([ok, changed], Mode.WRITE) == 0
    assert api.exit_code([ok, changed], Mode.CHECK) == 1
    assert api.exit_code([ok, changed], Mode.DIFF) == 1
    assert api.exit_code([manual], Mode.WRITE) == 1
    assert api.exit_code([manual, error, changed], Mode.CHECK) == 2


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"x = 1\n", "unchanged"),
        (b"# coding: no-such-codec\nx = 1\n", "error"),  # decoded, so that the bad declaration is reported
        (b"x = '\0'\n", "error"),  # NUL bytes: binary
        (b"# put-migrate: skip-file\nx = 1\n", "skipped"),
        ("x = 'é'\n".encode("latin-1"), "error"),  # not ASCII: decoded (and not valid UTF-8)
    ],
)
def test_files_without_a_log_call_are_settled_as_the_decoder_would(data, status):
    result, new = api.migrate_bytes(data, "f.py", mode=Mode.CHECK)
    assert result.status.value == status and new == data


def test_discover_finds_configuration_files_in_the_same_walk(tmp_path, monkeypatch):
    """``--report`` walks the tree once: the Python files to process and the YAML/JSON files of the monitors
    section come from one discovery; a file named on the command line is processed whatever its suffix."""
    monkeypatch.chdir(tmp_path)
    for name in ("a.py", "conf/train.yaml", "conf/b.json", "nb.ipynb", "notes.txt", "script"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    walks = []
    from put_migrate import runner

    real = runner.discover_files
    monkeypatch.setattr(runner, "discover_files", lambda *a, **k: walks.append(k["suffixes"]) or real(*a, **k))
    processed, configs = api.discover([".", "script"], RunOptions(), (".yaml", ".yml", ".json"))
    assert sorted(p.as_posix() for p in processed) == ["a.py", "nb.ipynb", "script"]
    assert sorted(p.as_posix() for p in configs) == ["conf/b.json", "conf/train.yaml"]
    assert len(walks) == 1
    assert [task.display for task in api.plan_tasks(["."], RunOptions(), processed[:1])] == ["a.py"]
