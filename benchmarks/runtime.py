"""Time per training step: self.log module vs its put-migrated form vs the same module with no logging.

    .venv/bin/python benchmarks/runtime.py [--steps 256] [--repeats 3] [--accelerator cpu|gpu]

The migrated form is produced by the codemod at run time (put_migrate.transform.migrate_source), so the figures
measure the code users get. Targets (issue 7): migrated <= 0.30x the original, <= 1.3x no logging.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import lightning.pytorch as pl
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from put_migrate.transform import migrate_source  # noqa: E402
from shim.testing import load_file  # noqa: E402

SOURCE = Path(__file__).with_name("runtime_model.py")


class StepTimer(pl.Callback):
    """Wall time and the training thread's CPU time between batch starts (the latter is robust to a busy machine)."""

    def __init__(self) -> None:
        self.starts: list[tuple[float, float]] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize()
        self.starts.append((time.perf_counter(), time.thread_time()))


def seconds_per_step(module_class: type, steps: int, accelerator: str) -> tuple[float, float]:
    timer = StepTimer()
    trainer = pl.Trainer(
        max_steps=steps, accelerator=accelerator, devices=1, logger=pl.loggers.CSVLogger(tempfile.mkdtemp()),
        enable_progress_bar=False, enable_checkpointing=False, enable_model_summary=False, callbacks=[timer],
    )
    trainer.fit(module_class())
    warm = timer.starts[len(timer.starts) // 8 :]  # drop warm-up steps
    wall = statistics.median(b[0] - a[0] for a, b in zip(warm, warm[1:]))
    cpu = statistics.median(b[1] - a[1] for a, b in zip(warm, warm[1:]))
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--accelerator", default="cpu")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="put-migrate-bench-"))
    result = migrate_source(SOURCE.read_text(), str(SOURCE))
    left = [f for f in result.findings if f.severity.value == "manual"]
    (work / "migrated.py").write_text(result.source)
    original = load_file(SOURCE).HeavyLogging
    migrated = load_file(work / "migrated.py").HeavyLogging

    class NoLogging(original):
        def log(self, *args, **kwargs):
            pass

    torch.set_num_threads(1)  # the training thread's CPU time then covers all of a step's work
    timings: dict[str, list[tuple[float, float]]] = {"original": [], "migrated": [], "no logging": []}
    for _ in range(args.repeats):
        for name, cls in (("original", original), ("migrated", migrated), ("no logging", NoLogging)):
            timings[name].append(seconds_per_step(cls, args.steps, args.accelerator))
    wall = {k: min(w for w, _ in v) * 1e3 for k, v in timings.items()}
    cpu = {k: min(c for _, c in v) * 1e3 for k, v in timings.items()}
    device = torch.cuda.get_device_name() if args.accelerator == "gpu" else "CPU"
    print(f"device: {device}; torch {torch.__version__}; lightning {pl.__version__}; {args.steps} steps x {args.repeats}")
    print(f"calls left unmigrated by the codemod: {len(left)}")
    print(f"{'':>11}  {'wall ms/step':>12}  {'CPU ms/step':>11}")
    for name in wall:
        print(f"{name:>11}  {wall[name]:12.3f}  {cpu[name]:11.3f}")
    for label, t in (("wall", wall), ("CPU", cpu)):
        print(f"{label:>4}: migrated/original = {t['migrated'] / t['original']:.3f} (target <= 0.30);"
              f" migrated/no logging = {t['migrated'] / t['no logging']:.3f} (target <= 1.30)")


if __name__ == "__main__":
    main()
