"""A seed-fixed slice of the fuzz campaign (``benchmarks/fuzz.py``): the same inputs every run, a few seconds.

The promises: no crash (nothing raises, no PM305), never a written file that does not re-parse, and the very bytes
given back when nothing is rewritten. The full campaign and its figures: docs/benchmarks.md.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_fuzz():
    spec = importlib.util.spec_from_file_location("put_migrate_fuzz", ROOT / "benchmarks" / "fuzz.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fuzz = _load_fuzz()


@pytest.mark.parametrize("start", [0, 40])
def test_mutated_fixtures_keep_the_promises(start):
    tally = fuzz.run_mutations(fuzz.seed_files(), seed=0, start=start, stop=start + 40, tree=True)
    assert tally.inputs == 40 and tally.on_disk == 4 and tally.trees == 1
    assert tally.changed and tally.unchanged  # the slice exercises both sides
    assert [str(f) for f in tally.failures] == []


def test_hypothesmith_programs_keep_the_promises():
    pytest.importorskip("hypothesmith")
    tally = fuzz.run_hypothesmith(examples=15, seed=0)
    assert tally.inputs == 30
    assert [str(f) for f in tally.failures] == []


def test_the_checks_can_fail(monkeypatch):
    """The three promises are really checked: a codemod that breaks each of them is caught."""
    from put_migrate import api

    data = b"import lightning\nclass M(lightning.LightningModule):\n    def f(self):\n        self.log('a', 1)\n"
    broken = {
        "crash": lambda d, p, mode: (_ for _ in ()).throw(RuntimeError("boom")),
        "reparse": lambda d, p, mode: (api.FileResult(path=p, status=api.FileStatus.CHANGED), b"def f(:\n"),
        "identity": lambda d, p, mode: (api.FileResult(path=p, status=api.FileStatus.UNCHANGED), d + b"\n"),
    }
    for promise, migrate in broken.items():
        monkeypatch.setattr(api, "migrate_bytes", lambda d, p, *, mode=api.Mode.WRITE, m=migrate: m(d, p, mode))
        tally = fuzz.Tally()
        fuzz.check(data, "hand-made", tally)
        assert [f.promise for f in tally.failures] == [promise]


def test_inputs_are_rebuilt_from_their_recipe():
    seeds = fuzz.seed_files()
    assert fuzz.mutated_input(seeds, 3, 17) == fuzz.mutated_input(seeds, 3, 17)
    assert fuzz.mutated_input(seeds, 3, 17) != fuzz.mutated_input(seeds, 3, 18)
