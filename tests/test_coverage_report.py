"""benchmarks/coverage_report.py: per-repository figures from a real JSON report of the CLI."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("coverage_report", ROOT / "benchmarks" / "coverage_report.py")
coverage_report = importlib.util.module_from_spec(_spec)
sys.modules["coverage_report"] = coverage_report  # dataclasses look their module up
_spec.loader.exec_module(coverage_report)

MODULE = '''
import lightning.pytorch as pl


class M(pl.LightningModule):
    def training_step(self, batch, batch_idx):
        self.log("loss", batch.sum())
        {extra}
        return batch.sum()
'''


def _report(tmp_path: Path) -> dict:
    corpus = tmp_path / "corpus"
    (corpus / "alpha" / "pkg").mkdir(parents=True)
    (corpus / "beta").mkdir()
    (corpus / "alpha" / "pkg" / "m.py").write_text(MODULE.format(extra='self.log("x", 1.0, on_step=batch_idx > 0, on_epoch=True)'))
    (corpus / "beta" / "n.py").write_text(MODULE.format(extra="pass"))
    report = tmp_path / "r.json"
    subprocess.run([sys.executable, "-m", "put_migrate", "--check", "--report", str(report), "--format", "json",
                    str(corpus)], cwd=ROOT, capture_output=True, check=False)
    return json.loads(report.read_text())


def test_figures_per_repository(tmp_path):
    repos, root = coverage_report.coverage(_report(tmp_path))
    assert root.endswith("corpus")
    assert list(repos) == ["alpha", "beta"]
    assert (repos["alpha"].rewritten, dict(repos["alpha"].left)) == (1, {"PM203": 1})
    assert (repos["beta"].rewritten, dict(repos["beta"].left)) == (1, {})
    assert repos["alpha"].left_where == [("PM203", "alpha/pkg/m.py:8")]
    assert round(repos["alpha"].percent, 1) == 50.0


def test_tables_and_targets(tmp_path):
    repos, _ = coverage_report.coverage(_report(tmp_path))
    table = coverage_report.repo_table(repos, old=repos)
    assert "| **total** | 3 | 2 | 1 | 66.7 | PM203 1 | - |" in table
    assert "| PM203 | 1 | 1 |" in coverage_report.rule_matrix(repos)
    lines = coverage_report.target_lines(repos)
    assert lines[0].startswith("overall: rewritten 2 of 3 calls (66.7%)") and lines[0].endswith("NOT met")
    assert lines[-1] == "repositories below 85%: alpha 50.0%"


def test_compare_shows_the_change(tmp_path):
    repos, _ = coverage_report.coverage(_report(tmp_path))
    old = {name: coverage_report.RepoCoverage(name, rewritten=0, left=stats.left + stats.left)
           for name, stats in repos.items()}
    assert "| alpha | 2 | 1 (+1) | 1 (-1) | 50.0 (+50.0) |" in coverage_report.repo_table(repos, old)


def test_monitor_findings_are_not_log_calls():
    """A PM4xx finding (a monitor string no code puts) is not a call: it changes neither the calls nor the rate."""
    finding = {"file": "repo/a.py", "line": 3, "code": "PM101", "severity": "rewritten"}
    monitor = {"file": "repo/conf.yaml", "line": 1, "code": "PM401", "severity": "manual"}
    repos, _ = coverage_report.coverage({"findings": [finding, monitor], "files": []}, root="")
    assert repos["repo"].rewritten == 1 and not repos["repo"].left
