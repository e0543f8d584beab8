"""The data tables: the hook table matches Lightning's, every rule code is documented, LogCall records are plain."""

from __future__ import annotations

import re
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from put_migrate.analyze import analyze_class
from put_migrate.hooks import FORBIDDEN_HOOKS, HOOKS
from put_migrate.lightning_classes import ImportMap, lightning_classes
from put_migrate.rules import RULES

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("package", ["lightning.pytorch", "pytorch_lightning"])
def test_hook_table_matches_lightning(package: str) -> None:
    module = pytest.importorskip(f"{package}.trainer.connectors.logger_connector.fx_validator")
    functions = module._FxValidator.functions
    assert set(functions) == set(HOOKS) | FORBIDDEN_HOOKS
    for name, options in functions.items():
        if options is None:
            assert name in FORBIDDEN_HOOKS
            continue
        spec = HOOKS[name]
        assert (spec.default_on_step, spec.default_on_epoch) == (options["default_on_step"], options["default_on_epoch"])
        assert spec.epoch_only == (options["allowed_on_step"] == (False,))


def test_hook_batch_parameters_match_lightning_signatures() -> None:
    pl = pytest.importorskip("lightning.pytorch")
    import inspect

    for name, spec in HOOKS.items():
        for cls, offset in ((pl.LightningModule, 1), (pl.Callback, 3)):
            if not hasattr(cls, name):
                continue
            params = list(inspect.signature(getattr(cls, name)).parameters)
            if "args" in params:  # training_step(self, *args, **kwargs): documented as (batch, batch_idx)
                continue
            if spec.batch_param is not None:
                assert params[spec.batch_param + offset] == "batch", (cls, name)
            if spec.dataloader_idx_param is not None:
                assert params[spec.dataloader_idx_param + offset] == "dataloader_idx", (cls, name)


def test_every_rule_is_documented() -> None:
    text = (ROOT / "docs" / "rules.md").read_text()
    for code in RULES:
        assert f"## {code}" in text, code


def test_every_expected_code_exists() -> None:
    for path in (ROOT / "fixtures").rglob("*.py"):
        for code in re.findall(r"# expect: (PM\d{3})", path.read_text()):
            assert code in RULES, (path, code)


def _calls(source: str):
    module = cst.parse_module(source)
    imports = ImportMap.of(module)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    (cls,) = lightning_classes(module, imports)
    return analyze_class(cls, imports, positions).calls


def test_log_call_record() -> None:
    (call,) = _calls(
        "import lightning.pytorch as pl\n"
        "class M(pl.LightningModule):\n"
        "    def validation_step(self, batch, batch_idx, dataloader_idx=0):\n"
        "        self.log('v', 1.0, reduce_fx='AVG', sync_dist=True, rank_zero_only=True)\n"
    )
    assert (call.hook, call.line, call.column) == ("validation_step", 4, 8)
    assert call.spec is not None and call.spec.stage == "validation"
    assert (call.on_step, call.on_epoch, call.reduce, call.sync) == (False, True, "mean", False)
    assert (call.batch_param, call.dataloader_idx_param, call.problem) == ("batch", "dataloader_idx", None)
    assert [item.name for item in call.items] == ["v"]


@pytest.mark.parametrize(
    "imports, base, kind",
    [
        ("import lightning.pytorch as pl", "pl.LightningModule", "module"),
        ("import lightning as L", "L.LightningModule", "module"),
        ("import lightning", "lightning.pytorch.LightningModule", "module"),
        ("from pytorch_lightning import LightningModule as LM", "LM", "module"),
        ("from lightning.pytorch.core.module import LightningModule", "LightningModule", "module"),
        ("from lightning.pytorch.callbacks import Callback", "Callback", "callback"),
        ("import pytorch_lightning as pl", "pl.Callback", "callback"),
    ],
)
def test_lightning_classes(imports: str, base: str, kind: str) -> None:
    module = cst.parse_module(f"{imports}\nclass C({base}):\n    pass\nclass D(object):\n    pass\n")
    (found,) = lightning_classes(module, ImportMap.of(module))
    assert (found.name, found.kind) == ("C", kind)


def test_unrelated_log_methods_are_not_lightning() -> None:
    module = cst.parse_module("import torch\nclass C(torch.nn.Module):\n    def f(self):\n        self.log('x', 1)\n")
    assert lightning_classes(module, ImportMap.of(module)) == []
