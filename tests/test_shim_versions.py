"""The supported Lightning range (shim.versions) and the feature checks that let the shim run on 2.0 through 2.6.

The full proof per release is the compatibility stage (scripts/compat.sh), which runs the pair, DDP and fixture
equivalence tests in a venv per Lightning release; these are the unit-level checks, run everywhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from shim import routing
from shim.testing import seed_quietly
from shim.versions import UnsupportedLightningError, check_installed, check_package, is_supported

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("version", "expected"),
    [("2.0.0", True), ("2.0.9.post0", True), ("2.4.0", True), ("2.6.6", True), ("2.6.0rc1", True),
     ("1.9.5", False), ("2.7.0", False), ("2.7.0.dev0", False), ("2.10.0", False), ("3.0.0", False), ("dev", False)],
)
def test_supported_range(version, expected):
    assert is_supported(version) is expected


def test_an_unsupported_release_names_the_range_and_the_install_line():
    with pytest.raises(UnsupportedLightningError) as error:
        check_installed({"pytorch-lightning": "1.9.5"})
    message = str(error.value)
    assert ">=2.0,<2.7" in message and "pytorch-lightning 1.9.5" in message and "put-migrate[classic]" in message


def test_one_supported_distribution_is_enough():
    check_installed({"lightning": "2.6.6", "pytorch-lightning": "1.9.5"})
    check_installed({"lightning": "2.0.9"})
    check_installed({})  # no Lightning: PutMixin still records puts, the CLI needs none


def _fake_distribution(site: Path, name: str, version: str) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def test_importing_shim_under_an_unsupported_lightning_fails_clearly(tmp_path):
    for name in ("lightning", "pytorch-lightning"):
        _fake_distribution(tmp_path, name, "1.9.5")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    result = subprocess.run([sys.executable, "-c", "import shim"], env=env, capture_output=True, text=True)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("shim.versions.UnsupportedLightningError: put-migrate's runtime (shim) supports")
    assert ">=2.0,<2.7" in last and "lightning 1.9.5, pytorch-lightning 1.9.5" in last


def test_attaching_to_a_trainer_of_an_unsupported_release_fails_clearly(monkeypatch):
    package = types.ModuleType("pytorch_lightning")
    package.__version__ = "1.9.5"
    monkeypatch.setitem(sys.modules, "pytorch_lightning", package)
    connector_class = type("_LoggerConnector", (), {
        "__module__": "pytorch_lightning.trainer.connectors.logger_connector.logger_connector",
    })
    trainer = types.SimpleNamespace(_logger_connector=connector_class())
    with pytest.raises(UnsupportedLightningError, match=r"found pytorch-lightning 1\.9\.5"):
        routing.attach(trainer)
    check_package("pytorch_lightning", "2.0.9")


class _EvalLoop:
    def __init__(self, num_dataloaders, **attributes):
        self.num_dataloaders = num_dataloaders
        self.__dict__.update(attributes)


@pytest.mark.parametrize(
    ("loop", "expected"),
    [
        (None, False),
        (types.SimpleNamespace(), False),  # the fit loop: no dataloader count, train hooks get no suffix
        (_EvalLoop(2, _is_sequential=True), True),
        (_EvalLoop(2, _is_sequential=False), False),  # 2.1+'s non-sequential modes pass no dataloader_idx
        (_EvalLoop(1, _is_sequential=True), False),
        (_EvalLoop(2), True),  # Lightning 2.0: no _is_sequential, its eval loop always runs dataloaders in turn
        (_EvalLoop(1), False),
    ],
)
def test_dataloader_suffixes_follow_the_eval_loop(loop, expected):
    assert routing.dataloader_suffixes_apply(types.SimpleNamespace(_active_loop=loop)) is expected


def test_seeding_works_with_and_without_verbose():
    calls = []

    def seed_everything_24(seed, workers=False, verbose=True):
        calls.append((seed, verbose))

    def seed_everything_20(seed=None, workers=False):  # before 2.4: no verbose=
        calls.append((seed, "always"))

    seed_quietly(types.SimpleNamespace(seed_everything=seed_everything_24), 3)
    seed_quietly(types.SimpleNamespace(seed_everything=seed_everything_20), 4)
    assert calls == [(3, False), (4, "always")]


class _Connector20:
    """Lightning 2.0's connector state: an epoch-end flag, no ``_first_loop_iter``."""

    def __init__(self, trainer):
        self.trainer, self._epoch_end_reached = trainer, False


class _Connector21:
    """Lightning 2.1+: ``_first_loop_iter`` is None at the epoch end."""

    def __init__(self, trainer):
        self.trainer, self._first_loop_iter = trainer, True


@pytest.mark.parametrize("connector_class", [_Connector20, _Connector21])
def test_step_and_epoch_values_are_told_apart_on_every_release(connector_class):
    results = types.SimpleNamespace(training=True, dataloader_idx=None)
    connector = type("Routing", (routing._RoutingConnector, connector_class), {})(
        types.SimpleNamespace(_results=results, state=types.SimpleNamespace(fn=None, stage=None))
    )
    records = routing._Records()
    records.step[("training_step", "s", None)] = ("step value", frozenset({"loggers"}))
    records.epoch["e"] = ("epoch value", frozenset({"loggers"}), None)
    connector._put_records = {id(results): records}

    def merged():
        metrics = {"log": {}, "callback": {}, "pbar": {}}
        connector._put_merge(metrics)
        return metrics["log"]

    assert merged() == {"s": "step value"}
    if connector_class is _Connector20:
        connector._epoch_end_reached = True
    else:
        connector._first_loop_iter = None
    assert merged() == {"e": "epoch value"}
