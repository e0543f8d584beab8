"""The sdist: metadata, the licence, and the test suite with every file it reads (it runs from the unpacked sdist)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = ("tests", "fixtures", "docs", "examples", "scripts")


@pytest.fixture(scope="module")
def sdist(tmp_path_factory) -> Path:
    pytest.importorskip("build")
    work = tmp_path_factory.mktemp("sdist")
    source = work / "source"  # a copy: building writes *.egg-info next to pyproject.toml
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "*.egg-info", "__pycache__", "dist"))
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "-o", str(work / "dist"), str(source)],
        check=True,
        capture_output=True,
    )
    (archive,) = (work / "dist").glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(work / "unpacked", filter="data")
    (unpacked,) = (work / "unpacked").iterdir()
    return unpacked


def test_metadata_and_licence(sdist):
    info = (sdist / "PKG-INFO").read_text()
    assert "License-Expression: Apache-2.0" in info and "License-File: LICENSE" in info
    assert "Classifier: Programming Language :: Python :: 3.10" in info and "Project-URL: Lightning RFC" in info
    assert "Apache License" in (sdist / "LICENSE").read_text()


def test_sdist_carries_every_file_the_tests_read(sdist):
    wanted = {
        p.relative_to(ROOT)
        for folder in TEST_DATA
        for p in (ROOT / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    missing = sorted(str(p) for p in wanted if not (sdist / p).is_file())
    assert not missing


def test_tests_run_from_the_unpacked_sdist(sdist):
    env = {**os.environ, "PYTHONPATH": str(sdist)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "tests/test_report.py", "tests/test_codemod_fixtures.py"],
        cwd=sdist, env=env, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
