"""The README's first command runs the bundled demo end to end and reports equivalence."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_reports_equivalence(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "+class Regressor(PutMixin, pl.LightningModule):" in out.stdout
    assert "EQUIVALENT" in out.stdout
