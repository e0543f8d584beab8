"""Jupyter notebooks (``put_migrate/notebook.py``): code cells migrated as one module, the rest left as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from put_migrate.api import FileStatus, Mode, RunOptions, migrate_bytes, migrate_paths
from put_migrate.cli import main
from put_migrate.notebook import has_ipython_syntax

IMPORTS = ["import lightning.pytorch as pl\n", "import torch"]
MODEL = [
    "class M(pl.LightningModule):\n",
    "    def training_step(self, batch, batch_idx):\n",
    "        loss = batch.sum()\n",
    '        self.log("loss", loss, prog_bar=True)\n',
    "        return loss",
]
MAGIC = [
    "%timeit 1\n",
    "class N(pl.LightningModule):\n",
    "    def training_step(self, batch, batch_idx):\n",
    '        self.log("x", 1.0)\n',
]
OUTPUT = {"output_type": "stream", "name": "stdout", "text": ["héllo\n"]}


def _notebook(indent=1, trailing=True, cells=None) -> bytes:
    cells = cells or [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Títle\n", "self.log('not code', 1)"]},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": IMPORTS},
        {"cell_type": "code", "execution_count": 2, "metadata": {"tags": ["train"]}, "outputs": [OUTPUT],
         "source": MODEL},
        {"cell_type": "code", "execution_count": 3, "metadata": {}, "outputs": [], "source": MAGIC},
    ]
    document = {"cells": cells, "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(document, indent=indent, ensure_ascii=False)
    return (text + "\n" if trailing else text).encode("utf-8")


@pytest.mark.parametrize(("indent", "trailing"), [(1, True), (2, False), (4, True)])
def test_code_cells_migrated_rest_untouched(indent, trailing) -> None:
    data = _notebook(indent, trailing)
    result, new = migrate_bytes(data, "nb.ipynb")
    assert result.status is FileStatus.CHANGED
    text = new.decode("utf-8")
    assert text.endswith("\n") == trailing
    assert text.split("\n")[1] == " " * indent + '"cells": ['
    before, after = json.loads(data), json.loads(new)
    assert after["metadata"] == before["metadata"] and after["nbformat"] == 4
    for old, cell in zip(before["cells"], after["cells"]):
        assert {k: v for k, v in cell.items() if k != "source"} == {k: v for k, v in old.items() if k != "source"}
    assert after["cells"][0] == before["cells"][0]  # markdown
    assert after["cells"][3] == before["cells"][3]  # IPython magic: left alone
    imports, model = "".join(after["cells"][1]["source"]), "".join(after["cells"][2]["source"])
    assert "from shim import PutMixin" in imports and not imports.endswith("\n")  # the cell's own last line
    assert "class M(PutMixin, pl.LightningModule):" in model
    assert 'self.put("loss", loss, ["callbacks", "loggers", "progress_bar"])' in model
    assert model.endswith("return loss")
    # A second run is a fixed point.
    again, newer = migrate_bytes(new, "nb.ipynb")
    assert again.status is FileStatus.UNCHANGED and newer == new


def test_string_sources_and_unchanged_notebook_stays_byte_identical() -> None:
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
              "source": "".join(IMPORTS) + "\n\n" + "".join(MODEL) + "\n"}]
    result, new = migrate_bytes(_notebook(cells=cells), "nb.ipynb")
    assert result.changed
    cell = json.loads(new)["cells"][0]
    assert isinstance(cell["source"], str) and cell["source"].endswith("return loss\n")
    plain = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": ["x = 1"]}]
    data = _notebook(cells=plain)
    result, new = migrate_bytes(data, "nb.ipynb")
    assert result.status is FileStatus.UNCHANGED and new == data


def test_findings_point_at_the_cell() -> None:
    left = MODEL[:3] + ['        self.log("loss", loss, reduce_fx="median")\n', "        return loss"]
    cells = [
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": IMPORTS},
        {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [], "source": left},
    ]
    result, _ = migrate_bytes(_notebook(cells=cells), "nb.ipynb")
    (finding,) = [f for f in result.findings if f.code == "PM209"]
    assert finding.line == 4 and finding.message.startswith("[cell 1] ")


def test_invalid_notebook_is_an_error() -> None:
    result, new = migrate_bytes(b'{"cells": [', "nb.ipynb")
    assert result.status is FileStatus.ERROR and result.findings[0].code == "PM302" and new == b'{"cells": ['


def test_ipython_syntax_detection() -> None:
    assert has_ipython_syntax("%matplotlib inline\nx = 1")
    assert has_ipython_syntax("files = !ls\n")
    assert has_ipython_syntax("torch.randn?\n")
    assert not has_ipython_syntax("x = 1  # why?\nprint('a?')\n")


def test_cli_check_and_diff_and_write(tmp_path: Path) -> None:
    (tmp_path / "nb.ipynb").write_bytes(_notebook())
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "nb-checkpoint.ipynb").write_bytes(_notebook())
    runner = CliRunner()
    check = runner.invoke(main, ["--check", str(tmp_path)])
    assert check.exit_code == 1 and "would rewrite" in check.output and "checkpoint" not in check.output
    diff = runner.invoke(main, ["--diff", str(tmp_path / "nb.ipynb")])
    assert diff.exit_code == 1 and '+    "class M(PutMixin, pl.LightningModule):\\n",' in diff.output
    assert (tmp_path / "nb.ipynb").read_bytes() == _notebook()
    write = runner.invoke(main, ["--allow-dirty", str(tmp_path)])
    assert write.exit_code == 0, write.output
    assert (tmp_path / "nb.ipynb").read_bytes() != _notebook()
    assert runner.invoke(main, ["--check", str(tmp_path)]).exit_code == 0


def test_api_discovers_notebooks(tmp_path: Path) -> None:
    (tmp_path / "nb.ipynb").write_bytes(_notebook())
    results = migrate_paths([tmp_path], RunOptions(mode=Mode.CHECK, jobs=1))
    assert [(Path(r.path).name, r.changed) for r in results] == [("nb.ipynb", True)]


def test_stdin_notebook() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["-", "--stdin-filename", "nb.ipynb"], input=_notebook())
    assert result.exit_code == 0
    assert json.loads(result.stdout_bytes)["cells"][2]["source"][0] == "class M(PutMixin, pl.LightningModule):\n"
