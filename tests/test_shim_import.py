"""``import shim`` without the runtime extra says which extra to install."""

from __future__ import annotations

import subprocess
import sys


def test_import_without_torch_names_the_runtime_extra():
    code = "import sys; sys.modules['torch'] = None\nimport shim"  # None: `import torch` fails as if not installed
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError:") and "put-migrate[runtime]" in last
