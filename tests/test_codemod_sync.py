"""Synced step values: ``reduce_step_values`` (numbers too), packed where neighbouring values share op and group."""

from __future__ import annotations

import textwrap

import libcst as cst

from put_migrate.transform import migrate_source

HEADER = "import lightning.pytorch as pl\n\n\nclass M(pl.LightningModule):\n    def training_step(self, batch, batch_idx):\n"


def _step(body: str) -> str:
    source = HEADER + textwrap.indent(textwrap.dedent(body), " " * 8)
    result = migrate_source(source)
    cst.parse_module(result.source)
    assert migrate_source(result.source).source == result.source  # idempotent
    start = result.source.index("def training_step")
    end = result.source.find("\n    def ", start + 1)
    return result.source[start : end if end > 0 else None]


def test_a_number_is_reduced_not_detached():
    out = _step('self.log("lr", 0.1, sync_dist=True)\n')
    assert '(lr,) = reduce_step_values(self.trainer, 0.1, reduce_op="mean")' in out
    assert "detach" not in out


def test_consecutive_values_share_one_reduction():
    out = _step(
        """
        self.log("a", x.item(), sync_dist=True)
        self.log("b", y, sync_dist=True)
        self.log("c", z, sync_dist=True, reduce_fx="sum")
        """
    )
    assert 'a, b = reduce_step_values(self.trainer, x.item(), y, reduce_op="mean")' in out
    assert '(c,) = reduce_step_values(self.trainer, z, reduce_op="sum")' in out
    assert out.index('self.put("a"') < out.index('self.put("b"') < out.index("(c,)")


def test_values_keep_their_order_of_evaluation():
    # "b" is also aggregated, so its value is bound first: "a"'s expression is bound before it.
    out = _step(
        """
        self.log("a", f(), sync_dist=True)
        self.log("b", g(), sync_dist=True, on_epoch=True)
        """
    )
    assert out.index("= f()") < out.index("= g()") < out.index("reduce_step_values")
    assert out.count("reduce_step_values") == 1


def test_different_groups_or_separated_statements_are_not_packed():
    out = _step(
        """
        self.log("a", x, sync_dist=True, sync_dist_group=g1)
        self.log("b", y, sync_dist=True, sync_dist_group=g2)
        print(x)
        self.log("c", y, sync_dist=True, sync_dist_group=g2)
        """
    )
    assert out.count("reduce_step_values(") == 3


def test_log_dict_items_share_one_reduction():
    out = _step('self.log_dict({"a": x, "b": 1.0}, sync_dist=True, reduce_fx="max")\n')
    assert 'a, b = reduce_step_values(self.trainer, x, 1.0, reduce_op="max")' in out
