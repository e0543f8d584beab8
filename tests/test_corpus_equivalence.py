"""The equivalence corpus (fixtures/corpus/): migrate every module, then train original and migrated side by side.

Each corpus file is a self-contained, trainable ``self.log`` module (docs/equivalence.md has the coverage table).
Per file this checks that the codemod's output parses, that a second migration changes nothing, that no call is left
for a human unless the file declares ``EXPECT_MANUAL = {"PM2xx", ...}`` (then exactly those codes), that every log
call still in the output is one of those (none skipped silently), and that the migrated module trains and logs
exactly like the original (``shim.testing``). Three modules are also resumed from a checkpoint of the original, and
the worked example of docs/equivalence.md is run. Module-level settings a file may set:

- ``TRAINER_KWARGS``: merged over ``{"max_epochs": 2, "log_every_n_steps": 1}``;
- ``CALLBACKS``: callables (classes, ``functools.partial``) building the callbacks of one run;
- ``STAGES``: Trainer methods to run (default ``("fit",)``, plus ``"test"`` when the module has a ``test_step``);
- ``DDP = True``: run as 2 processes on gloo (``strategy="ddp_spawn"``) instead of one process;
- ``XFAIL = "<reason>"``: a known codemod/shim gap, marked ``xfail(strict=True)`` so a fix is noticed.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from put_migrate.rules import Severity
from put_migrate.transform import migrate_source
from shim.testing import FileModuleFactory, differences, load_file, record_run, trainable_class_name

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "corpus"
DEFAULT_KWARGS = {"max_epochs": 2, "log_every_n_steps": 1}


def _xfail_reason(path: Path) -> str | None:
    """``XFAIL = "..."`` read from the source (before training, so the mark is known at collection time)."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["XFAIL"]:
            return ast.literal_eval(node.value)
    return None


def _cases():
    for path in sorted(CORPUS.glob("*.py")):
        reason = _xfail_reason(path)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(path, id=path.stem, marks=marks)


CASES = list(_cases())


@dataclass(frozen=True)
class _Callbacks:
    """The callbacks of one run, built from a file's ``CALLBACKS``; picklable, so DDP ranks can build their own."""

    path: str

    def __call__(self) -> list:
        return [make() for make in load_file(self.path).CALLBACKS]


def _settings(path: Path, class_name: str):
    module = load_file(path)
    cls = getattr(module, class_name)
    own = {n for k in cls.__mro__ if k.__module__.split(".")[0] not in ("lightning", "pytorch_lightning") for n in vars(k)}
    stages = getattr(module, "STAGES", ("fit", "test") if "test_step" in own else ("fit",))
    kwargs = {**DEFAULT_KWARGS, **getattr(module, "TRAINER_KWARGS", {})}
    return kwargs, tuple(stages), _Callbacks(str(path)) if getattr(module, "CALLBACKS", None) else None


def _log_calls(source: str) -> list[int]:
    """Lines of ``self.log``/``self.log_dict``/``pl_module.log(_dict)`` calls in ``source``."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("log", "log_dict")
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in ("self", "pl_module")
    ]


def _migrate(path: Path, tmp_path: Path) -> tuple[Path, list]:
    original = load_file(path)
    result = migrate_source(path.read_text(), str(path))
    ast.parse(result.source)  # the output is valid Python
    manual = {f.code for f in result.findings if f.severity is Severity.MANUAL}
    expected = set(getattr(original, "EXPECT_MANUAL", set()))
    assert manual == expected, f"calls left for a human: {sorted(manual)}, expected {sorted(expected)}: " + "; ".join(
        f"line {f.line} {f.code} {f.message}" for f in result.findings if f.severity is Severity.MANUAL
    )
    assert result.changed, "the codemod rewrote nothing"
    assert migrate_source(result.source, str(path)).source == result.source, "a second migration changed the text"
    # Every call gets exactly one finding (docs/rules.md): a call still in the output must be one left for a human.
    left = _log_calls(result.source)
    assert len(left) == sum(f.severity is Severity.MANUAL for f in result.findings), (
        f"log calls left in the output without a finding: lines {left}"
    )
    # Same stem in a fresh folder: a checkpoint or log path built from the module never differs by name.
    target = tmp_path / "migrated" / path.name
    target.parent.mkdir()
    target.write_text(result.source)
    return target, result.findings


def _compare(a, b, label):
    pairs = list(zip(a, b)) if isinstance(a, list) else [(a, b)]
    problems = [f"rank {r}: {p}" if len(pairs) > 1 else p for r, (x, y) in enumerate(pairs) for p in differences(x, y)]
    assert not problems, f"{label} trains differently from the original:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", CASES)
def test_corpus_module_migrates_and_trains_the_same(path, tmp_path):
    migrated_path, _ = _migrate(path, tmp_path)
    original = load_file(path)
    name = trainable_class_name(original)
    assert name is not None, "corpus modules must define a trainable LightningModule"
    kwargs, stages, callbacks_a = _settings(path, name)
    _, _, callbacks_b = _settings(migrated_path, name)
    if getattr(original, "DDP", False):
        kwargs = {**kwargs, "strategy": "ddp_spawn", "devices": 2, "enable_progress_bar": False}
    run = {"trainer_kwargs": kwargs, "stages": stages}
    a = record_run(FileModuleFactory(str(path), name), callbacks=callbacks_a, workdir=tmp_path / "a", **run)
    b = record_run(FileModuleFactory(str(migrated_path), name), callbacks=callbacks_b, workdir=tmp_path / "b", **run)
    _compare(a, b, path.stem)
    records = a if isinstance(a, list) else [a]
    assert any(r.logger_calls or r.final_callback_metrics for r in records), "the original logged nothing"


RESUME_CASES = ["train_step_forked_prog_bar", "metric_forward_train", "val_epoch_hooks"]


@pytest.mark.parametrize("stem", RESUME_CASES)
def test_corpus_module_resumes_the_same(stem, tmp_path):
    """Train the original 1 epoch, save a checkpoint, resume original and migrated from it for 2 more epochs."""
    import lightning.pytorch as pl

    path = CORPUS / f"{stem}.py"
    migrated_path, _ = _migrate(path, tmp_path)
    original = load_file(path)
    name = trainable_class_name(original)
    pl.seed_everything(0, verbose=False)
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
                         default_root_dir=tmp_path / "first", accelerator="cpu")
    trainer.fit(getattr(original, name)())
    checkpoint = tmp_path / "epoch1.ckpt"
    trainer.save_checkpoint(checkpoint)
    run = {"trainer_kwargs": {**DEFAULT_KWARGS, "max_epochs": 3}, "stages": ("fit",), "ckpt_path": str(checkpoint)}
    a = record_run(FileModuleFactory(str(path), name), workdir=tmp_path / "a", **run)
    b = record_run(FileModuleFactory(str(migrated_path), name), workdir=tmp_path / "b", **run)
    _compare(a, b, f"{stem} (resumed)")
    assert a.logger_calls and a.logger_calls[0][1].get("epoch") == 1, "the run did not resume at epoch 1"


def test_corpus_is_large_enough():
    assert len(CASES) >= 45
    assert sum(bool(getattr(load_file(p.values[0]), "DDP", False)) for p in CASES) <= 11  # DDP cases are slow


def test_docs_worked_example_runs():
    """The worked example of docs/equivalence.md runs as written (and fails when the migration is wrong)."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "equivalence.md").read_text()
    (example,) = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "def test_migrated_model" in b]
    namespace: dict = {"__name__": "docs_equivalence_example"}
    exec(compile(example, "docs/equivalence.md", "exec"), namespace)
    namespace["test_migrated_model_trains_the_same"]()
    broken: dict = {"__name__": "docs_equivalence_example_broken"}
    exec(compile(example.replace("weight=len(x)", "weight=1"), "docs/equivalence.md", "exec"), broken)
    with pytest.raises(AssertionError, match="'val_loss': original"):
        broken["test_migrated_model_trains_the_same"]()


def test_docs_cover_every_corpus_module():
    text = (Path(__file__).resolve().parent.parent / "docs" / "equivalence.md").read_text()
    missing = [p.id for p in CASES if f"`{p.id}`" not in text]
    assert not missing, f"docs/equivalence.md does not list {missing}"
