"""`python -m put_migrate` as a subprocess, with the real transform on small Lightning modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli_support import LIGHTNING_MODULE, commit_all, git, init_repo, real_transform, tree_hashes  # noqa: F401

CALLBACK = """\
import lightning.pytorch as pl


class C(pl.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        pl_module.log("seen", 1.0)
"""

SKIPPED = LIGHTNING_MODULE.replace('self.log("loss", loss)', 'self.log("loss", loss)  # put-migrate: skip')


def put_migrate(*args: str, cwd: Path, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "put_migrate", *args], cwd=cwd, input=input, capture_output=True, timeout=120
    )


def test_version_without_the_transform_being_needed(tmp_path):
    proc = put_migrate("--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.decode().startswith("put-migrate, version")


def test_cli_imports_neither_torch_nor_lightning(tmp_path):
    code = (
        "import sys, put_migrate.cli, put_migrate.api, put_migrate.report, put_migrate.transform; "
        "bad = [m for m in ('torch', 'lightning', 'pytorch_lightning', 'torchmetrics', 'shim') if m in sys.modules]; "
        "print(bad); sys.exit(bool(bad))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture
def lightning_tree(tmp_path, real_transform):
    root = tmp_path / "proj"
    (root / "models").mkdir(parents=True)
    for i in range(10):  # enough files for the pool
        (root / "models" / f"m{i}.py").write_text(LIGHTNING_MODULE)
    (root / "models" / "cb.py").write_text(CALLBACK)
    (root / "models" / "crlf.py").write_bytes(LIGHTNING_MODULE.replace("\n", "\r\n").encode())
    (root / "models" / "bom.py").write_bytes(b"\xef\xbb\xbf" + LIGHTNING_MODULE.encode())
    (root / "models" / "latin.py").write_bytes(
        b"# -*- coding: latin-1 -*-\n" + LIGHTNING_MODULE.replace('"loss"', '"perte \xe9"').encode("latin-1")
    )
    (root / "models" / "skipped.py").write_text(SKIPPED)
    (root / "util.py").write_text("import math\n\n\ndef f(x):\n    return math.log(x)\n")
    return root


def test_check_diff_write_idempotent_with_the_real_transform(lightning_tree):
    root = lightning_tree
    repo = init_repo(root)
    commit_all(repo)
    before = tree_hashes(root)

    check = put_migrate("--check", "-j", "2", ".", cwd=root)
    assert check.returncode == 1, check.stderr
    assert tree_hashes(root) == before

    diff = put_migrate("--diff", "-j", "2", ".", cwd=root)
    assert diff.returncode == 1 and tree_hashes(root) == before
    assert b"\x1b[" not in diff.stdout  # not a terminal: no colour
    patch = root.parent / "migrate.patch"
    patch.write_bytes(diff.stdout)
    git(repo, "apply", "--check", str(patch))

    write = put_migrate("-j", "2", ".", cwd=root)
    assert write.returncode == 0, write.stderr.decode()
    after = tree_hashes(root)
    assert after != before
    text = (root / "models" / "m0.py").read_text()
    assert "self.put(" in text and 'self.log("loss"' not in text
    assert "self.put(" in (root / "models" / "cb.py").read_text()
    assert (root / "models" / "skipped.py").read_text() == SKIPPED  # only the skipped call, so nothing changes
    crlf = (root / "models" / "crlf.py").read_bytes()
    assert b"self.put(" in crlf and crlf.count(b"\n") == crlf.count(b"\r\n")
    assert (root / "models" / "bom.py").read_bytes().startswith(b"\xef\xbb\xbf")
    latin = (root / "models" / "latin.py").read_bytes()
    assert "perte \xe9".encode("latin-1") in latin and b"self.put(" in latin
    assert b"PM001" in write.stderr

    # the patch from --diff is exactly what the write produced
    git(repo, "stash")
    git(repo, "apply", str(patch))
    assert tree_hashes(root) == after

    # a second run has nothing to do
    commit_all(repo)
    again = put_migrate(".", cwd=root)
    assert again.returncode == 0 and tree_hashes(root) == after
    assert put_migrate("--check", ".", cwd=root).returncode == 0


def test_syntax_error_among_good_files_real(lightning_tree):
    root = lightning_tree
    (root / "models" / "broken.py").write_text("import lightning\ndef f(:\n    self.log('a', 1)\n")
    proc = put_migrate("-j", "2", ".", cwd=root)
    assert proc.returncode == 2
    assert b"models/broken.py:" in proc.stderr and b"PM301" in proc.stderr and b"Traceback" not in proc.stderr
    assert "self.put(" in (root / "models" / "m3.py").read_text()


def test_a_broken_file_with_a_log_call_fails_the_check(tmp_path):
    """No Lightning named and no parse: still a file put-migrate must read, reported where Python says."""
    (tmp_path / "broken.py").write_text('def broken(:\n    self.log("x", 1)\n')
    proc = put_migrate("--check", "broken.py", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert b"broken.py:1:12: PM301 syntax error: invalid syntax" in proc.stderr, proc.stderr
    (tmp_path / "bad.py").write_bytes(b"import lightning\n\n\n\n\nx = '\xff'\nself.log(1)\n")
    proc = put_migrate("--check", "bad.py", cwd=tmp_path)
    assert proc.returncode == 2 and b"bad.py:6:6: PM302 " in proc.stderr, proc.stderr


def test_stdin_real(tmp_path):
    pytest.importorskip("put_migrate.transform")
    proc = put_migrate("-", "--stdin-filename", "m.py", cwd=tmp_path, input=LIGHTNING_MODULE.encode())
    assert proc.returncode == 0, proc.stderr
    assert b"self.put(" in proc.stdout
    assert put_migrate("--check", "-", cwd=tmp_path, input=proc.stdout).returncode == 0


def test_reports_real(lightning_tree):
    import json

    import jsonschema

    root = lightning_tree
    schemas = Path(__file__).parent / "schemas"
    proc = put_migrate("--check", "--report", "r.sarif", ".", cwd=root)
    assert proc.returncode == 1
    log = json.loads((root / "r.sarif").read_text())
    jsonschema.validate(log, json.loads((schemas / "sarif-schema-2.1.0.json").read_text()))
    assert {r["ruleId"] for r in log["runs"][0]["results"]} >= {"PM001"}
    proc = put_migrate("--check", "--report", "-", "--format", "json", ".", cwd=root)
    document = json.loads(proc.stdout)
    jsonschema.validate(document, json.loads((schemas / "report.schema.json").read_text()))
    assert document["summary"]["calls_rewritten"] >= 14
