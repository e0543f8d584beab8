# The development loop. `make fast` after each edit of the codemod, `make lint` and `make test` before a commit.
PY ?= .venv/bin/python

.PHONY: venv fast test lint fix corpus

venv:  ## .venv with the runtime and dev extras (idempotent)
	./scripts/bootstrap.sh

fast: venv  ## golden fixtures, rule catalogue, plan unit tests: seconds
	$(PY) -m pytest -q tests/test_codemod_fixtures.py tests/test_rules.py tests/test_plan.py tests/test_analyze_concerns.py

test: venv  ## the full suite: exactly what .ci/run runs first
	$(PY) -m pytest -n 2 -q

lint: venv  ## ruff and mypy, as .ci/run runs them
	$(PY) -m ruff check put_migrate shim
	$(PY) -m mypy

fix: venv  ## ruff's safe fixes
	$(PY) -m ruff check --fix put_migrate shim

corpus: venv  ## coverage over a folder of real repositories (CORPUS=path; docs/real-codebases.md)
	$(PY) -m put_migrate --check --report /tmp/put-migrate-corpus.json --format json $(CORPUS) > /dev/null || true
	$(PY) benchmarks/coverage_report.py /tmp/put-migrate-corpus.json
