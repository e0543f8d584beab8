"""Helpers shared by the CLI/API/report tests (no tests here).

``fake_migrate_source`` stands in for the transform where a test is about plumbing (files, encodings, exit codes)
and must not depend on what the transform decides: it rewrites ``self.log(`` to ``self.put(`` (one REWRITTEN
finding each) and leaves ``self.log_dict(`` for a human (PM201, MANUAL). Tests that need the real transform use
``real_transform`` (skipped while ``put_migrate.transform`` does not exist).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import libcst
import pytest

from put_migrate.rules import Finding, Severity

LIGHTNING_MODULE = """\
import lightning.pytorch as pl


class M(pl.LightningModule):
    def training_step(self, batch, batch_idx):
        loss = batch.sum()
        self.log("loss", loss)
        return loss
"""

NO_LOG = "import torch\n\n\ndef f(x):\n    return torch.log(x)\n"


@dataclass(frozen=True)
class FakeResult:
    source: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return False  # not used by the code under test


_LOG = re.compile(r"self\.log\(")
_LOG_DICT = re.compile(r"self\.log_dict\(")


def fake_migrate_source(source: str, path: str = "<string>", index=None) -> FakeResult:
    libcst.parse_module(source)  # raises ParserSyntaxError like the real one
    findings = []
    lines = source.split("\n")
    for number, line in enumerate(lines, start=1):
        for match in _LOG.finditer(line):
            findings.append(Finding(path, number, match.start(), "PM101", "self.log rewritten", Severity.REWRITTEN))
        for match in _LOG_DICT.finditer(line):
            findings.append(Finding(path, number, match.start(), "PM201", "self.log_dict left", Severity.MANUAL))
    return FakeResult(source=_LOG.sub("self.put(", source), findings=findings)


@pytest.fixture
def fake_transform(monkeypatch):
    """Replace the transform by the fake one (worker processes inherit it: the pool forks)."""
    from put_migrate import pipeline

    monkeypatch.setattr(pipeline, "transform_text", fake_migrate_source)
    return fake_migrate_source


@pytest.fixture
def real_transform():
    return pytest.importorskip("put_migrate.transform").migrate_source


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(cwd),
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)


def init_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    git(root, "config", "core.autocrlf", "false")
    return root


def commit_all(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "snapshot", "--allow-empty")
