"""Migrate real modules of the corpus repositories and train them side by side with their originals (not CI).

    .venv/bin/python benchmarks/real_modules.py --corpus DIR [--cache DIR] [--only REPO ...] [--json FILE]
                                                [--install-timeout S] [--run-timeout S] [--keep]

For each repository of ``REPOS`` (a folder of ``--corpus``, each an exported checkout of the pinned commit):

1. a virtual environment is made once under ``--cache`` (``~/.cache/put-migrate-real-modules/<repo>/venv``):
   ``torch==2.13.0`` first, then Lightning 2.6, torchmetrics and the repository installed from a copy of the
   checkout (or ``Repo.install`` instead), always under a constraints file that pins torch (so pip never fetches
   CUDA builds);
2. the checkout is copied twice into a temporary folder, and ``python -m put_migrate`` (this tree's code) rewrites
   the package of the second copy in place;
3. per module of ``MODULES``, one subprocess per copy imports the package from that copy (first on ``sys.path``,
   so the installed one is shadowed) and trains the module on small synthetic data with
   ``shim.testing.record_run`` (CPU, fixed seed); this process compares the two records with
   ``shim.testing.differences`` (logger calls, ``callback_metrics`` at hook boundaries, checkpoint decisions,
   validate/test results, final weights).

Per module it reports the ``self.log``/``self.log_dict`` calls written in the classes of its hierarchy that the
repository defines (``calls``), how many the codemod rewrote, the rule codes of those it left, whether the module is
fully migrated (no call left in its hierarchy) and whether the two trainings were the same, or why the module could
not run. Results and the command line: docs/real-codebases.md.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = Path("~/.cache/put-migrate-real-modules").expanduser()
# torch first and pinned in every pip call: an unpinned resolve pulls the CUDA build and its GiBs of packages.
CONSTRAINTS = ("torch==2.13.0", "torchvision==0.28.0")
LIGHTNING = "lightning==2.6.6"


@dataclass(frozen=True)
class Repo:
    """A corpus repository: where its package sits and what its environment needs besides torch."""

    name: str  # folder in the corpus
    package: str  # the import root, relative to the checkout ("src/scvi")
    requirements: tuple[str, ...]  # installed with the checkout (which brings its own dependencies)
    extra: str = ""  # the checkout is installed as "<copy>[extra]"
    stand_in: str = ""  # a folder of this repository (benchmarks/...) used instead of the corpus checkout
    # pip targets installed instead of the checkout (its dependencies and metadata; the code runs from the copy)
    install: tuple[str, ...] = ()
    shares: str = ""  # the name of another repository whose environment this one uses as it is

    def source(self, corpus: Path) -> Path:
        return ROOT / self.stand_in if self.stand_in else corpus / self.name


@dataclass(frozen=True)
class Module:
    """A module to train: ``build`` names a ``build_*`` function of this file returning its run settings."""

    repo: str
    label: str
    build: str


REPOS = {
    r.name: r
    for r in (
        Repo("pytorch-forecasting", "pytorch_forecasting", (LIGHTNING, "torchmetrics")),
        # The exported checkout lacks the LICENSE file its build needs: the release before the commit is installed.
        Repo("scvi-tools", "src/scvi", (LIGHTNING, "torchmetrics"), install=("scvi-tools==1.4.2",)),
        Repo("torchgeo", "torchgeo", ("lightning[pytorch-extra]==2.6.6", "torchmetrics", "torchvision")),
        # imported by anomalib.data, .deploy and .models, but not among its core dependencies
        Repo("anomalib", "src/anomalib", (LIGHTNING, "torchmetrics", "torchvision", "scikit-learn",
                                          "openvino==2024.6.0", "python-dotenv", "requests"), extra="core"),
        Repo("lightly", "lightly", ("pytorch-lightning==2.6.6", LIGHTNING, "torchmetrics", "torchvision")),
        # The template is not an installable package and its module needs only Lightning and torchmetrics.
        Repo("lightning-hydra-template", "src", (), shares="NeMo"),
        # NeMo is too heavy to install here: a trimmed copy of its audio-to-audio hierarchy stands in.
        Repo("NeMo", "nemo_style", (LIGHTNING, "torchmetrics"), install=("einops",),
             stand_in="benchmarks/real_modules_standins"),
    )
}

MODULES = [
    Module("pytorch-forecasting", "NBeats", "build_nbeats"),
    Module("pytorch-forecasting", "DeepAR", "build_deepar"),
    Module("scvi-tools", "SCVI (TrainingPlan)", "build_scvi"),
    Module("scvi-tools", "SCANVI (SemiSupervisedTrainingPlan)", "build_scanvi"),
    Module("torchgeo", "ClassificationTask", "build_torchgeo_classification"),
    Module("torchgeo", "SemanticSegmentationTask", "build_torchgeo_segmentation"),
    Module("anomalib", "Ganomaly", "build_anomalib_ganomaly"),
    Module("lightly", "SelfSupervisedEmbedding (SimCLR)", "build_lightly_embedding"),
    Module("lightly", "LinearClassifier", "build_lightly_linear"),
    Module("lightning-hydra-template", "MNISTLitModule", "build_hydra_template_mnist"),
    Module("NeMo", "EncMaskDecAudioToAudioModel (stand-in)", "build_nemo_style"),
]


@dataclass
class Result:
    """One module's outcome; ``error`` says why it could not run (then ``equivalent`` is None)."""

    repo: str
    module: str
    calls: int | None = None
    rewritten: int | None = None
    left: dict[str, int] = field(default_factory=dict)
    equivalent: bool | None = None
    differences: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    logged_keys: list[str] = field(default_factory=list)
    logger_calls: int | None = None
    seconds: float | None = None
    error: str = ""

    @property
    def fully_migrated(self) -> bool | None:
        if self.calls is None or self.rewritten is None:
            return None
        return self.calls > 0 and self.rewritten == self.calls


# --- pure helpers ----------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder of the exported checkouts, one per repo")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the virtual environments live")
    parser.add_argument("--only", nargs="+", choices=sorted(REPOS), metavar="REPO", help="these repositories only")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    parser.add_argument("--install-timeout", type=float, default=600.0, help="seconds per environment")
    parser.add_argument("--run-timeout", type=float, default=900.0, help="seconds per training run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copies and print where they are")
    return parser.parse_args(argv)


def log_calls_by_class(source: str) -> dict[str, list[int]]:
    """Lines of ``self.log``/``self.log_dict`` calls per enclosing class (dotted qualified name)."""
    found: dict[str, list[int]] = {}

    def visit(node: ast.AST, qualname: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = qualname
            if isinstance(child, ast.ClassDef):
                inner = f"{qualname}.{child.name}" if qualname else child.name
                found.setdefault(inner, [])
            elif (
                qualname
                and isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr in ("log", "log_dict")
                and isinstance(child.func.value, ast.Name)
                and child.func.value.id == "self"
            ):
                found[qualname].append(child.lineno)
            visit(child, inner)

    visit(ast.parse(source), None)
    return found


def class_spans(source: str) -> dict[str, tuple[int, int]]:
    """First and last line of each top-level class."""
    return {
        node.name: (node.lineno, node.end_lineno or node.lineno)
        for node in ast.parse(source).body
        if isinstance(node, ast.ClassDef)
    }


def count_hierarchy(
    classes: list[tuple[str, str]], original: Path, migrated: Path, findings: list[dict]
) -> tuple[int, int, Counter]:
    """(calls, rewritten, codes left) over ``classes`` (file relative to the copies, qualified name).

    A call is rewritten when it is gone from the migrated copy's class; the codes come from the codemod's report
    (findings left for a human, in the original file's lines of that class)."""
    calls = rewritten = 0
    left: Counter = Counter()
    for relpath, qualname in classes:
        before_text = (original / relpath).read_text()
        before = log_calls_by_class(before_text).get(qualname, [])
        after = log_calls_by_class((migrated / relpath).read_text()).get(qualname, [])
        calls += len(before)
        rewritten += len(before) - len(after)
        span = class_spans(before_text).get(qualname.split(".")[0])
        for finding in findings:
            if (
                span
                and finding.get("severity") == "manual"
                and ("/" + Path(finding["file"]).as_posix()).endswith("/" + relpath)
                and span[0] <= finding["line"] <= span[1]
            ):
                left[finding["code"]] += 1
    return calls, rewritten, left


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def results_table(results: list[Result]) -> str:
    """Markdown table of ``results``, one row per module."""
    head = ["repository", "module", "classes in hierarchy", "calls", "rewritten", "left by rule", "fully migrated",
            "equivalent", "notes"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        left = ", ".join(f"{c} {n}" for c, n in sorted(r.left.items(), key=lambda kv: (-kv[1], kv[0]))) or "-"
        if r.error:
            note = r.error
        elif r.differences:
            note = r.differences[0]
        elif r.equivalent:
            note = f"{r.logger_calls} logger calls, {len(r.logged_keys)} keys, same"
        else:
            note = ""
        cells = [r.repo, r.module, len(r.classes) if r.classes else "-",
                 "-" if r.calls is None else r.calls, "-" if r.rewritten is None else r.rewritten, left,
                 _yes_no(r.fully_migrated), _yes_no(r.equivalent), note.replace("|", "\\|").replace("\n", " ")]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


# --- environments and copies -----------------------------------------------------------------------------------


def ensure_env(repo: Repo, source: Path, cache: Path, timeout: float) -> Path:
    """The Python of the repository's environment, made on first use; raises RuntimeError with pip's last words."""
    home = cache / repo.name
    python = home / "venv" / "bin" / "python"
    ready = home / "venv" / ".ready"
    if ready.exists():
        return python
    shutil.rmtree(home / "venv", ignore_errors=True)
    shutil.rmtree(home / "src", ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True)
    # pip builds in the source folder (egg-info, build/): never in the corpus itself.
    shutil.copytree(source, home / "src", ignore=shutil.ignore_patterns(".git"))
    constraints = home / "constraints.txt"
    constraints.write_text("\n".join(CONSTRAINTS) + "\n")
    targets = list(repo.install) or [f"{home / 'src'}[{repo.extra}]" if repo.extra else str(home / "src")]
    base_python = getattr(sys, "_base_executable", sys.executable)
    steps = [
        [base_python, "-m", "venv", str(home / "venv")],
        [str(python), "-m", "pip", "install", "-q", "-c", str(constraints), CONSTRAINTS[0]],
        [str(python), "-m", "pip", "install", "-q", "-c", str(constraints), *repo.requirements, *targets],
    ]
    deadline = time.monotonic() + timeout
    with (home / "install.log").open("w") as log:
        for step in steps:
            left = deadline - time.monotonic()
            try:
                proc = subprocess.run(step, stdout=log, stderr=subprocess.STDOUT, timeout=max(left, 1))
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"install did not finish in {timeout:.0f} s ({home / 'install.log'})") from None
            if proc.returncode:
                tail = [line for line in (home / "install.log").read_text().splitlines() if "is ignored" not in line]
                raise RuntimeError(f"`{' '.join(step[2:5])} ...` failed: " + " / ".join(tail[-3:]))
    ready.touch()
    return python


def migrate_copy(source: Path, package: str, work: Path) -> tuple[Path, Path, list[dict]]:
    """Two copies of ``source`` under ``work``; the package of the second one rewritten by this tree's CLI."""
    original, migrated = work / "original", work / "migrated"
    for copy in (original, migrated):
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns(".git", "__pycache__"))
    report = work / "report.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "put_migrate", "-q", "-j", "1", "--report", str(report), "--format", "json",
         str(migrated / package)],
        cwd=work, env=env, capture_output=True, text=True,
    )
    if not report.exists():
        raise RuntimeError(f"put-migrate failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    return original, migrated, json.loads(report.read_text())["findings"]


def train(python: Path, copy: Path, package: str, build: str, out: Path, timeout: float) -> dict:
    """Train one module from ``copy`` in the environment's Python; returns the driver's JSON."""
    import_root = copy / Path(package).parent
    cmd = [str(python), str(Path(__file__).resolve()), "--drive", build, str(import_root), str(out)]
    env = dict(os.environ, PYTHONPATH="", OMP_NUM_THREADS="1", PYTHONHASHSEED="0")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=out.parent)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"training did not finish in {timeout:.0f} s") from None
    if proc.returncode or not out.exists():
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        raise RuntimeError("training failed: " + (lines[-1] if lines else f"exit {proc.returncode}"))
    return json.loads(out.read_text())


def run_repo(repo: Repo, modules: list[Module], args: argparse.Namespace) -> list[Result]:
    from shim.testing import RunRecord, differences

    results = [Result(repo.name, m.label) for m in modules]
    source = repo.source(args.corpus)
    try:
        env_repo = REPOS[repo.shares] if repo.shares else repo
        python = ensure_env(env_repo, env_repo.source(args.corpus), args.cache, args.install_timeout)
    except RuntimeError as exc:
        for r in results:
            r.error = f"environment: {exc}"
        return results
    work = Path(tempfile.mkdtemp(prefix=f"put-migrate-real-{repo.name}-"))
    try:
        original, migrated, findings = migrate_copy(source, repo.package, work)
        for module, result in zip(modules, results):
            start = time.perf_counter()
            try:
                runs = [train(python, copy, repo.package, module.build, work / f"{module.build}-{side}.json",
                              args.run_timeout)
                        for side, copy in (("original", original), ("migrated", migrated))]
            except RuntimeError as exc:
                result.error = str(exc)
                continue
            finally:
                result.seconds = round(time.perf_counter() - start, 1)
            a, b = (RunRecord.from_json(json.dumps(run["record"])) for run in runs)
            classes = [tuple(c) for c in runs[0]["classes"]]
            result.classes = [f"{path}:{name}" for path, name in classes]
            calls, rewritten, left = count_hierarchy(classes, original, migrated, findings)
            result.calls, result.rewritten, result.left = calls, rewritten, dict(left)
            result.differences = differences(a, b)
            result.equivalent = not result.differences
            result.logged_keys = sorted({k for _, m in a.logger_calls for k in m})
            result.logger_calls = len(a.logger_calls)
    except RuntimeError as exc:
        for r in results:
            r.error = r.error or str(exc)
    finally:
        if args.keep:
            print(f"{repo.name}: copies kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    results: list[Result] = []
    for name, repo in REPOS.items():
        if args.only and name not in args.only:
            continue
        start = time.perf_counter()
        found = run_repo(repo, [m for m in MODULES if m.repo == name], args)
        print(f"{name}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
        for r in found:
            state = r.error or ("same training" if r.equivalent else "; ".join(r.differences))
            print(f"  {r.module}: {r.rewritten}/{r.calls} rewritten; {state}", file=sys.stderr)
        results += found
    print(results_table(results))
    if args.json:
        args.json.write_text(json.dumps([dict(asdict(r), fully_migrated=r.fully_migrated) for r in results],
                                        indent=1))
    return 0


# --- driver: runs inside a repository's environment ------------------------------------------------------------


def drive(build: str, import_root: str, out: str) -> None:
    """Import the package from ``import_root``, train the module ``build`` returns, write the record as JSON."""
    sys.path.insert(0, import_root)
    sys.path.append(str(ROOT))  # shim, for the migrated copy and the harness
    import inspect

    from shim.testing import lightning_package, record_run

    _torchvision_without_extension()
    settings = globals()[build]()
    factory = settings.pop("factory")
    module_class = factory if isinstance(factory, type) else type(factory())
    top = _copy_top(Path(import_root).resolve())
    classes = []
    for klass in module_class.__mro__:
        try:
            path = Path(inspect.getsourcefile(klass) or "").resolve()
        except TypeError:  # built-in
            continue
        if path.is_relative_to(top):  # a class of the repository (not Lightning's, not the build function's)
            classes.append((path.relative_to(top).as_posix(), klass.__qualname__))
    if not classes:
        raise SystemExit(f"{module_class.__qualname__} was not imported from {import_root}")
    kwargs = {"max_epochs": 2, "log_every_n_steps": 1, "num_sanity_val_steps": 1, "enable_progress_bar": False,
              **settings.pop("trainer_kwargs", {})}
    if monitor := settings.pop("monitor", None):
        settings["callbacks"] = _Checkpoint(lightning_package(module_class), monitor)
    record = record_run(factory, trainer_kwargs=kwargs, workdir=tempfile.mkdtemp(dir=Path(out).parent), **settings)
    Path(out).write_text(json.dumps({"classes": classes, "record": json.loads(record.to_json())}))


_TORCHVISION_LIBRARY = []


def _torchvision_without_extension() -> None:
    """Let torchvision import without its C extension.

    The only torchvision wheel for torch 2.13 on PyPI is a CUDA build: its extension does not load against the CPU
    torch, and torchvision then fails at import, registering fake kernels for two operators it never defined.
    Defining their schemas (no kernel) lets it import; the modules trained here never call them."""
    import importlib.util

    import torch

    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return
    extension = Path(spec.submodule_search_locations[0], "_C.so")
    try:
        torch.ops.load_library(str(extension))
    except (OSError, RuntimeError):
        library = torch.library.Library("torchvision", "DEF")
        library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        library.define("qnms(Tensor qdets, Tensor scores, float iou_threshold) -> Tensor")
        _TORCHVISION_LIBRARY.append(library)  # the definitions last as long as the library object


def _copy_top(import_root: Path) -> Path:
    """The copy folder (``.../original`` or ``.../migrated``) above an import root."""
    for folder in (import_root, *import_root.parents):
        if folder.name in ("original", "migrated"):
            return folder
    return import_root


@dataclass(frozen=True)
class _Checkpoint:
    """Callbacks factory: a ModelCheckpoint on ``monitor`` from the module's Lightning package (decisions compared)."""

    package: str
    monitor: str

    def __call__(self) -> list:
        import importlib

        pl = importlib.import_module(self.package)
        return [pl.callbacks.ModelCheckpoint(monitor=self.monitor, dirpath=tempfile.mkdtemp(), save_top_k=1)]


def _module_level(klass: type, name: str) -> type:
    """Make a class defined in a build function findable by pickle (checkpoints that store the module's class)."""
    klass.__qualname__ = klass.__name__ = name
    klass.__module__ = __name__
    globals()[name] = klass
    return klass


# Each build_* returns record_run's settings: factory (a class, or a callable building the module), trainer_kwargs,
# stages, and monitor (the key a ModelCheckpoint watches). Data is small, synthetic and fixed by a seed.


def _forecasting_data():
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = []
    for series in range(4):
        t = np.arange(60)
        values = np.sin(t / 5 + series) + 0.1 * rng.standard_normal(60) + series
        rows += [{"series": str(series), "time_idx": int(i), "value": float(v)} for i, v in zip(t, values)]
    return pd.DataFrame(rows)


def _forecasting_settings(model_name: str, dataset_kwargs: dict, model_kwargs: dict) -> dict:
    import pytorch_forecasting
    from pytorch_forecasting import TimeSeriesDataSet
    from pytorch_forecasting.data import NaNLabelEncoder

    data = _forecasting_data()
    cutoff = 44
    training = TimeSeriesDataSet(
        data[data.time_idx <= cutoff], time_idx="time_idx", target="value", group_ids=["series"],
        categorical_encoders={"series": NaNLabelEncoder().fit(data.series)}, time_varying_unknown_reals=["value"],
        max_encoder_length=12, max_prediction_length=4, **dataset_kwargs,
    )
    validation = TimeSeriesDataSet.from_dataset(training, data, min_prediction_idx=cutoff + 1)
    base = getattr(pytorch_forecasting, model_name)

    class Trainable(base):
        def train_dataloader(self):
            return training.to_dataloader(train=True, batch_size=16, num_workers=0)

        def val_dataloader(self):
            return validation.to_dataloader(train=False, batch_size=16, num_workers=0)

    return {
        "factory": lambda: Trainable.from_dataset(training, **model_kwargs),
        "trainer_kwargs": {"gradient_clip_val": 0.1},
        "stages": ("fit", "validate"),
        "monitor": "val_loss",
    }


def build_nbeats() -> dict:
    return _forecasting_settings("NBeats", {}, {"learning_rate": 1e-2, "widths": [16, 32], "backcast_loss_ratio": 0.1})


def build_deepar() -> dict:
    return _forecasting_settings(
        "DeepAR", {"static_categoricals": ["series"]}, {"learning_rate": 1e-2, "hidden_size": 8, "rnn_layers": 1}
    )


def build_scvi() -> dict:
    import anndata
    import numpy as np
    import scvi
    from scvi.dataloaders import DataSplitter
    from scvi.model import SCVI
    from scvi.train import TrainingPlan

    scvi.settings.seed = 0  # the train/validation split is drawn from it (a fresh seed per process when None)
    counts = np.random.default_rng(0).poisson(2.0, size=(160, 30)).astype(np.float32)
    adata = anndata.AnnData(counts)
    SCVI.setup_anndata(adata)
    splitter = DataSplitter(SCVI(adata).adata_manager, train_size=0.75, batch_size=32)
    splitter.setup()

    class Trainable(TrainingPlan):
        def __init__(self):
            super().__init__(SCVI(adata, n_hidden=16, n_latent=4, n_layers=1).module)
            self.n_obs_training = splitter.n_train

        def train_dataloader(self):
            return splitter.train_dataloader()

        def val_dataloader(self):
            return splitter.val_dataloader()

    return {"factory": Trainable, "stages": ("fit", "validate"), "monitor": "validation_loss"}


def build_scanvi() -> dict:
    import anndata
    import numpy as np
    import scvi
    from scvi.dataloaders import SemiSupervisedDataSplitter
    from scvi.model import SCANVI
    from scvi.train import SemiSupervisedTrainingPlan

    scvi.settings.seed = 0
    rng = np.random.default_rng(0)
    adata = anndata.AnnData(rng.poisson(2.0, size=(160, 30)).astype(np.float32))
    adata.obs["labels"] = np.array(["a", "b", "Unknown"])[rng.integers(0, 3, 160)]  # a third unlabelled
    SCANVI.setup_anndata(adata, labels_key="labels", unlabeled_category="Unknown")
    model = SCANVI(adata, n_hidden=16, n_latent=4, n_layers=1)
    splitter = SemiSupervisedDataSplitter(model.adata_manager, train_size=0.75, batch_size=32)
    splitter.setup()

    class Trainable(SemiSupervisedTrainingPlan):
        def __init__(self):
            super().__init__(SCANVI(adata, n_hidden=16, n_latent=4, n_layers=1).module, n_classes=model.n_labels)
            self.n_obs_training = splitter.n_train

        def train_dataloader(self):
            return splitter.train_dataloader()

        def val_dataloader(self):
            return splitter.val_dataloader()

    return {"factory": Trainable, "stages": ("fit", "validate"), "monitor": "validation_loss"}


def _image_batches(n: int, with_mask: bool, seed: int):
    import torch

    g = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(n):
        image = torch.rand(3, 32, 32, generator=g)
        sample = {"image": image, "label": torch.randint(0, 4, (), generator=g)}
        if with_mask:
            sample = {"image": image, "mask": torch.randint(0, 3, (32, 32), generator=g)}
        samples.append(sample)
    return samples


def _torchgeo_settings(task_name: str, task_kwargs: dict, with_mask: bool) -> dict:
    import torchgeo.trainers
    from torch.utils.data import DataLoader

    base = getattr(torchgeo.trainers, task_name)
    train_data, val_data = _image_batches(24, with_mask, 1), _image_batches(12, with_mask, 2)

    class Trainable(base):
        def __init__(self):
            super().__init__(**task_kwargs)

        def train_dataloader(self):
            return DataLoader(train_data, batch_size=8, shuffle=True)

        def val_dataloader(self):
            return DataLoader(val_data, batch_size=5)

        def test_dataloader(self):
            return DataLoader(val_data, batch_size=6)

    return {"factory": Trainable, "stages": ("fit", "validate", "test"), "monitor": "val_loss"}


def build_torchgeo_classification() -> dict:
    return _torchgeo_settings(
        "ClassificationTask", {"model": "resnet18", "weights": None, "in_channels": 3, "num_classes": 4}, False
    )


def build_torchgeo_segmentation() -> dict:
    return _torchgeo_settings(
        "SemanticSegmentationTask",
        {"model": "unet", "backbone": "resnet18", "weights": None, "in_channels": 3, "num_classes": 3},
        True,
    )


def build_anomalib_ganomaly() -> dict:
    import torch
    from anomalib.data import ImageBatch
    from anomalib.models import Ganomaly
    from anomalib.pre_processing import PreProcessor
    from torch.utils.data import DataLoader
    from torchvision.transforms.v2 import Resize

    g = torch.Generator().manual_seed(0)
    images = torch.rand(24, 3, 32, 32, generator=g)
    labels = torch.randint(0, 2, (24,), generator=g)

    def collate(indices):
        return ImageBatch(image=images[indices], gt_label=labels[indices])

    class Trainable(Ganomaly):
        def __init__(self):
            super().__init__(batch_size=8, n_features=8, latent_vec_size=16, extra_layers=0,
                             pre_processor=PreProcessor(Resize((32, 32))), post_processor=False, evaluator=False,
                             visualizer=False)

        def train_dataloader(self):
            return DataLoader(range(16), batch_size=8, shuffle=True, collate_fn=collate)

        def val_dataloader(self):
            return DataLoader(range(16, 24), batch_size=4, collate_fn=collate)

    return {"factory": _module_level(Trainable, "GanomalyTrainable"), "stages": ("fit",)}


def build_lightly_embedding() -> dict:
    import torch
    from lightly.embedding import SelfSupervisedEmbedding
    from lightly.loss import NTXentLoss
    from torch import nn
    from torch.utils.data import DataLoader

    g = torch.Generator().manual_seed(0)
    data = [((torch.rand(3, 16, 16, generator=g), torch.rand(3, 16, 16, generator=g)), 0, f"{i}.png")
            for i in range(32)]

    class SimCLR(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 32), nn.ReLU())
            self.head = nn.Linear(32, 8)

        def forward(self, x0, x1):
            return self.head(self.backbone(x0)), self.head(self.backbone(x1))

    class Trainable(SelfSupervisedEmbedding):
        def __init__(self):
            model = SimCLR()
            loader = DataLoader(data, batch_size=8, shuffle=True)
            super().__init__(model, NTXentLoss(), torch.optim.SGD(model.parameters(), lr=0.1), loader)

    return {"factory": Trainable, "stages": ("fit",)}


def build_lightly_linear() -> dict:
    import torch
    from lightly.utils.benchmarking import LinearClassifier
    from torch import nn
    from torch.utils.data import DataLoader

    g = torch.Generator().manual_seed(0)
    data = [(torch.rand(16, generator=g), int(torch.randint(0, 4, (), generator=g))) for _ in range(40)]

    class Trainable(LinearClassifier):
        def __init__(self):
            super().__init__(nn.Sequential(nn.Linear(16, 12), nn.ReLU()), batch_size_per_device=8, feature_dim=12,
                             num_classes=4, topk=(1, 2))

        def train_dataloader(self):
            return DataLoader(data[:32], batch_size=8, shuffle=True)

        def val_dataloader(self):
            return DataLoader(data[32:], batch_size=3)

    return {"factory": Trainable, "stages": ("fit", "validate"), "monitor": "val_loss"}


def build_hydra_template_mnist() -> dict:
    import functools

    import torch
    from src.models.components.simple_dense_net import SimpleDenseNet
    from src.models.mnist_module import MNISTLitModule
    from torch.utils.data import DataLoader, TensorDataset

    g = torch.Generator().manual_seed(0)
    images, labels = torch.rand(60, 1, 28, 28, generator=g), torch.randint(0, 10, (60,), generator=g)

    class Trainable(MNISTLitModule):
        def __init__(self):
            super().__init__(
                net=SimpleDenseNet(lin1_size=16, lin2_size=16, lin3_size=16),
                optimizer=functools.partial(torch.optim.Adam, lr=1e-3),
                scheduler=functools.partial(torch.optim.lr_scheduler.ReduceLROnPlateau, mode="min", factor=0.5,
                                            patience=0),
                compile=False,
            )

        def train_dataloader(self):
            return DataLoader(TensorDataset(images[:40], labels[:40]), batch_size=8, shuffle=True)

        def val_dataloader(self):
            return DataLoader(TensorDataset(images[40:], labels[40:]), batch_size=6)

        def test_dataloader(self):
            return DataLoader(TensorDataset(images[40:], labels[40:]), batch_size=7)

    return {"factory": _module_level(Trainable, "MNISTTrainable"), "stages": ("fit", "validate", "test"),
            "monitor": "val/loss"}


def build_nemo_style() -> dict:
    from nemo_style.enhancement import EncMaskDecAudioToAudioModel

    return {"factory": EncMaskDecAudioToAudioModel, "stages": ("fit", "validate", "test"),
            "monitor": "val_loss"}


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--drive":
        drive(*sys.argv[2:])
    else:
        sys.exit(main())
