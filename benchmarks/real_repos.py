"""Run the codemod over real Lightning repositories, in memory, and measure what it does.

    .venv/bin/python benchmarks/real_repos.py DIR... [--json FILE] [-j N] [--examples] [--unseen] [--no-index]
                                                  [--equivalence] [--keep DIR]

For each DIR (a repository checkout, or a folder of one) every ``*.py`` file the CLI would pick
(``put_migrate.discover.discover_files``) is read and migrated with ``put_migrate.api.migrate_bytes`` in check
mode, after the CLI's repository index of DIR (``put_migrate.index``, when present; ``--no-index``: each file
alone). Nothing is written to the checkout; the idempotence pass works on a temporary copy of the migrated tree.
Figures and findings: docs/real-codebases.md. Per repository it reports

- files: ``*.py`` files scanned; parsed: files past the cheap pre-filter;
- calls: log calls the codemod reported (findings: rewritten + left for a human);
- rewritten, and the calls left per rule code (PM2xx, PM001);
- unseen: ``self.log``/``self.log_dict``/``pl_module.log``/``pl_module.log_dict`` calls (counted with ``ast``,
  independently of the codemod) that sit in a class inheriting LightningModule/Callback *through a class of the
  same repository* (or through a Lightning demo class such as ``BoringModel``) and got no finding at all: the
  codemod never saw them. ``--unseen`` lists where they are, by kind. Calls in classes that are not Lightning
  classes (a logger's own ``log``) are not counted;
- crashes: files where the codemod raised (PM305, or an exception escaping ``migrate_bytes``): must be 0;
  file errors: every PM3xx result by code (PM301 input does not parse, PM303 unsafe to write, ...);
- broken: outputs that do not parse (libcst and ``compile``) or, when pyflakes is importable, that gain an
  undefined name: must be 0;
- idempotence: the migrated output migrated again must come back byte for byte, with no call rewritten: the
  number of files where it does not must be 0.

Rewrite % = rewritten / (calls + unseen): calls the codemod never saw count as not rewritten.

``--equivalence`` also trains the real modules of EQUIVALENCE_CASES found under the DIRs (CPU, synthetic tensors)
and their migrated forms side by side with ``shim.testing.record_run`` and ``differences``, in temporary folders.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import libcst  # noqa: E402

from put_migrate.api import INTERNAL_ERROR, FileStatus, Mode, migrate_bytes  # noqa: E402
from put_migrate.discover import discover_files  # noqa: E402
from put_migrate.rules import Severity  # noqa: E402

try:  # optional: undefined names introduced by the rewrite
    from pyflakes import api as _pyflakes_api
    from pyflakes import messages as _pyflakes_messages
    from pyflakes import reporter as _pyflakes_reporter
except ImportError:  # pragma: no cover - pyflakes is not a dependency
    _pyflakes_api = None

LOG_ATTRS = ("log", "log_dict")
RECEIVERS = ("self", "pl_module")
KEEP_ENV = "REAL_REPOS_KEEP"  # folder where broken / non-idempotent outputs are saved (set by --keep)
LIGHTNING_ROOTS = {"LightningModule": "module", "Callback": "callback"}
# Classes shipped by Lightning that subclass LightningModule (tests and examples inherit from them).
LIGHTNING_DEMO_MODULES = {"BoringModel", "DemoModel", "LightningTestModel", "ClassificationModel", "RegressionModel"}


# --- independent (ast) view of the log calls ---------------------------------------------------------------------


@dataclass
class Site:
    line: int
    receiver: str
    cls: str | None  # innermost enclosing class, None when there is none
    local: bool  # that class is not at the top level of the file (defined in a function or another class)
    nested: bool  # the call sits in a function/lambda nested inside the method


def _log_sites(tree: ast.Module) -> list[Site]:
    sites: list[Site] = []

    def visit(node: ast.AST, cls: str | None, local: bool, depth: int) -> None:
        for child in ast.iter_child_nodes(node):
            c, l, d = cls, local, depth
            if isinstance(child, ast.ClassDef):
                c, l, d = child.name, node is not tree, 0
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                d = depth + 1
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr in LOG_ATTRS
                and isinstance(child.func.value, ast.Name)
                and child.func.value.id in RECEIVERS
            ):
                sites.append(Site(child.lineno, child.func.value.id, cls, local, depth > 1))
            visit(child, c, l, d)

    visit(tree, None, False, 0)
    return sites


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):  # Generic[...]
        return _base_name(node.value)
    return None


def _classes(tree: ast.Module) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for node in ast.walk(tree):  # local classes too (a test's `class Model(BoringModel)` inside a function)
        if isinstance(node, ast.ClassDef):
            found.setdefault(node.name, []).extend(b for b in (_base_name(x) for x in node.bases) if b)
    return found


def lightning_kind(name: str, graph: dict[str, set[str]], seen: frozenset[str] = frozenset()) -> str | None:
    """'module'/'callback' when the class name reaches LightningModule/Callback through the repository's classes."""
    if name in LIGHTNING_ROOTS:
        return LIGHTNING_ROOTS[name]
    if name in LIGHTNING_DEMO_MODULES:
        return "module"
    if name in seen:
        return None
    for base in graph.get(name, ()):
        kind = lightning_kind(base, graph, seen | {name})
        if kind:
            return kind
    return None


# --- one file --------------------------------------------------------------------------------------------------


def _compiles(text: str, path: str) -> bool:
    try:
        compile(text, path, "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def _undefined_names(text: str, path: str) -> Counter:
    if _pyflakes_api is None:
        return Counter()

    class _Collect(_pyflakes_reporter.Reporter):
        def __init__(self) -> None:
            self.found: Counter = Counter()

        def unexpectedError(self, filename, msg):  # noqa: N802
            pass

        def syntaxError(self, filename, msg, lineno, offset, text):  # noqa: N802
            pass

        def flake(self, message):
            if isinstance(message, _pyflakes_messages.UndefinedName):
                self.found[message.message_args[0]] += 1

    collect = _Collect()
    try:
        from pyflakes import checker

        tree = ast.parse(text, filename=path)
        for message in checker.Checker(tree, filename=path).messages:
            collect.flake(message)
    except (SyntaxError, RecursionError, ValueError):
        pass
    return collect.found


def measure_file(path: str) -> dict:
    out: dict = {
        "path": path, "parsed": False, "status": "", "rewritten": 0, "left": {}, "errors": {}, "crash": "",
        "broken": "", "sites": [], "classes": {}, "finding_lines": [],
        "changed": False, "seconds": 0.0,
    }
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        out["errors"] = {"read": 1}
        out["crash"] = f"read: {exc}"
        return out
    try:
        tree = ast.parse(data)
        out["sites"] = [s.__dict__ for s in _log_sites(tree)]
        out["classes"] = _classes(tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    start = time.perf_counter()
    try:
        result, new_data = migrate_bytes(data, path, mode=Mode.CHECK, index=_INDEX)
    except Exception as exc:  # noqa: BLE001 - migrate_bytes promises never to raise
        out["crash"] = f"escaped: {type(exc).__name__}: {exc}"
        return out
    out["seconds"] = time.perf_counter() - start
    out["parsed"] = result.parsed
    out["status"] = result.status.value
    left: Counter = Counter()
    errors: Counter = Counter()
    for f in result.findings:
        if f.severity is Severity.REWRITTEN:
            out["rewritten"] += 1
        elif f.severity is Severity.MANUAL:
            left[f.code] += 1
        else:
            errors[f.code] += 1
        if f.severity is not Severity.ERROR:
            out["finding_lines"].append(f.line)
    out["left"], out["errors"] = dict(left), dict(errors)
    if result.status is FileStatus.ERROR and errors.get(INTERNAL_ERROR):
        out["crash"] = result.reason + ("\n" + result.detail if result.detail else "")
    if new_data == data:
        return out
    out["changed"] = True
    text, new_text = data.decode("utf-8", "replace"), new_data.decode("utf-8", "replace")
    try:
        libcst.parse_module(new_data)
    except Exception as exc:  # noqa: BLE001
        out["broken"] = f"libcst: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if not out["broken"] and _compiles(text, path) and not _compiles(new_text, path):
        try:
            compile(new_text, path, "exec", dont_inherit=True)
        except SyntaxError as exc:
            out["broken"] = f"compile: {exc.msg} (line {exc.lineno})"
    if not out["broken"]:
        gained = _undefined_names(new_text, path) - _undefined_names(text, path)
        if gained:
            out["broken"] = "undefined names: " + ", ".join(sorted(gained))
    keep = os.environ.get(KEEP_ENV)
    if keep and out["broken"]:
        target = Path(keep) / (path.strip("/").replace("/", "__"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(new_data)
    out["new_data"] = new_data  # the second pass (idempotence) runs later, with an index of the migrated tree
    return out


def second_pass(args: tuple[str, str, bytes]) -> tuple[str, str]:
    """Migrate a migrated file again (at copy_path, so the repository index sees the migrated tree): '' when
    nothing changes, else what did."""
    path, copy_path, new_data = args
    again, again_data = migrate_bytes(new_data, copy_path, mode=Mode.CHECK, index=_INDEX)
    again_rewritten = sum(1 for f in again.findings if f.severity is Severity.REWRITTEN)
    if again_data == new_data and not again_rewritten and again.status is not FileStatus.ERROR:
        return path, ""
    keep = os.environ.get(KEEP_ENV)
    if keep:
        target = Path(keep) / (path.strip("/").replace("/", "__"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(new_data)
        target.with_name(target.name + ".second").write_bytes(again_data)
    return path, (f"second pass: status={again.status.value}, rewritten={again_rewritten}, "
                  f"bytes {'differ' if again_data != new_data else 'same'}, reason={again.reason}")


# --- one repository --------------------------------------------------------------------------------------------


@dataclass
class RepoStats:
    name: str
    files: int = 0
    parsed: int = 0
    changed: int = 0
    rewritten: int = 0
    left: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    crashes: list = field(default_factory=list)
    broken: list = field(default_factory=list)
    not_idempotent: list = field(default_factory=list)
    unseen: Counter = field(default_factory=Counter)  # kind -> count
    unseen_where: list = field(default_factory=list)
    examples: dict = field(default_factory=dict)  # code -> "path:line"
    seconds: float = 0.0

    @property
    def calls(self) -> int:
        return self.rewritten + sum(self.left.values())

    @property
    def unseen_total(self) -> int:
        return sum(self.unseen.values())

    @property
    def percent(self) -> float:
        total = self.calls + self.unseen_total
        return 100.0 * self.rewritten / total if total else 100.0

    def as_json(self) -> dict:
        return {
            "repo": self.name, "files": self.files, "parsed": self.parsed, "changed_files": self.changed,
            "calls": self.calls, "rewritten": self.rewritten, "left": dict(sorted(self.left.items())),
            "unseen": dict(sorted(self.unseen.items())), "rewrite_percent": round(self.percent, 1),
            "file_errors": dict(sorted(self.errors.items())), "crashes": self.crashes, "broken": self.broken,
            "not_idempotent": self.not_idempotent, "examples": self.examples, "unseen_where": self.unseen_where,
            "seconds": round(self.seconds, 2),
        }


def _unseen(results: list[dict], stats: RepoStats) -> None:
    graph: dict[str, set[str]] = {}
    for r in results:
        for name, bases in r["classes"].items():
            graph.setdefault(name, set()).update(bases)
    for r in results:
        lines = Counter(r["finding_lines"])
        if r["errors"]:  # the whole file was refused; its calls are accounted for by the file error
            continue
        for s in r["sites"]:
            if lines[s["line"]] > 0:
                lines[s["line"]] -= 1
                continue
            if s["cls"] is None:
                if s["receiver"] == "self":
                    continue  # a plain function with a `self` parameter: not attributable
                kind = "pl_module.log in a function outside a class"
            else:
                if s["cls"] in LIGHTNING_ROOTS:
                    continue  # Lightning's own LightningModule.log_dict calling self.log
                lk = lightning_kind(s["cls"], graph)
                if lk is None:
                    continue  # not a Lightning class (a logger's own log method, ...)
                bases = set(r["classes"].get(s["cls"], ()))
                if bases & set(LIGHTNING_ROOTS):
                    kind = f"direct {lk} subclass"
                elif bases & LIGHTNING_DEMO_MODULES:
                    kind = "subclass of a Lightning demo class (BoringModel, ...)"
                elif lightning_kind(s["cls"], {k: set(v) for k, v in r["classes"].items()}):
                    kind = f"{lk} subclass through a base class of the same file"
                else:
                    kind = f"{lk} subclass through a project base class in another file"
                if s["local"]:
                    kind = "local class (defined in a function): " + kind
                elif bases & set(LIGHTNING_ROOTS):
                    kind += ", base not resolved from the file's imports"
                if s["nested"]:
                    kind += "; call in a nested function"
            stats.unseen[kind] += 1
            stats.unseen_where.append(f"{r['path']}:{s['line']}: {kind}")


def _repository_pass():
    """The CLI's repository index (``put_migrate.index``), when this version of put_migrate has one."""
    try:
        from put_migrate.index import build_index
    except ImportError:
        return None, None
    return build_index, _set_index


_INDEX = None  # the repository index of the pass running in this process (set in each worker by the pool)


def _set_index(index) -> None:
    global _INDEX
    _INDEX = index


def _map(function, items, jobs: int, index, setter) -> list:
    if jobs > 1 and len(items) > 1:
        init = {"initializer": setter, "initargs": (index,)} if setter is not None else {}
        with ProcessPoolExecutor(jobs, **init) as pool:
            return list(pool.map(function, items, chunksize=max(1, min(8, len(items) // (jobs * 4)))))
    if setter is not None:
        setter(index)
    try:
        return [function(item) for item in items]
    finally:
        if setter is not None:
            setter(None)


def measure_repo(directory: str, jobs: int, use_index: bool = True) -> RepoStats:
    import shutil
    import tempfile

    stats = RepoStats(name=directory.rstrip("/"))
    files = [str(p) for p in discover_files([directory], ())]
    stats.files = len(files)
    build_index, setter = _repository_pass() if use_index else (None, None)
    start = time.perf_counter()
    index = build_index(Path(f) for f in files) if build_index else None
    results = _map(measure_file, files, jobs, index, setter)
    stats.seconds = time.perf_counter() - start
    # Idempotence: the migrated tree (a temporary copy, so that its repository index is the one the CLI would
    # build on a second run), each changed file migrated again.
    changed = [r for r in results if r.get("new_data") is not None]
    if changed:
        copy = Path(tempfile.mkdtemp(prefix="put-migrate-second-"))
        try:
            root = Path(directory).resolve()
            copies = {}
            for r in results:
                target = copy / Path(r["path"]).resolve().relative_to(root)
                target.parent.mkdir(parents=True, exist_ok=True)
                data = r.get("new_data")
                if data is None:
                    shutil.copyfile(r["path"], target)
                else:
                    target.write_bytes(data)
                copies[r["path"]] = str(target)
            second_index = build_index(Path(c) for c in copies.values()) if build_index else None
            items = [(r["path"], copies[r["path"]], r["new_data"]) for r in changed]
            for path, detail in _map(second_pass, items, jobs, second_index, setter):
                if detail:
                    stats.not_idempotent.append(f"{path}: {detail}")
        finally:
            shutil.rmtree(copy, ignore_errors=True)
    for r in results:
        r.pop("new_data", None)
    for r in results:
        stats.parsed += r["parsed"]
        stats.changed += r["changed"]
        stats.rewritten += r["rewritten"]
        stats.left.update(r["left"])
        stats.errors.update(r["errors"])
        for code in list(r["left"]) + list(r["errors"]):
            stats.examples.setdefault(code, r["path"])
        if r["crash"]:
            stats.crashes.append(f"{r['path']}: {r['crash']}")
        if r["broken"]:
            stats.broken.append(f"{r['path']}: {r['broken']}")
    _unseen(results, stats)
    return stats


# --- side by side training of real modules (--equivalence) ------------------------------------------------------

# Real modules that train on CPU with synthetic tensors: (path tail inside a repository, class, adapter). The adapter
# is the body of a subclass that gives the class constructor arguments and synthetic dataloaders; it is written,
# with the original and the migrated file, to a temporary folder (never into the repository or this project).
_DATA = """
    def _loader(self, n, shuffle):
        g = torch.Generator().manual_seed(n)
        x = torch.randn(n, *SHAPE, generator=g)
        y = torch.randint(0, 10, (n,), generator=g)
        data = torch.utils.data.TensorDataset(x, y) if LABELS else torch.utils.data.TensorDataset(x)
        collate = None if LABELS else (lambda rows: torch.stack([r[0] for r in rows]))
        return torch.utils.data.DataLoader(data, batch_size=32, shuffle=shuffle, collate_fn=collate)

    def train_dataloader(self):
        return self._loader(200, True)

    def val_dataloader(self):
        return self._loader(70, False)  # batches of 32, 32 and 6: weighted means differ from plain means

    def test_dataloader(self):
        return self._loader(70, False)
"""
EQUIVALENCE_CASES = [
    (
        "src/models/mnist_module.py",  # ashleve/lightning-hydra-template
        "MNISTLitModule",
        "SHAPE, LABELS = (1, 28, 28), True\n"
        "_net = load_file(REPO / 'src/models/components/simple_dense_net.py')\n"
        "class Trainable(Base):\n"
        "    def __init__(self):\n"
        "        super().__init__(net=_net.SimpleDenseNet(), optimizer=functools.partial(torch.optim.Adam, lr=1e-3),\n"
        "                         scheduler=functools.partial(torch.optim.lr_scheduler.ReduceLROnPlateau, mode='min',\n"
        "                                                     factor=0.5, patience=0), compile=False)\n" + _DATA,
        # the template's default callbacks (configs/callbacks/default.yaml): checkpoint and early stopping on val/acc
        "lambda: [pl.callbacks.ModelCheckpoint(monitor='val/acc', mode='max', dirpath=tempfile.mkdtemp()),"
        " pl.callbacks.EarlyStopping(monitor='val/acc', mode='max', patience=100)]",
    ),
    (
        "bug_report/bug_report_model.py",  # Lightning-AI/pytorch-lightning examples
        "BoringModel",
        "SHAPE, LABELS = (32,), False\n"
        "class Trainable(Base):\n" + _DATA,
        "None",
    ),
]

_DRIVER = """
import functools, sys, tempfile
from pathlib import Path
import torch
import lightning.pytorch as pl
sys.path.insert(0, {root!r})
from shim.testing import differences, load_file, record_run
REPO = Path({repo!r})
results = []
for variant in ("original", "migrated"):
    Base = getattr(load_file(Path({work!r}) / (variant + ".py")), {cls!r})
    scope = dict(globals(), Base=Base)
    exec({adapter!r}, scope)
    callbacks = eval({callbacks!r}, scope)
    kwargs = dict(max_epochs=3, log_every_n_steps=1, num_sanity_val_steps=2, enable_progress_bar=False)
    results.append(record_run(scope["Trainable"], trainer_kwargs=kwargs, stages=("fit", "validate", "test"),
                              callbacks=callbacks, workdir=tempfile.mkdtemp(dir={work!r})))
a, b = results
print("logged keys:", sorted({{k for _, m in a.logger_calls for k in m}}))
print("logger calls:", len(a.logger_calls), "/", len(b.logger_calls), "; results:", a.results)
problems = differences(a, b)
print("DIFFERENCES:" if problems else "SAME TRAINING")
for p in problems:
    print("  - " + p)
sys.exit(1 if problems else 0)
"""


def run_equivalence(directory: str) -> list[dict]:
    """Train each known real module under directory and its migrated form side by side (subprocess per case)."""
    import subprocess
    import tempfile

    from put_migrate.transform import migrate_source

    found = []
    for tail, cls, adapter, callbacks in EQUIVALENCE_CASES:
        for path in sorted(Path(directory).rglob(Path(tail).name)):
            if not path.as_posix().endswith(tail):
                continue
            text = path.read_text()
            if f"class {cls}(" not in text:
                continue
            path = path.resolve()
            repo = path.parents[len(Path(tail).parts) - 1]
            result = migrate_source(text, str(path))
            rewritten = sum(1 for f in result.findings if f.severity is Severity.REWRITTEN)
            work = Path(tempfile.mkdtemp(prefix="put-migrate-equiv-"))
            (work / "original.py").write_text(text)
            (work / "migrated.py").write_text(result.source)
            driver = _DRIVER.format(root=str(ROOT), repo=str(repo), work=str(work), cls=cls, adapter=adapter,
                                    callbacks=callbacks)
            (work / "driver.py").write_text(driver)
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, str(work / "driver.py")], capture_output=True, text=True,
                                  cwd=work, timeout=900)
            marks = ("logged keys", "logger calls", "SAME TRAINING", "DIFFERENCES", "  - ")
            tail_lines = [line for line in proc.stdout.splitlines() if line.startswith(marks)]
            if proc.returncode and "DIFFERENCES:" not in proc.stdout:
                tail_lines += proc.stderr.splitlines()[-12:]
            found.append({"file": str(path), "class": cls, "rewritten": rewritten, "rc": proc.returncode,
                          "seconds": round(time.perf_counter() - start, 1), "output": tail_lines, "work": str(work)})
    return found


# --- output ----------------------------------------------------------------------------------------------------


def table(all_stats: list[RepoStats]) -> str:
    head = ["repo", "files", "parsed", "calls", "rewritten", "unseen", "rewrite %", "crashes", "broken",
            "not idempotent", "file errors", "left by rule"]
    rows = []
    total = RepoStats(name="**total**")
    for s in all_stats:
        rows.append(_row(s))
        total.files += s.files
        total.parsed += s.parsed
        total.rewritten += s.rewritten
        total.left.update(s.left)
        total.errors.update(s.errors)
        total.unseen.update(s.unseen)
        total.crashes += s.crashes
        total.broken += s.broken
        total.not_idempotent += s.not_idempotent
    rows.append(_row(total))
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _row(s: RepoStats) -> list:
    left = ", ".join(f"{c} {n}" for c, n in sorted(s.left.items(), key=lambda kv: (-kv[1], kv[0]))) or "-"
    errors = ", ".join(f"{c} {n}" for c, n in sorted(s.errors.items())) or "-"
    return [s.name, s.files, s.parsed, s.calls, s.rewritten, s.unseen_total, f"{s.percent:.1f}", len(s.crashes),
            len(s.broken), len(s.not_idempotent), errors, left]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="+", help="repository folders (one table row each)")
    parser.add_argument("--json", metavar="FILE", help="write the per-repository figures as JSON")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--examples", action="store_true", help="print one file per rule code")
    parser.add_argument("--unseen", action="store_true", help="list the calls the codemod never saw")
    parser.add_argument("--no-index", action="store_true",
                        help="migrate each file alone, without the CLI's repository index (put_migrate.index)")
    parser.add_argument("--equivalence", action="store_true",
                        help="also train the known CPU-trainable real modules and their migrated forms side by side")
    parser.add_argument("--keep", metavar="DIR", help="save broken and non-idempotent outputs here (not in a repo)")
    args = parser.parse_args(argv)
    if args.keep:
        os.environ[KEEP_ENV] = os.path.abspath(args.keep)
    if _pyflakes_api is None:
        print("note: pyflakes not importable; the undefined-name check is off", file=sys.stderr)
    all_stats = []
    for directory in args.dirs:
        if not Path(directory).is_dir():
            parser.error(f"not a folder: {directory}")
        stats = measure_repo(directory, args.jobs, use_index=not args.no_index)
        all_stats.append(stats)
        print(f"{stats.name}: {stats.files} files, {stats.seconds:.1f} s", file=sys.stderr)
    print(table(all_stats))
    total_calls = sum(s.calls + s.unseen_total for s in all_stats)
    total_rewritten = sum(s.rewritten for s in all_stats)
    seen_calls = sum(s.calls for s in all_stats)
    print()
    print(f"rewritten {total_rewritten} of {total_calls} calls ({100.0 * total_rewritten / max(total_calls, 1):.1f}%); "
          f"of the {seen_calls} calls the codemod saw: {100.0 * total_rewritten / max(seen_calls, 1):.1f}%")
    for s in all_stats:
        for label, items in (("CRASH", s.crashes), ("BROKEN", s.broken), ("NOT IDEMPOTENT", s.not_idempotent)):
            for item in items:
                print(f"{label}: {item}")
        if args.examples:
            for code, where in sorted(s.examples.items()):
                print(f"example {code}: {where}")
        if args.unseen:
            for k, n in s.unseen.most_common():
                print(f"unseen {s.name}: {n} x {k}")
            for where in s.unseen_where:
                print(f"  {where}")
    equivalence = []
    if args.equivalence:
        for directory in args.dirs:
            for case in run_equivalence(directory):
                equivalence.append(case)
                verdict = "same training" if case["rc"] == 0 else f"FAILED (rc {case['rc']})"
                print(f"equivalence {case['file']}::{case['class']} ({case['rewritten']} calls rewritten, "
                      f"{case['seconds']} s): {verdict}")
                for line in case["output"]:
                    print(f"    {line}")
    if args.json:
        payload = {"repos": [s.as_json() for s in all_stats], "equivalence": equivalence}
        Path(args.json).write_text(json.dumps(payload, indent=1) + "\n")
    bad = any(s.crashes or s.broken or s.not_idempotent for s in all_stats)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
