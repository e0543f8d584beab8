#!/usr/bin/env bash
# Create .venv with the runtime and dev extras. Idempotent: a no-op when pyproject.toml is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp=.venv/.put-migrate-stamp
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
pip_install() {
  # This machine's pip configuration names local indexes that may be absent; those warnings are noise.
  .venv/bin/python -m pip install -q "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
}
pip_install --upgrade pip
# torch first, pinned: the local CPU wheel. Anything else would pull CUDA packages (gigabytes).
pip_install "torch==2.13.0"
pip_install -e ".[runtime,classic,dev]"
echo "$want" > "$stamp"
