"""Monitored names (``monitors``): found in Python, YAML and JSON, matched with the names put to callbacks; the
fixture project ``fixtures/monitors/project`` declares its PM401 findings with ``# expect:`` comments."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from put_migrate import cli, monitors, report
from put_migrate.api import migrate_text
from put_migrate.rules import MONITOR_NOT_PUT

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "monitors" / "project"
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "report.schema.json").read_text())
_HEADER = re.compile(r"# expect: (PM\d{3}) line (\d+)")
_INLINE = re.compile(r"\S.*# expect: (PM\d{3})\s*$")


def _expected() -> set[tuple[str, str, int]]:
    expected = set()
    for path in sorted(PROJECT.rglob("*")):
        if path.suffix not in (".py", ".yaml"):
            continue
        name = str(path.relative_to(PROJECT))
        text = path.read_text()
        expected |= {(code, name, int(line)) for code, line in _HEADER.findall(text)}
        for number, line in enumerate(text.splitlines(), start=1):
            match = _INLINE.search(line)
            if match:
                expected.add((match.group(1), name, number))
    return expected | {(MONITOR_NOT_PUT.code, "conf/cli.json", 5)}  # JSON has no comments


def _check(root: Path, migrate: bool = True) -> monitors.Check:
    python = sorted(str(p.relative_to(root)) for p in root.glob("*.py"))
    configs = sorted(str(p.relative_to(root)) for p in (root / "conf").iterdir())
    findings = [f for p in python for f in migrate_text((root / p).read_text(), p)[1]] if migrate else []
    return monitors.check(python, configs, findings)


def test_fixture_findings(monkeypatch) -> None:
    monkeypatch.chdir(PROJECT)
    found = {(f.code, f.path, f.line) for f in _check(PROJECT).findings}
    assert found == _expected()


def test_found_in_every_kind_of_file(monkeypatch) -> None:
    monkeypatch.chdir(PROJECT)
    result = _check(PROJECT)
    by_source = {(m.source, m.name) for m, _ in result.monitors}
    assert {("python", "val_loss"), ("yaml", "val/loss"), ("json", "val_los")} <= by_source
    assert not any(m.name.startswith("${") for m, _ in result.monitors)  # interpolations are not checked
    scheduler = next(puts for m, puts in result.monitors if m.context == "dict")
    assert {(p.name, p.hook) for p in scheduler if p.how == "put"} == {("val_loss", "on_validation_epoch_compute")}


def test_migrated_tree_still_puts_every_monitor(tmp_path, monkeypatch) -> None:
    """After the rewrite (no log call left), the monitors are matched with the code's own put calls."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "conf").mkdir()
    for path in PROJECT.rglob("*"):
        if path.is_file():
            target = root / path.relative_to(PROJECT)
            text = path.read_text()
            target.write_text(migrate_text(text, path.name)[0] if path.suffix == ".py" else text)
    assert "self.log(" not in (root / "model.py").read_text()
    monkeypatch.chdir(root)
    result = _check(root, migrate=False)
    assert {(f.path, f.line) for f in result.findings} == {(p, line) for _, p, line in _expected()}
    epoch = next(puts for m, puts in result.monitors if m.name == "train_loss_epoch")
    assert [(p.how, p.hook) for p in epoch] == [("put", "on_train_epoch_compute")]


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("monitor: val_loss", "val_loss"),
        ("  monitor: 'val/acc'  # comment", "val/acc"),
        ('- monitor: "train_loss_epoch"', "train_loss_epoch"),
        ("monitor:", None),
        ("monitor_mode: max", None),
    ],
)
def test_yaml_line_scan(line: str, name: str | None) -> None:
    found = monitors._yaml_line_scan(line + "\n", "c.yaml")
    assert [m.name for m in found] == ([name] if name else [])


def test_yaml_without_pyyaml_falls_back_to_the_line_scan(monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_yaml(name, *args, **kwargs):
        if name == "yaml":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_yaml)
    text = (PROJECT / "conf" / "config.yaml").read_text()
    found, reader = monitors.scan_config(text, "config.yaml")
    assert reader == "line-scan"
    assert [(m.name, m.line) for m in found] == [
        ("val_loss", 5), ("val/loss", 8), ("${callbacks.model_checkpoint.monitor}", 11)
    ]


def test_dataloader_suffix_matches_a_name_put_per_dataloader() -> None:
    put = monitors.Put("val_acc", "m.py", 3, "put", "validation_step", per_dataloader=True)
    assert monitors._matches("val_acc/dataloader_idx_1", put)
    assert not monitors._matches("val_acc/dataloader_idx_1", monitors.Put("val_acc", "m.py", 3, "put"))


def test_callback_alias_is_a_name_put_to_callbacks() -> None:
    text = (
        "class M:\n"
        "    def training_step(self, batch, batch_idx):\n"
        '        self.put("loss_step", batch, ["loggers"], callback_alias="loss")\n'
        '        self.put(f"{name}_step", batch, ["callbacks"], callback_alias=name)\n'
    )
    _, puts, runtime_names = monitors.scan_python(text, "m.py")
    assert [(p.name, p.line, p.hook) for p in puts] == [("loss", 3, "training_step")]
    assert runtime_names == 2  # the second put's two names are built at run time

def test_report_and_names_table(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(PROJECT)
    result = CliRunner().invoke(cli.main, ["--check", "--names", "--report", str(tmp_path / "r.json"), "."])
    assert result.exit_code == 1, result.output
    assert "val_loss    -> val_loss          callbacks, loggers  Mean self.val_loss    on_validation_epoch_compute" in (
        result.stdout
    )
    assert "val_acc (EarlyStopping)             NOT PUT by any code (PM401)" in result.stdout
    document = json.loads((tmp_path / "r.json").read_text())
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert document["summary"]["monitors_not_put"] == len(_expected())
    assert document["monitors"]["yaml_reader"] == "pyyaml"
    train = next(f for f in document["findings"] if f["code"] == "PM101" and f["line"] == 10)
    assert [(n["name"], n["destinations"], n["aggregator"], n["hook"]) for n in train["names"]] == [
        ("train_loss_step", ["callbacks", "loggers"], None, "training_step"),
        ("train_loss", ["callbacks"], None, "training_step"),
        ("train_loss_epoch", ["callbacks", "loggers"], "Mean", "on_train_epoch_compute"),
        ("train_loss", ["callbacks"], "Mean", "on_train_epoch_compute"),
    ]


def test_names_needs_stdout(tmp_path) -> None:
    result = CliRunner().invoke(cli.main, ["--diff", "--names", str(tmp_path)])
    assert result.exit_code == 2 and "--names" in result.output


def test_report_without_monitors_has_no_section() -> None:
    document = json.loads(report.render_json([]))
    assert "monitors" not in document and "monitors_not_put" not in document["summary"]


def test_modules_are_parsed_for_puts_only_where_a_monitor_needs_them(tmp_path, monkeypatch) -> None:
    """Every module that calls some ``.log`` (all of a site-packages tree) was parsed for its puts even where no
    monitor is named anywhere: 6 of the 7 seconds of the CLI over torch + lightning + torchmetrics."""
    (tmp_path / "a.py").write_text("import math\n\ny = math.log(2.0)\n")
    (tmp_path / "b.py").write_text("def f(self):\n    self.log('val_loss', 1.0)\n")
    parsed = []
    scan = monitors.scan_python
    monkeypatch.setattr(monitors, "scan_python", lambda text, path: parsed.append(path) or scan(text, path))
    files = [str(tmp_path / "a.py"), str(tmp_path / "b.py")]
    assert monitors.check(files, []).monitors == [] and parsed == []
    (tmp_path / "c.py").write_text(
        "from lightning.pytorch.callbacks import EarlyStopping\n\nEarlyStopping(monitor='val_loss')\n"
    )
    result = monitors.check([*files, str(tmp_path / "c.py")], [])
    # A monitor: the puts of every module count; ``math.log`` puts nothing, and its module is not parsed.
    assert sorted(Path(p).name for p in parsed) == ["b.py", "c.py"]
    ((monitor, puts),) = result.monitors
    assert monitor.name == "val_loss" and [Path(p.file).name for p in puts] == ["b.py"]


def test_run_time_names_are_lightning_calls_counted_where_a_monitor_is_named(tmp_path) -> None:
    """``torch.log(x)`` is no log call with a run-time name; a callback hook's module (its third parameter) may
    be Lightning's. Without a monitor nothing is counted."""
    (tmp_path / "model.py").write_text(
        "import torch\nimport lightning as L\n\n"
        "class M(L.LightningModule):\n"
        "    def training_step(self, batch, batch_idx):\n"
        "        self.log(f'loss_{batch_idx}', torch.log(batch).sum())\n"
        "        return torch.log(batch)\n\n"
        "class C(L.Callback):\n"
        "    def on_train_epoch_end(self, trainer, module):\n"
        "        module.log(trainer.state.stage, 1.0)\n"
    )
    files = [str(tmp_path / "model.py")]
    assert monitors.check(files, []).runtime_names == 0
    (tmp_path / "train.py").write_text(
        "from lightning.pytorch.callbacks import EarlyStopping\n\nEarlyStopping(monitor='acc')\n"
    )
    result = monitors.check([*files, str(tmp_path / "train.py")], [])
    assert result.runtime_names == 2
    assert "2 put or log calls with names built at run time may put it" in result.findings[0].message


def test_marks_say_which_files_the_check_reads(tmp_path, monkeypatch) -> None:
    """A run's workers mark the files they read; the check reads again only those that name a monitor or may put,
    and parses those that name a monitor, or put or log otherwise than through a maths library."""
    assert monitors.marks(b"EarlyStopping(monitor='val_loss')\n") == (True, False)
    assert monitors.marks(b"cfg = {'monitor': 'val_loss'}\n") == (True, False)
    assert monitors.marks(b"self.put('a', x, ['callbacks'])\n") == (False, True)
    assert monitors.marks(b"self.lightning_module.log('a', x)\n") == (False, True)
    assert monitors.marks(b"y = torch.log(x)\nmonitoring = True\n") == (False, True)  # the check looks closer
    assert monitors.marks(b"monitoring = True\n") == (False, False)
    files = {name: tmp_path / name for name in ("stop.py", "model.py", "maths.py", "plain.py")}
    files["stop.py"].write_text("EarlyStopping(monitor='val_loss')\n")
    files["model.py"].write_text("class M(L.LightningModule):\n    def f(self):\n        self.log('val_loss', 1.0)\n")
    files["maths.py"].write_text("y = torch.log(x)\n")
    files["plain.py"].write_text("monitoring = True\n")
    read, parsed = [], []
    monkeypatch.setattr(monitors, "_read", lambda path, real=monitors._read: read.append(Path(path).name) or real(path))
    scan = monitors.scan_python
    monkeypatch.setattr(monitors, "scan_python", lambda text, path: parsed.append(Path(path).name) or scan(text, path))
    paths = [str(p) for p in files.values()]
    marked = {path: monitors.marks(Path(path).read_bytes()) for path in paths}
    ((monitor, puts),) = monitors.check(paths, [], marked=marked).monitors
    assert [p.file for p in puts] == [str(files["model.py"])]
    assert sorted(read) == ["maths.py", "model.py", "stop.py"] and sorted(parsed) == ["model.py", "stop.py"]


def test_the_run_scans_the_files_that_name_a_monitor_so_the_check_reads_none_again(tmp_path, monkeypatch) -> None:
    """The workers scan each file that names a monitor as they read it (``FileResult.monitor_scan``); the check
    then reads only the files that may put, and finds what it found reading them itself."""
    from put_migrate import api

    (tmp_path / "stop.py").write_text("EarlyStopping(monitor='val_loss')\nEarlyStopping(monitor='acc')\n")
    (tmp_path / "model.py").write_text(
        "import lightning as L\n\n\nclass M(L.LightningModule):\n"
        "    def validation_step(self, batch, batch_idx):\n        self.log('val_loss', 1.0)\n"
    )
    options = api.RunOptions(mode=api.Mode.CHECK, jobs=1, mark_monitors=True)
    files, _ = api.discover([tmp_path], options)
    results = list(api.run_tasks(api.plan_tasks([tmp_path], options, files), 1))
    scans = {Path(r.path).name: r.monitor_scan for r in results}
    assert scans["model.py"] is None and [m.name for m in scans["stop.py"][0]] == ["val_loss", "acc"]
    paths = [r.path for r in results]
    marked = {r.path: (r.names_monitor, r.may_put) for r in results}
    expected = monitors.check(paths, [], marked=marked)
    read = []
    monkeypatch.setattr(monitors, "_read", lambda path, real=monitors._read: read.append(Path(path).name) or real(path))
    scanned = {r.path: r.monitor_scan for r in results if r.monitor_scan is not None}
    result = monitors.check(paths, [], marked=marked, scanned=scanned)
    assert read == ["model.py"]
    assert result.monitors == expected.monitors and result.findings == expected.findings
    assert [m.name for m, puts in result.monitors if not puts] == ["acc"]


@pytest.mark.parametrize(
    "source",
    [
        "EarlyStopping(monitor='val_loss')\n",
        "EarlyStopping(monitor = (  # the epoch mean\n    'val_' 'loss'))\n",
        "EarlyStopping(monitor=\\\n    r'val_loss')\n",
        "cfg = {'monitor': 'val_loss'}\n",
        'cfg = {"monitor" :\n    "val_loss"}\n',
        "ModelCheckpoint(monitor=u'val_loss')\n",
    ],
)
def test_a_file_is_marked_as_naming_a_monitor_wherever_the_scan_finds_one(source) -> None:
    """The marks decide which files the scan parses: every literal monitor it would find must be marked."""
    assert [m.name for m in monitors.scan_python(source, "m.py")[0]] == ["val_loss"]
    assert monitors.marks(source.encode())[0]


@pytest.mark.parametrize(
    "source",
    [
        "EarlyStopping(monitor=self.monitor)\n",
        "def f(monitor: str, mode='min'):\n    pass\n",
        "if monitor == 'val_loss':\n    pass\n",
    ],
)
def test_a_monitor_that_is_no_string_literal_needs_no_parse(source) -> None:
    """Lightning's own callbacks and profilers name ``monitor`` without a literal: their modules are not parsed."""
    assert monitors.scan_python(source, "m.py")[0] == []
    assert not monitors.marks(source.encode())[0]


def test_monitor_keyword_outside_lightning_is_another_librarys() -> None:
    """gluonts' own training engine: ``Checkpoint(monitor=...)`` in a module that never imports Lightning is not a
    Lightning monitor; Lightning's callbacks are recognised by name even there (a factory module)."""
    own = 'class Checkpoint:\n    pass\n\ncallbacks = [Checkpoint(monitor="valid/fc_loss")]\n'
    assert monitors.scan_python(own, "engine.py")[0] == []
    factory = 'def callbacks(pl):\n    return [pl.callbacks.ModelCheckpoint(monitor="val_loss")]\n'
    assert [m.name for m in monitors.scan_python(factory, "factory.py")[0]] == ["val_loss"]
    lightning = 'import lightning.pytorch as pl\n\nc = Checkpoint(monitor="val_loss")\n'
    assert [m.name for m in monitors.scan_python(lightning, "train.py")[0]] == ["val_loss"]


def test_omegaconf_missing_value_is_not_checked(tmp_path, monkeypatch) -> None:
    """``monitor: ???`` (OmegaConf: given elsewhere, e.g. on the command line) names no monitor."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "callbacks.yaml").write_text("model_checkpoint:\n  monitor: ???\n  mode: min\n")
    assert monitors.check([], ["callbacks.yaml"]).findings == []
