"""Generated statements wrapped as ``ruff format`` (black's style) wraps them (``put_migrate/wrap.py``).

Each shape of statement the codemod writes is wrapped at a few line lengths and compared with what ``ruff format``
makes of the same statement, at the same indentation, under the same line length.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from put_migrate.wrap import wrap_code

pytest.importorskip("ruff")

GENERATED = [
    'self.put("validation_loss_of_model", self.validation_loss.compute(), ["callbacks", "loggers", "progress_bar"])',
    'self.put("val_loss", self.val_loss.compute(), ["callbacks", "loggers"])',
    'self.val_loss_of_the_model.update(self.loss_function(batch), weight=extract_batch_size(batch))',
    'self.metric_name_long[dataloader_idx][name].update(value, weight=extract_batch_size(batch))',
    '(val_loss, val_accuracy) = reduce_step_values(self.trainer, val_loss, val_accuracy, reduce_op="mean")',
    '(metrics_step,) = reduce_step_values(self.trainer, value, reduce_op="mean", group=self.group)',
    'loss_value, dino_loss_value, ibot_loss_value, koleo_loss_value, teacher_temp_value = reduce_step_values('
    'self.trainer, loss, dino_loss, ibot_loss, koleo_loss, teacher_temp, reduce_op="mean")',
    'train_loss, train_cls_loss, train_patch_loss, teacher_temp_value = reduce_step_values(self.trainer, loss, '
    'cls_loss, patch_loss, teacher_temp, reduce_op="mean")',
    'for name, value in zip(metrics, reduce_step_values(self.trainer, *metrics.values(), reduce_op="mean")):',
    'for suffix, aggregators in self.validation_step_metrics_max.items(self.trainer):',
    'for name, value in {f"val_part_{index}": scale, "val_part": scale}.items():',
    'self.put(name + "_step" + dataloader_suffix(self.trainer, dataloader_idx), value, ["loggers"])',
    'self.put(f"val_loss_step{dataloader_suffix(self.trainer, dataloader_idx)}", loss, ["loggers"])',
    'self.val_accuracy_epoch_metric = PerDataloader(functools.partial(Mean, sync_on_compute=True))',
    'train_loss_forked_synced_value = self.train_loss_forked_synced.compute()',
    'metrics = {f"w{i}": w for i, w in enumerate(self.layer.weight.flatten()) if i > 2}',
    'hook_values.update(f"validation_{self.val_metric_name}", metric, ["callbacks", "loggers"], sync=True, weight=2)',
    'def __init__(self, hidden_size: int = 128, learning_rate: float = 0.001, *, dropout=0.1, **kwargs):',
    'raise MisconfigurationException("`self.log(on_step=False, on_epoch=False)` is not useful.")',
    'self.put("val_const", 1.0 if name == "a" else 2.0, ["callbacks", "loggers", "progress_bar"])',
    'self.validation_step_metrics[f"{prefix}_{metric.__class__.__name__}"].update(metric(y_hat, y), '
    'weight=batch_size_in_flight(self.trainer))',
]
INDENT = 8  # a statement of a method body


def _ruff_format(code: str, line_length: int, tmp_path: Path) -> str:
    source = tmp_path / "case.py"
    source.write_text("class A:\n    def f(self):\n" + "".join(f"        {line}\n" for line in code.split("\n"))
                      + ("            pass\n" if code.endswith(":") else ""))
    (tmp_path / "ruff.toml").write_text(f"line-length = {line_length}\n")
    subprocess.run([sys.executable, "-m", "ruff", "format", "--no-cache", "-q", str(source)], cwd=tmp_path,
                   check=True)
    lines = source.read_text().split("\n")[2:]
    if code.endswith(":"):
        lines = lines[: lines.index("            pass")]
    return "\n".join(line[INDENT:] for line in lines).rstrip("\n")


@pytest.mark.parametrize("line_length", [72, 88, 100])
@pytest.mark.parametrize("code", GENERATED)
def test_wrapped_as_ruff_format_wraps(tmp_path: Path, code: str, line_length: int) -> None:
    assert wrap_code(code, INDENT, line_length) == _ruff_format(code, line_length, tmp_path)


def test_a_users_trailing_comment_counts() -> None:
    code = 'self.put("count_step", batch_idx, ["callbacks", "loggers"])'
    assert wrap_code(code, 8, 88) == code
    assert wrap_code(code, 8, 88, comment=len("  # int: Lightning casts to float32")).split("\n") == [
        "self.put(", '    "count_step", batch_idx, ["callbacks", "loggers"]', ")"
    ]


def test_a_statement_over_several_lines_is_the_users_layout_and_kept() -> None:
    code = 'self.val_loss.update((torch.tensor(\n    self.trainer.global_step, dtype=torch.float32)), weight=size)'
    assert wrap_code(code, 8, 40) == code


def test_nested_blocks_are_wrapped_at_their_own_depth() -> None:
    code = 'if self.val_loss.update_called:\n    self.put("val_loss", self.val_loss.compute(), ["callbacks"])\nx = 1'
    assert wrap_code(code, 8, 71).split("\n") == [
        "if self.val_loss.update_called:",
        "    self.put(",
        '        "val_loss", self.val_loss.compute(), ["callbacks"]',
        "    )",
        "x = 1",
    ]
