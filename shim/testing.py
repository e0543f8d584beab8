"""Side-by-side equivalence harness: train an original and a migrated module the same way and diff what the
trainer saw.

    from shim.testing import assert_same_training
    assert_same_training(OriginalModel, MigratedModel, trainer_kwargs={"max_epochs": 2})

Recorded per run: every logger call (step and values, from a recording logger and read back from CSVLogger's
file), ``callback_metrics`` and ``progress_bar_metrics`` at callback hook boundaries, ModelCheckpoint best score
and file name, EarlyStopping stop epoch, ``validate()``/``test()`` results, final weights, state_dict keys.
Under ``strategy="ddp_spawn"`` each rank records its own run; all ranks are compared. As under Lightning's
``ddp_spawn``, the module and callbacks are built in the main process and reach the ranks pickled, so their CPU
tensors arrive in shared memory.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import inspect
import json
import math
import os
import random
import socket
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import torch

_SNAPSHOT_HOOKS = (
    "on_train_start",
    "on_train_epoch_start",
    "on_train_batch_end",
    "on_train_epoch_end",
    "on_validation_start",
    "on_validation_batch_end",
    "on_validation_epoch_end",
    "on_validation_end",
    "on_test_batch_end",
    "on_test_epoch_end",
    "on_test_end",
    "on_train_end",
)


@dataclass(frozen=True)
class FileModuleFactory:
    """Build ``class_name`` from the Python file at ``path``; picklable, so DDP ranks can load it themselves."""

    path: str
    class_name: str

    def load(self) -> Any:
        return load_file(self.path)

    def __call__(self) -> Any:
        return getattr(self.load(), self.class_name)()

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        # Unpickling imports the file first, so a module built from it can be unpickled after this factory.
        return _loaded_factory, (self.path, self.class_name)


def _loaded_factory(path: str, class_name: str) -> FileModuleFactory:
    load_file(path)
    return FileModuleFactory(path, class_name)


_LOADED: dict[str, Any] = {}


def load_file(path: str | os.PathLike[str]) -> Any:
    """Import a Python file by path (once per process) and return the module object."""
    key = str(Path(path).resolve())
    if key not in _LOADED:
        import importlib.util
        import sys

        # The same name in every process (unlike hash()), so instances pickled to a spawned process find their class.
        name = "put_migrate_loaded_" + hashlib.sha256(key.encode()).hexdigest()[:16]
        spec = importlib.util.spec_from_file_location(name, key)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # classes must be findable by module name (pickling, dataclasses)
        spec.loader.exec_module(module)
        _LOADED[key] = module
    return _LOADED[key]


def trainable_class_name(module: Any) -> str | None:
    """The LightningModule a file defines that can train on its own (last one wins), or None."""
    found = None
    for name, obj in vars(module).items():
        if (
            isinstance(obj, type)
            and obj.__module__ == module.__name__
            and any(k.__name__ == "LightningModule" for k in obj.__mro__)
            and callable(getattr(obj, "training_step", None))
            and "train_dataloader" in {n for k in obj.__mro__ if k.__name__ != "LightningModule" for n in vars(k)}
        ):
            found = name
    return found


def seed_quietly(pl: Any, seed: int) -> None:
    """``pl.seed_everything(seed)`` without its log line where the Lightning package ``pl`` can omit it
    (``verbose=``, from Lightning 2.4)."""
    if "verbose" in inspect.signature(pl.seed_everything).parameters:
        pl.seed_everything(seed, verbose=False)
    else:
        pl.seed_everything(seed)


def _plain(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double().item() if value.numel() == 1 else value.detach().cpu().tolist()
    return value


def _plain_dict(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in sorted(metrics.items())}


@dataclass
class RunRecord:
    """What the trainer exposed during one run (one rank)."""

    logger_calls: list[tuple[int | None, dict[str, Any]]] = field(default_factory=list)
    csv_rows: list[dict[str, str]] = field(default_factory=list)
    snapshots: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    checkpoint: dict[str, Any] = field(default_factory=dict)
    early_stopping: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, list[float]] = field(default_factory=dict)
    state_dict_keys: list[str] = field(default_factory=list)
    final_callback_metrics: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> RunRecord:
        data = json.loads(text)
        data["logger_calls"] = [(s, m) for s, m in data["logger_calls"]]
        data["snapshots"] = [tuple(s) for s in data["snapshots"]]
        return cls(**data)


def lightning_package(module_class: type) -> str:
    """``"lightning.pytorch"`` or ``"pytorch_lightning"``: the package ``module_class`` derives from."""
    for klass in module_class.__mro__:
        if klass.__name__ == "LightningModule":
            return klass.__module__.split(".core", 1)[0]
    raise TypeError(f"{module_class.__qualname__} is not a LightningModule")


def _recording_callbacks(pl: Any, record: RunRecord) -> list[Any]:
    class RecordingLogger(pl.loggers.Logger):
        """Receives every logger call on every rank (not rank-zero-only), like a custom user logger."""

        @property
        def name(self) -> str:
            return "recording"

        @property
        def version(self) -> int:
            return 0

        def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
            pass

        def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
            record.logger_calls.append((step, _plain_dict(metrics)))

    class Snapshots(pl.Callback):
        pass

    def make_snapshot(hook: str) -> Callable[..., None]:
        def snapshot(self: Any, trainer: Any, *args: Any) -> None:
            label = f"{hook} epoch={trainer.current_epoch} step={trainer.global_step}"
            if trainer.sanity_checking:
                label += " sanity"
            record.snapshots.append(
                (label, _plain_dict(trainer.callback_metrics), _plain_dict(trainer.progress_bar_metrics))
            )

        return snapshot

    for hook in _SNAPSHOT_HOOKS:
        setattr(Snapshots, hook, make_snapshot(hook))
    return [RecordingLogger(), Snapshots()]


def _finite_or_str(value: Any) -> Any:
    value = _plain(value)
    return value if not (isinstance(value, float) and math.isnan(value)) else "nan"


def record_run(
    module_factory: Callable[[], Any],
    *,
    trainer_kwargs: dict[str, Any] | None = None,
    callbacks: Callable[[], Sequence[Any]] | None = None,
    stages: Sequence[str] = ("fit",),
    seed: int = 0,
    workdir: str | os.PathLike[str] | None = None,
    ckpt_path: str | None = None,
) -> RunRecord | list[RunRecord]:
    """Train a fresh module from ``module_factory`` and record what the trainer exposed.

    ``stages`` are Trainer methods run in order (``"fit"``, ``"validate"``, ``"test"``); ``ckpt_path`` resumes the
    first ``fit`` from a checkpoint. Returns one record, or one per rank for a ``ddp_spawn`` strategy.
    """
    if isinstance(module_factory, type):
        module_class = module_factory
    elif isinstance(module_factory, FileModuleFactory):
        module_class = getattr(module_factory.load(), module_factory.class_name)
    else:
        module_class = type(module_factory())
    package = lightning_package(module_class)
    workdir = Path(workdir or tempfile.mkdtemp(prefix="put-migrate-run-"))
    kwargs = dict(trainer_kwargs or {})
    spec = _RunSpec(module_factory, package, kwargs, callbacks, tuple(stages), seed, str(workdir), ckpt_path)
    if kwargs.get("strategy") == "ddp_spawn":
        return _spawn_ranks(spec, int(kwargs.get("devices", 2)))
    return _run(spec, rank=None)


@dataclass(frozen=True)
class _RunSpec:
    module_factory: Callable[[], Any]
    package: str
    trainer_kwargs: dict[str, Any]
    callbacks: Callable[[], Sequence[Any]] | None
    stages: tuple[str, ...]
    seed: int
    workdir: str
    ckpt_path: str | None = None
    port: int = 0


_PORT_ATTEMPTS = 3


def _spawn_ranks(spec: _RunSpec, devices: int) -> list[RunRecord]:
    """Run ``spec`` as ``devices`` spawned ranks on the port in ``PUT_MIGRATE_PORT``, or on a free port, chosen again
    (and the module built again) if another process takes it before rank 0 listens."""
    import torch.multiprocessing as mp

    chosen = os.environ.get("PUT_MIGRATE_PORT")
    for attempt in range(1 if chosen else _PORT_ATTEMPTS):
        pl = importlib.import_module(spec.package)
        seed_quietly(pl, spec.seed)
        built = (spec.module_factory(), list(spec.callbacks()) if spec.callbacks else [])
        ranks_spec = replace(spec, port=int(chosen) if chosen else _free_port())
        try:
            # spec before the built objects: unpickling its FileModuleFactory imports the file that defines them.
            mp.start_processes(_run_rank, args=(ranks_spec, built), nprocs=devices, start_method="spawn")
        except mp.ProcessRaisedException as error:
            if chosen or attempt == _PORT_ATTEMPTS - 1 or "EADDRINUSE" not in str(error):
                raise
            continue
        break
    return [RunRecord.from_json(Path(spec.workdir, f"rank{r}.json").read_text()) for r in range(devices)]


def _free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on, drawn below the kernel's ephemeral range: there no outgoing connection (gloo's,
    another test's) can take it between this check and rank 0's listen, as it can a port the OS hands out."""
    low, _ = _ephemeral_range()
    draw = random.SystemRandom()
    for _ in range(100):
        port = draw.randrange(10000, max(low, 10001))
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default; other systems start theirs higher


def _run_rank(rank: int, spec: _RunSpec, built: tuple[Any, list[Any]]) -> None:
    module, callbacks = built
    if spec.trainer_kwargs.get("accelerator", "cpu") == "cpu":
        # What Lightning's spawn launcher does on CPU (_disable_module_memory_sharing): the ranks train their own
        # copies of the parameters and buffers; everything else stays as spawn delivered it.
        with torch.no_grad():
            for tensor in [*module.parameters(), *module.buffers()]:
                tensor.data = tensor.data.clone()
    record = _run(spec, rank=rank, built=(module, callbacks))
    Path(spec.workdir, f"rank{rank}.json").write_text(record.to_json())
    # Lightning leaves the process group up; a rank that exits with gloo's threads still running may abort at
    # interpreter teardown ("terminate called without an active exception") after its record is written.
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def _run(spec: _RunSpec, rank: int | None, built: tuple[Any, list[Any]] | None = None) -> RunRecord:
    pl = importlib.import_module(spec.package)
    record = RunRecord()
    kwargs = dict(spec.trainer_kwargs)
    if rank is not None:
        # Each spawned process is one rank of a 2-process gloo run; the trainer joins it through env vars.
        kwargs["strategy"] = pl.strategies.DDPStrategy(process_group_backend="gloo")
        kwargs.setdefault("devices", 2)
        os.environ.update(
            MASTER_ADDR="127.0.0.1", MASTER_PORT=str(spec.port),
            WORLD_SIZE=str(kwargs["devices"]), RANK=str(rank), LOCAL_RANK=str(rank), NODE_RANK="0",
        )
    seed_quietly(pl, spec.seed)
    if built is None:
        module = spec.module_factory()
        user_callbacks = list(spec.callbacks()) if spec.callbacks else []
    else:
        module, user_callbacks = built
    recording_logger, snapshots = _recording_callbacks(pl, record)
    csv_logger = pl.loggers.CSVLogger(spec.workdir, name="csv", version=f"rank{rank or 0}")
    kwargs.setdefault("accelerator", "cpu")
    kwargs.setdefault("enable_model_summary", False)
    kwargs.setdefault("enable_progress_bar", True)
    kwargs.setdefault("default_root_dir", spec.workdir)
    trainer = pl.Trainer(logger=[recording_logger, csv_logger], callbacks=[snapshots, *user_callbacks], **kwargs)
    for i, stage in enumerate(spec.stages):
        resume = {"ckpt_path": spec.ckpt_path} if stage == "fit" and spec.ckpt_path and i == 0 else {}
        out = getattr(trainer, stage)(module, **resume)
        if stage in ("validate", "test"):
            record.results[stage] = [{k: _finite_or_str(v) for k, v in sorted(d.items())} for d in out]
    for callback in trainer.callbacks:
        if isinstance(callback, pl.callbacks.ModelCheckpoint):
            record.checkpoint = {
                "best_model_score": _finite_or_str(callback.best_model_score),
                "best_model_file": Path(callback.best_model_path).name,
                "kth_value": _finite_or_str(callback.kth_value),
            }
        if isinstance(callback, pl.callbacks.EarlyStopping):
            record.early_stopping = {
                "stopped_epoch": callback.stopped_epoch,
                "wait_count": callback.wait_count,
                "best_score": _finite_or_str(callback.best_score),
            }
    csv_file = Path(csv_logger.log_dir, "metrics.csv")
    if csv_file.exists() and (rank or 0) == 0:
        with csv_file.open() as handle:
            record.csv_rows = [dict(row) for row in csv.DictReader(handle)]
    state = module.state_dict()
    record.state_dict_keys = sorted(state)
    record.weights = {k: v.detach().cpu().double().flatten().tolist() for k, v in sorted(state.items())}
    record.final_callback_metrics = _plain_dict(trainer.callback_metrics)
    return record


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _describe_dict_difference(a: dict[str, Any], b: dict[str, Any]) -> str:
    parts = []
    if only := sorted(a.keys() - b.keys()):
        parts.append(f"only in the original: {only}")
    if only := sorted(b.keys() - a.keys()):
        parts.append(f"only in the migrated: {only}")
    for key in sorted(a.keys() & b.keys()):
        if not _same(a[key], b[key]):
            parts.append(f"{key!r}: original {a[key]!r}, migrated {b[key]!r}")
    return "; ".join(parts)


def _differing_keys(a: dict[str, Any], b: dict[str, Any]) -> set[str]:
    return (a.keys() ^ b.keys()) | {k for k in a.keys() & b.keys() if not _same(a[k], b[k])}


def _more(pairs: list[tuple[dict[str, Any], dict[str, Any]]], what: str) -> list[str]:
    """The summary line after a first difference: how many more, and every name that differs in any of them."""
    if not pairs:
        return []
    keys = set().union(*(_differing_keys(a, b) for a, b in pairs))
    return [f"{len(pairs)} more {what} differ; names that differ in any of them: {sorted(keys)}"]


def differences(original: RunRecord, migrated: RunRecord) -> list[str]:
    """Plain-words differences between two runs, most telling first (empty when they match).

    The first differing logger call and hook snapshot are described value by value; further ones are counted, with
    every name that differs in any of them."""
    out: list[str] = []
    a_calls, b_calls = original.logger_calls, migrated.logger_calls
    differing_calls = [(i, ca, cb) for i, (ca, cb) in enumerate(zip(a_calls, b_calls)) if not _same(ca, cb)]
    if differing_calls:
        i, ca, cb = differing_calls[0]
        detail = _describe_dict_difference(ca[1], cb[1]) if ca[0] == cb[0] else f"step {ca[0]} vs {cb[0]}"
        out.append(f"logger call #{i} (step {ca[0]}) differs: {detail}")
        out += _more([(ca[1], cb[1]) for _, ca, cb in differing_calls[1:]], f"of the {len(a_calls)} logger calls")
    if len(a_calls) != len(b_calls):
        out.append(f"the original made {len(a_calls)} logger calls, the migrated {len(b_calls)}")
    differing: dict[str, list[tuple[str, dict[str, Any], dict[str, Any]]]] = {
        "callback_metrics": [], "progress_bar_metrics": []}
    for (label_a, cb_a, pb_a), (label_b, cb_b, pb_b) in zip(original.snapshots, migrated.snapshots):
        if label_a != label_b:
            out.append(f"hook sequence differs: {label_a!r} vs {label_b!r}")
            break  # later snapshots are of other hooks: comparing them says nothing more
        for kind, a, b in (("callback_metrics", cb_a, cb_b), ("progress_bar_metrics", pb_a, pb_b)):
            if not _same(a, b):
                differing[kind].append((label_a, a, b))
    for kind, found in differing.items():
        if found:
            label, a, b = found[0]
            out.append(f"{kind} at {label} differ: {_describe_dict_difference(a, b)}")
            out += _more([(a, b) for _, a, b in found[1:]], f"hook snapshots of {kind}")
    if len(original.snapshots) != len(migrated.snapshots):
        out.append(f"{len(original.snapshots)} hook snapshots vs {len(migrated.snapshots)}")
    for name in ("final_callback_metrics", "csv_rows", "results", "checkpoint", "early_stopping", "state_dict_keys"):
        a, b = getattr(original, name), getattr(migrated, name)
        if not _same(a, b):
            out.append(f"{name.replace('_', ' ')} differ: original {a!r}, migrated {b!r}")
    if not _same(original.weights, migrated.weights):
        weights = [k for k in original.weights if not _same(original.weights.get(k), migrated.weights.get(k))]
        out.append(f"final weights differ: {weights or sorted(set(migrated.weights) - set(original.weights))}")
    return out


def assert_same_training(
    original: Callable[[], Any],
    migrated: Callable[[], Any],
    *,
    original_callbacks: Callable[[], Sequence[Any]] | None = None,
    migrated_callbacks: Callable[[], Sequence[Any]] | None = None,
    **run_kwargs: Any,
) -> tuple[RunRecord | list[RunRecord], RunRecord | list[RunRecord]]:
    """Train both with the same seed and settings; raise ``AssertionError`` naming the first difference.

    ``callbacks`` (a factory, in ``run_kwargs``) gives both sides their callbacks; ``original_callbacks`` and
    ``migrated_callbacks`` give one side its own instead (a migrated callback beside its original)."""
    shared = run_kwargs.pop("callbacks", None)
    with tempfile.TemporaryDirectory(prefix="put-migrate-eq-") as tmp:
        a = record_run(original, workdir=Path(tmp, "original"), callbacks=original_callbacks or shared, **run_kwargs)
        b = record_run(migrated, workdir=Path(tmp, "migrated"), callbacks=migrated_callbacks or shared, **run_kwargs)
    # The same run_kwargs give both runs the same shape: one record each, or one per rank.
    pairs = list(zip(a, cast("list[RunRecord]", b))) if isinstance(a, list) else [(a, cast(RunRecord, b))]
    problems = []
    for rank, (ra, rb) in enumerate(pairs):
        prefix = f"rank {rank}: " if len(pairs) > 1 else ""
        problems += [prefix + p for p in differences(ra, rb)]
    if problems:
        raise AssertionError("migrated training differs from the original:\n  " + "\n  ".join(problems))
    return a, b
