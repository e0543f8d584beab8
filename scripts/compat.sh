#!/usr/bin/env bash
# Compatibility stage (run by .ci/run after the main suite): the runtime under every supported Lightning line and
# Python 3.10.
#
#   scripts/compat.sh                 all targets below, then the suite on Python 3.10
#   scripts/compat.sh lightning==2.0.9.post0 py310   only these
#
# Each Lightning target gets its own venv (Python 3.11, the CPU torch of bootstrap.sh), made by installing
# `put-migrate[runtime]` (or `[classic]`) from this checkout beside the pinned release, which proves the extras
# resolve there; the tests then run against the checkout (PYTHONPATH), not the installed copy. Venvs are cached
# under $PUT_MIGRATE_COMPAT_CACHE (default ~/.cache/put-migrate-compat), keyed by a hash of what goes into them;
# a missing or broken entry is rebuilt, so a clean machine only takes longer.
set -euo pipefail
shopt -s inherit_errexit  # a failed install inside $(cached_venv ...) stops the stage
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3}
CACHE=${PUT_MIGRATE_COMPAT_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/put-migrate-compat}

# requirement | extra | Lightning package the tests import
TARGETS=(
  "lightning==2.0.9.post0|runtime|lightning.pytorch"
  "lightning==2.2.5|runtime|lightning.pytorch"
  "lightning==2.4.0|runtime|lightning.pytorch"
  "pytorch-lightning==2.6.6|classic|pytorch_lightning"
)
# What runs per target: pairs (self.log vs put), 2-process DDP on gloo, the version checks and documented
# differences, and golden fixtures trained before/after the codemod (one of them also under DDP).
SHIM_TESTS=(
  tests/test_shim_pairs.py tests/test_shim_collectives.py tests/test_shim_versions.py
  tests/test_shim_half_precision.py tests/test_known_differences.py tests/test_train_results_reset.py
  tests/test_eval_results_reset.py
)
FIXTURES_LIGHTNING=(
  train_batch/defaults train_batch/reduce_fx eval_batch/dataloader_idx epoch_hooks/epoch_end
  callbacks/callback_logs metrics/metric_objects metrics/eval_end_overridden train_batch/sync_dist_numbers
)
FIXTURES_CLASSIC=(packages/pytorch_lightning_alias packages/from_import_alias)
# torch: the CPU wheel (anything else pulls CUDA packages). setuptools: Lightning < 2.4 imports pkg_resources,
# which setuptools 81 removed; torch 2.13 needs >= 77.
CONSTRAINTS="torch==2.13.0
setuptools>=77,<81"
TEST_DEPS=("pytest>=8" "pytest-xdist>=3.5")

log() { printf '[compat] %s\n' "$*"; }

pip_install() {
  # This machine's pip configuration names local indexes that may be absent; those warnings are noise.
  "$1" -m pip install -q "${@:2}" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
}

# The project's requirements (not the rest of pyproject.toml: a new classifier or tool setting keeps the cache).
requirements() {
  "$PY" -c 'import json, tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]
print(json.dumps([p["requires-python"], p["dependencies"], p["optional-dependencies"]], sort_keys=True))'
}

# Print the path of a working venv for a key, building it when the cache has none (or a broken one).
# $1 name, $2 python, $3 import check, then pip install steps separated by "--". The key covers all of these and
# the project's requirements, not where the checkout lies.
cached_venv() {
  local name=$1 python=$2 check=$3
  shift 3
  local key
  key=$(printf '%s\n' "$name" "$("$python" -VV)" "$CONSTRAINTS" "${@//$ROOT/.}" "$(requirements)" \
    | sha256sum | cut -c1-16)
  local dir="$CACHE/$name-$key"
  if [ -x "$dir/bin/python" ] && [ -f "$dir/.complete" ] && "$dir/bin/python" -c "$check" 2>/dev/null; then
    echo "$dir"
    return
  fi
  mkdir -p "$CACHE" 2>/dev/null || { CACHE=$(mktemp -d); dir="$CACHE/$name-$key"; }
  rm -rf "$dir"
  "$python" -m venv "$dir" >&2
  local constraints="$dir/constraints.txt" step=()
  printf '%s\n' "$CONSTRAINTS" > "$constraints"
  pip_install "$dir/bin/python" --upgrade pip >&2
  for arg in "$@" --; do
    if [ "$arg" = "--" ]; then
      [ ${#step[@]} -eq 0 ] || pip_install "$dir/bin/python" -c "$constraints" "${step[@]}" >&2
      step=()
    else
      step+=("$arg")
    fi
  done
  # The tests import this checkout, never an installed copy of it.
  "$dir/bin/python" -m pip uninstall -q -y put-migrate >&2 2>/dev/null || true
  "$dir/bin/python" -W ignore -c "$check" >&2
  touch "$dir/.complete"
  echo "$dir"
}

SUMMARY=()

run_lightning() {
  local requirement=$1 extra=$2 package=$3
  local name=${requirement//==/-}
  local started=$SECONDS
  log "$requirement: venv"
  local venv
  venv=$(cached_venv "$name" "$PY" "import torch, torchmetrics, pytest, xdist, $package" \
    "torch==2.13.0" -- "$ROOT[$extra]" "$requirement" "${TEST_DEPS[@]}")
  local built=$((SECONDS - started))
  local fixtures=("${FIXTURES_LIGHTNING[@]}")
  [ "$package" = pytorch_lightning ] && fixtures=("${FIXTURES_CLASSIC[@]}")
  local ids=()
  for fixture in "${fixtures[@]}"; do ids+=("tests/test_fixture_equivalence.py::test_fixture_trains_the_same[$fixture]"); done
  log "$requirement: $("$venv/bin/python" -c "import $package as pl, torch; print(pl.__name__, pl.__version__, 'torch', torch.__version__)" 2>/dev/null)"
  local tested=$SECONDS
  (
    export PYTHONPATH=$ROOT PUT_MIGRATE_LIGHTNING=$package
    "$venv/bin/python" -m pytest -n 2 -q -p no:cacheprovider -W ignore::UserWarning "${SHIM_TESTS[@]}" "${ids[@]}"
  )
  SUMMARY+=("$requirement ($package): venv ${built}s, tests $((SECONDS - tested))s")
  log "${SUMMARY[-1]}"
}

run_py310() {
  local python=${PYTHON310:-}
  if [ -z "$python" ]; then
    for candidate in python3.10 "$(pyenv root 2>/dev/null)"/versions/3.10*/bin/python3.10 \
        "${HOME:-/root}"/.pyenv/versions/3.10*/bin/python3.10; do
      if "$candidate" -c "" 2>/dev/null; then python=$candidate; break; fi
    done
  fi
  [ -n "$python" ] || { log "no Python 3.10 found (set PYTHON310)"; return 1; }
  local started=$SECONDS
  log "Python 3.10 ($python): venv"
  local venv
  # PyPI's torch wheels for 3.10 are the CUDA builds (the CPU wheel on this machine is for 3.11): a large but
  # one-time download; the tests run on the CPU all the same.
  venv=$(cached_venv py310 "$python" "import torch, lightning, pytorch_lightning, pytest, xdist" \
    "torch==2.13.0" -- "$ROOT[runtime,classic,dev]")
  local built=$((SECONDS - started)) tested=$SECONDS
  (export PYTHONPATH=$ROOT; "$venv/bin/python" -m pytest -n 2 -q -p no:cacheprovider)
  SUMMARY+=("Python 3.10 full suite: venv ${built}s, tests $((SECONDS - tested))s")
  log "${SUMMARY[-1]}"
}

selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${TARGETS[@]%%|*}" py310)
for choice in "${selected[@]}"; do
  if [ "$choice" = py310 ]; then
    run_py310
    continue
  fi
  found=
  for target in "${TARGETS[@]}"; do
    if [ "${target%%|*}" = "$choice" ]; then
      IFS='|' read -r requirement extra package <<< "$target"
      run_lightning "$requirement" "$extra" "$package"
      found=1
    fi
  done
  [ -n "$found" ] || { log "unknown target $choice (known: ${TARGETS[*]%%|*} py310)"; exit 2; }
done
log "all passed"
printf '[compat] %s\n' "${SUMMARY[@]}"
