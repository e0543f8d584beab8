"""The pure helpers of ``benchmarks/real_modules.py`` (the benchmark itself installs packages and trains: not CI)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load():
    spec = importlib.util.spec_from_file_location("put_migrate_real_modules", ROOT / "benchmarks" / "real_modules.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


real_modules = _load()

SOURCE = '''
class Base:
    def training_step(self, batch, batch_idx):
        self.log("a", 1)
        self.log_dict({"b": 2})
        other.log("not self", 3)

    class Inner:
        def hook(self):
            self.log("inner", 4)


class Child(Base):
    def validation_step(self, batch, batch_idx):
        def nested():
            self.log("nested", 5)
        nested()
'''


def test_log_calls_are_counted_per_enclosing_class():
    assert real_modules.log_calls_by_class(SOURCE) == {"Base": [4, 5], "Base.Inner": [10], "Child": [16]}


def test_class_spans_cover_top_level_classes():
    assert real_modules.class_spans(SOURCE) == {"Base": (2, 10), "Child": (13, 17)}


def test_count_hierarchy_counts_calls_gone_from_the_migrated_copy_and_the_codes_left(tmp_path):
    original, migrated = tmp_path / "original", tmp_path / "migrated"
    for folder, text in ((original, SOURCE), (migrated, SOURCE.replace('self.log("a", 1)', 'self.put("a", 1)'))):
        (folder / "pkg").mkdir(parents=True)
        (folder / "pkg" / "m.py").write_text(text)
    findings = [
        {"file": "migrated/pkg/m.py", "line": 4, "code": "PM101", "severity": "rewritten"},
        {"file": "migrated/pkg/m.py", "line": 5, "code": "PM205", "severity": "manual"},
        {"file": "migrated/pkg/m.py", "line": 16, "code": "PM218", "severity": "manual"},  # in Child, not asked
    ]
    calls, rewritten, left = real_modules.count_hierarchy([("pkg/m.py", "Base")], original, migrated, findings)
    assert (calls, rewritten, dict(left)) == (2, 1, {"PM205": 1})


def test_results_table_says_why_a_module_did_not_run():
    done = real_modules.Result("repo", "Model", calls=3, rewritten=3, equivalent=True, classes=["a.py:Model"],
                               logged_keys=["x", "y"], logger_calls=7)
    partial = real_modules.Result("repo", "Other", calls=2, rewritten=1, left={"PM205": 1}, equivalent=False,
                                  differences=["final weights differ: ['w']"])
    failed = real_modules.Result("other", "Broken", error="environment: install did not finish in 600 s")
    lines = real_modules.results_table([done, partial, failed]).splitlines()
    assert lines[0].startswith("| repository | module |")
    assert lines[2] == "| repo | Model | 1 | 3 | 3 | - | yes | yes | 7 logger calls, 2 keys, same |"
    assert lines[3] == "| repo | Other | - | 2 | 1 | PM205 1 | no | no | final weights differ: ['w'] |"
    assert lines[4] == "| other | Broken | - | - | - | - | - | - | environment: install did not finish in 600 s |"


def test_parse_args_limits_the_run_to_known_repositories():
    args = real_modules.parse_args(["--corpus", "c", "--only", "torchgeo", "lightly", "--install-timeout", "60"])
    assert args.only == ["torchgeo", "lightly"] and args.install_timeout == 60 and args.corpus == Path("c")
    with pytest.raises(SystemExit):
        real_modules.parse_args(["--corpus", "c", "--only", "no-such-repo"])
    with pytest.raises(SystemExit):  # no default corpus
        real_modules.parse_args([])


def test_every_module_names_a_known_repository_and_build_function():
    for module in real_modules.MODULES:
        assert module.repo in real_modules.REPOS
        assert callable(getattr(real_modules, module.build))
    for repo in real_modules.REPOS.values():
        assert not repo.shares or not real_modules.REPOS[repo.shares].shares  # one step, to an environment it makes
