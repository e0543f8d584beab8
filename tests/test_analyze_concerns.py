"""The analysis's option concerns, one function each: a value, or the problem that leaves the call."""

from __future__ import annotations

import libcst as cst
import pytest

from put_migrate.analyze.arguments import LOG_PARAMS, bind_args
from put_migrate.analyze.options import flags, reduction, step_and_epoch
from put_migrate.hooks import HOOKS
from put_migrate.lightning_classes import ImportMap
from put_migrate.rules import Problem


def _args(call: str):
    node = cst.parse_expression(call)
    assert isinstance(node, cst.Call)
    return bind_args(node, LOG_PARAMS)


def test_bind_args_by_position_and_keyword() -> None:
    args = _args('self.log("x", v, True, sync_dist=False)')
    assert not isinstance(args, Problem)
    assert {k: cst.Module(body=[]).code_for_node(v) for k, v in args.items()} == {
        "name": '"x"', "value": "v", "prog_bar": "True", "sync_dist": "False"
    }


@pytest.mark.parametrize(
    ("call", "detail"),
    [
        ('self.log("x", *v)', "`*` argument"),
        ('self.log("x", v, **opts)', "`**` argument"),
        ('self.log("x", v, bogus=1)', "unknown argument `bogus`"),
    ],
)
def test_bind_args_problems(call: str, detail: str) -> None:
    assert _args(call) == ("PM201", detail)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ('self.log("x", v, prog_bar=True, logger=None)', {"prog_bar": True}),
        ('self.log("x", v, on_step=flag)', ("PM203", "on_step=flag")),
        ('self.log("x", v, sync_dist=ddp)', ("PM202", "sync_dist=ddp")),
        ('self.log("x", v, enable_graph=graph)', ("PM202", "enable_graph=graph")),
        ('self.log("x", v, metric_attribute="acc")', {}),
    ],
)
def test_flags(call: str, expected) -> None:
    assert flags(_args(call)) == expected


def test_step_and_epoch_from_the_hook() -> None:
    assert step_and_epoch({}, HOOKS["training_step"], "training_step") == (True, False)
    assert step_and_epoch({"on_epoch": True}, HOOKS["training_step"], "training_step") == (True, True)
    assert step_and_epoch({"on_step": False}, HOOKS["training_step"], "training_step") == (
        "PM213", "on_step=False and on_epoch=False"
    )
    epoch_end = step_and_epoch({"on_step": True}, HOOKS["on_train_epoch_end"], "on_train_epoch_end")
    assert isinstance(epoch_end, Problem) and epoch_end.code == "PM213"


@pytest.mark.parametrize(
    ("reduce_fx", "expected"),
    [
        ('"AVG"', "mean"),
        ("torch.max", "max"),
        ("sum", "sum"),
        ("stage", "min"),  # a name bound to a literal where the call runs
        ('"median"', ("PM209", 'reduce_fx="median"')),
        ("np.mean", ("PM209", "reduce_fx=np.mean")),
    ],
)
def test_reduction(reduce_fx: str, expected) -> None:
    imports = ImportMap.of(cst.parse_module("import torch\nimport numpy as np\n"))
    assert reduction(_args(f'self.log("x", v, reduce_fx={reduce_fx})'), {"stage": "min"}, imports) == expected


def test_reduction_defaults_to_mean() -> None:
    assert reduction(_args('self.log("x", v)'), {}, ImportMap.of(cst.parse_module(""))) == "mean"


def test_a_mapping_a_hook_passes_from_an_attribute_names_where_the_class_assigns_it() -> None:
    from pathlib import Path

    from put_migrate.transform import migrate_source

    path = Path(__file__).resolve().parent.parent / "fixtures" / "manual" / "log_dict_metrics_from_helper.in.py"
    (finding,) = [f for f in migrate_source(path.read_text(), str(path)).findings if f.code == "PM215"]
    assert (
        "`metrics` (`training_step` passes self.train_metrics, assigned in `initialize_train_metrics` by unpacking"
        " `self._create_metric_components(...)`: its keys and values are known only at run time)"
    ) in finding.message
