"""Analysis cases of issue 14 (coverage): ``**kw`` arguments filled by a dict the function builds
(put_migrate.analyze.local_kwargs), the ``isinstance(v, Metric)`` test that marks a class's mappings as possibly
holding Metric objects, and the advice of calls left (removed 1.x hooks, helpers reached from a non-hook)."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
import pytest

from put_migrate.analyze.local_kwargs import local_expansions, optional_keywords
from put_migrate.analyze.metric_values import tests_metric_objects as class_tests_metric_objects


def _expansions(body: str) -> dict[str, list[tuple[str, str]]]:
    function = cst.parse_module(f"def training_step(self, batch):\n{body}").body[0]
    assert isinstance(function, cst.FunctionDef)
    call = m.findall(function, m.Call(func=m.Attribute(attr=m.Name("log"))))[0]
    statement = next(
        s for s in m.findall(function, m.SimpleStatementLine()) if m.findall(s, m.MatchIfTrue(lambda n: n is call))
    )
    found = local_expansions(call, statement, function)  # type: ignore[arg-type]
    code = cst.Module(body=[]).code_for_node
    return {name: [(key, code(value)) for key, value in items] for name, items in found.items()}


def test_literal_values_as_written_others_read_from_the_dict() -> None:
    body = '    kw = {"prog_bar": True, "batch_size": out.get("n")}\n    self.log("x", v, **kw)\n'
    assert _expansions(body) == {"kw": [("prog_bar", "True"), ("batch_size", 'kw["batch_size"]')]}


def test_a_call_in_a_nested_block_after_the_dict() -> None:
    body = '    kw = {"prog_bar": True}\n    if v:\n        self.log("x", v, **kw)\n'
    assert _expansions(body) == {"kw": [("prog_bar", "True")]}


def test_an_attribute_or_keyword_of_the_same_name_is_not_a_use() -> None:
    body = '    kw = {"batch_size": self.kw.get(kw=1)}\n    self.log("x", v, **kw)\n'
    assert _expansions(body) == {"kw": [("batch_size", 'kw["batch_size"]')]}


@pytest.mark.parametrize(
    "body",
    [
        '    kw = {"prog_bar": True}\n    kw["logger"] = False\n    self.log("x", v, **kw)\n',  # changed
        '    if v:\n        kw = {"prog_bar": True}\n    self.log("x", v, **kw)\n',  # built in another block
        '    self.log("x", v, **kw)\n    kw = {"prog_bar": True}\n',  # built after the call
        '    kw = {key: True}\n    self.log("x", v, **kw)\n',  # a key that is not a literal
        '    kw = {"a": 1}\n    kw = {"prog_bar": True}\n    self.log("x", v, **kw)\n',  # bound twice
        '    kw = dict(prog_bar=True)\n    self.log("x", v, **kw)\n',  # not a dict literal
        '    kw = {"prog_bar": True, **more}\n    self.log("x", v, **kw)\n',  # a ** inside the dict
    ],
)
def test_dicts_that_are_not_expanded(body: str) -> None:
    assert _expansions(body) == {}


def test_optional_keywords_are_those_read_back() -> None:
    items = (("prog_bar", cst.Name("True")), ("batch_size", cst.parse_expression('kw["batch_size"]')))
    assert optional_keywords({"kw": items}) == frozenset({"batch_size"})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("class A:\n    def f(self, m):\n        return isinstance(m, torchmetrics.metric.Metric)\n", True),
        ("class A:\n    def f(self, m):\n        return isinstance(m, (Tensor, Metric))\n", True),
        ("class A:\n    def f(self, m):\n        return isinstance(m, MetricCollection)\n", False),
        ("class A:\n    def f(self, m):\n        return isinstance(m, Tensor)\n", False),
    ],
)
def test_tests_metric_objects(source: str, expected: bool) -> None:
    node = cst.parse_module(source).body[0]
    assert isinstance(node, cst.ClassDef)
    assert class_tests_metric_objects(node) is expected


def test_a_removed_1x_epoch_end_hook_is_named_as_such() -> None:
    """Lightning 2 refuses to run a module with ``validation_epoch_end``: the advice names the removal and the
    hook that replaces it, not a missing caller."""
    from pathlib import Path

    from put_migrate.transform import migrate_source

    path = Path(__file__).resolve().parent.parent / "fixtures" / "helpers" / "removed_1x_epoch_end.in.py"
    findings = [f for f in migrate_source(path.read_text()).findings if f.code.startswith("PM2")]
    assert [f.code for f in findings] == ["PM205", "PM205"]  # the helper's `**` is not what leaves it
    assert all("removed in Lightning 2.0" in f.message for f in findings)
    assert "`on_validation_epoch_end`" in findings[0].message
    assert "`on_test_epoch_end`" in findings[1].message


def test_a_helper_reached_from_a_non_hook_names_the_change() -> None:
    """stable-diffusion: ``log_images`` (called by a callback, from its own hooks) reaches the logging helper
    through ``shared_step``: the advice says to return the values from ``shared_step`` and log them in its hooks."""
    from put_migrate.transform import migrate_source

    source = (
        "import lightning.pytorch as pl\n\n\n"
        "class M(pl.LightningModule):\n"
        "    def write_logs(self, loss):\n"
        "        self.log('loss', loss)\n\n"
        "    def shared_step(self, batch):\n"
        "        loss = batch.sum()\n"
        "        self.write_logs(loss)\n"
        "        return loss\n\n"
        "    def training_step(self, batch, batch_idx):\n"
        "        return self.shared_step(batch)\n\n"
        "    def log_images(self, batch):\n"
        "        self.shared_step(batch)\n"
    )
    (finding,) = [f for f in migrate_source(source).findings if f.code == "PM205"]
    assert "called from `log_images`" in finding.message
    assert "return the values from `shared_step` and log them in the hooks that call it" in finding.message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("return torch.tensor(klw).to(self.device)", True),
        ("return _compute_kl_weight(self.current_epoch)", True),
        ("return 1 - self.kl_weight", True),
        ("return self._acc", False),  # an attribute: may be a Metric
        ("return self._acc.to(self.device)", False),
        ("return getattr(self, 'acc')", False),
        ("return MeanMetric()", False),
        ("if self.x:\n        return 1.0\n    return self.y", False),  # every return must compute a value
    ],
)
def test_property_returns_a_value(body: str, expected: bool) -> None:
    import ast

    from put_migrate.value_properties import returns_a_value

    method = ast.parse(f"@property\ndef p(self):\n    {body}\n").body[0]
    assert isinstance(method, ast.FunctionDef)
    assert returns_a_value(method) is expected
    method.decorator_list = []
    assert not returns_a_value(method)  # only properties
