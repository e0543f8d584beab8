"""The shipped pre-commit hooks (``.pre-commit-hooks.yaml``), run by pre-commit itself on staged files only."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli_support import LIGHTNING_MODULE, commit_all, git, init_repo

# pre-commit (and PyYAML, which it needs) come with the dev extra; an environment built before it was added skips.
pytest.importorskip("pre_commit", reason="pre-commit is not installed (the dev extra has it)")
yaml = pytest.importorskip("yaml")

REPOSITORY = Path(__file__).resolve().parent.parent

CHILD = """\
from base import Base


class Child(Base):
    def validation_step(self, batch, batch_idx):
        self.log("val_loss", batch.sum(), prog_bar=True)
"""


def _local_config(root: Path) -> None:
    """The repository's hooks as ``repo: local`` hooks (pre-commit would otherwise clone and install the package):
    the same ids, file types and arguments, the command run with this interpreter and this checkout."""
    hooks = []
    for hook in yaml.safe_load((REPOSITORY / ".pre-commit-hooks.yaml").read_text()):
        program, *args = shlex.split(hook["entry"])
        assert program == "put-migrate"
        entry = shlex.join([sys.executable, "-m", "put_migrate", *args])
        hooks.append({"id": hook["id"], "name": hook["name"], "entry": entry, "language": "system",
                      "types_or": hook["types_or"]})
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]}))


def pre_commit(root: Path, hook: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY), "PRE_COMMIT_HOME": str(root.parent / "pre-commit-home"),
           "HOME": str(root), "GIT_CONFIG_NOSYSTEM": "1", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", hook], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_hooks_on_a_staged_subclass_whose_base_is_not_staged(tmp_path: Path) -> None:
    """pre-commit names only the staged files: the subclass's base is read from disk, through its import."""
    root = init_repo(tmp_path / "repo")
    (root / "base.py").write_text(LIGHTNING_MODULE.replace("class M(", "class Base("))
    _local_config(root)
    commit_all(root)
    (root / "child.py").write_text(CHILD)
    git(root, "add", "child.py")  # base.py is committed, not staged: pre-commit does not name it

    check = pre_commit(root, "put-migrate")
    assert check.returncode == 1, check.stdout + check.stderr
    assert "PM222" not in check.stdout and '+                "val_loss",' in check.stdout, check.stdout  # a wrapped put
    assert (root / "child.py").read_text() == CHILD  # the check writes nothing

    fix = pre_commit(root, "put-migrate-fix")
    assert fix.returncode == 1 and "files were modified by this hook" in fix.stdout, fix.stdout
    assert "PM222" not in fix.stdout and "self.put(" in (root / "child.py").read_text()
    assert "self.log(" in (root / "base.py").read_text()  # not staged: not touched

    git(root, "add", "child.py")
    again = pre_commit(root, "put-migrate")
    assert again.returncode == 0, again.stdout
