"""Fuzz the file-level promises of put-migrate over thousands of generated inputs.

    .venv/bin/python benchmarks/fuzz.py [DIR...] [--inputs 5000] [--hypothesmith 1000] [--seed 0] [--jobs 2]
                                        [--json FILE]

Every input is a file's bytes, given to the real codemod (``api.migrate_bytes``, and one input in ten through
``api.migrate_file`` on disk); one chunk of 50 inputs in four is also written to a folder and migrated in place by
one run (``api.migrate_paths``: the repository index over all of them, the read-ahead, the pre-filter). Three
promises are checked:

1. No crash: nothing raises, and no file is reported as an internal error (PM305) or a dead worker.
2. Never a written file that does not re-parse: new bytes decode in the file's own encoding and parse (with
   CPython's parser where it accepted the input, else with libcst, which read it).
3. Byte-identical output when nothing is rewritten: the bytes returned (and, on disk, the file and its mtime) are
   the bytes given.

Inputs:

- mutations of seed files: the fixtures' ``*.py`` files (``fixtures/``, before and after migration) and
  ``examples/``, plus the ``*.py`` files holding ``.log(`` under any DIR given. One to three mutations each, drawn
  from: dropped, duplicated or swapped lines, renamed hooks, renamed log methods and receivers, added ``self.log``
  arguments, odd encodings (BOM, latin-1 cookie, UTF-16, CRLF, a lone CR, tabs), deep nesting (brackets and
  blocks), huge files (one input in fifty: a file repeated up to ~300 KB, a 30,000-character line), truncation,
  flipped bytes, stray tokens, opt-out comments, and lines spliced from another seed. Input ``i`` of seed ``s`` is always the same.
- with ``--hypothesmith N``: N programs from hypothesmith's Python grammar strategy, each run on its own and
  embedded in a logging Lightning module (at module level, and again as the body of ``training_step``).

Inputs run in a pool of JOBS processes; a worker that dies is reported with the inputs it held (each is then run
alone, to name the one that kills it). Exit status 1 when any promise failed; each failure is printed with the
recipe (seed, input number) that rebuilds it.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from put_migrate import api, safety  # noqa: E402

HOOKS = (
    "training_step", "validation_step", "test_step", "predict_step", "on_train_epoch_end", "on_validation_epoch_end",
    "on_test_epoch_end", "on_train_batch_end", "on_validation_batch_end", "on_fit_start", "__init__", "helper",
    "configure_optimizers", "on_before_optimizer_step",
)
LOG_ARGUMENTS = (
    "on_step=True, ", "on_epoch=True, ", "on_step=False, ", "on_epoch=False, ", "prog_bar=True, ", "logger=False, ",
    "sync_dist=True, ", 'reduce_fx="max", ', "reduce_fx=torch.sum, ", "batch_size=4, ", "batch_size=len(batch), ",
    "add_dataloader_idx=False, ", "rank_zero_only=True, ", 'metric_attribute="m", ', "enable_graph=True, ",
    "*args, ", "**kwargs, ", "on_step=flag, ",
)
NOISE = ("(", ")", "[", "]", ":", "\\", "'''", '"', "\0", "\x85", "\u2028", "\f", "\t", "\r", "#", "@", "lambda:",
         "yield ", "await ", "async ", "$", "\ufeff", "é", "𝔘", " if ", "\\\n")
SOURCE_SUFFIX = ".py"


@dataclass
class Failure:
    promise: str  # "crash", "reparse", "identity", "disk"
    recipe: str  # how to rebuild the input
    detail: str

    def __str__(self) -> str:
        return f"[{self.promise}] {self.recipe}: {self.detail}"


@dataclass
class Tally:
    inputs: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: int = 0  # reported problems with the file (PM3xx), as designed
    on_disk: int = 0
    trees: int = 0  # runs of migrate_paths over a folder of inputs
    failures: list[Failure] = field(default_factory=list)

    def add(self, other: "Tally") -> None:
        self.inputs += other.inputs
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.errors += other.errors
        self.on_disk += other.on_disk
        self.trees += other.trees
        self.failures.extend(other.failures)


# --- the promises --------------------------------------------------------------------------------------------------


def _cpython_parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<fuzz>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def _reparses(old: bytes, new: bytes) -> str | None:
    """Why the written bytes do not re-parse, or None."""
    try:
        old_source = safety.decode_source(old)
        new_source = safety.decode_source(new)
    except safety.UnsafeFile as exc:
        return f"the written bytes do not decode: {exc}"
    if new_source.encoding != old_source.encoding:
        return f"encoding changed: {old_source.encoding} -> {new_source.encoding}"
    if _cpython_parses(new_source.text):
        return None
    if _cpython_parses(old_source.text):
        return "CPython parsed the input but not the written file"
    import libcst

    try:
        with safety.recursion_limit():
            libcst.parse_module(new_source.text)
    except Exception as exc:  # noqa: BLE001
        return f"the written file does not parse: {type(exc).__name__}: {exc}"[:300]
    return None


def check(data: bytes, recipe: str, tally: Tally, name: str = "fuzz.py", on_disk: bool = False) -> None:
    """Run one input through the codemod and record any broken promise in ``tally``."""
    tally.inputs += 1
    try:
        result, new = api.migrate_bytes(data, name, mode=api.Mode.WRITE)
    except BaseException as exc:  # noqa: BLE001 - a crash is what we are looking for
        if isinstance(exc, KeyboardInterrupt):
            raise
        tally.failures.append(Failure("crash", recipe, f"migrate_bytes raised {type(exc).__name__}: {exc}"[:300]))
        return
    internal = [f for f in result.findings if f.code == api.INTERNAL_ERROR]
    if internal:
        tally.failures.append(Failure("crash", recipe, internal[0].message[:300]))
    if result.status is api.FileStatus.ERROR:
        tally.errors += 1
    if result.changed:
        tally.changed += 1
        why = _reparses(data, new)
        if why:
            tally.failures.append(Failure("reparse", recipe, why))
    else:
        tally.unchanged += 1
        if new != data:
            tally.failures.append(Failure("identity", recipe, "not rewritten, but the bytes returned differ"))
    if on_disk:
        tally.on_disk += 1
        _check_on_disk(data, new, result, recipe, tally, name)


def _check_on_disk(data: bytes, new: bytes, result, recipe: str, tally: Tally, name: str) -> None:
    with tempfile.TemporaryDirectory(prefix="put-migrate-fuzz-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))
        try:
            on_disk = api.migrate_file(path, mode=api.Mode.WRITE)
        except Exception as exc:  # noqa: BLE001
            tally.failures.append(Failure("crash", recipe, f"migrate_file raised {type(exc).__name__}: {exc}"[:300]))
            return
        after = path.read_bytes()
        if on_disk.changed != result.changed:
            tally.failures.append(Failure("disk", recipe, "migrate_file and migrate_bytes disagree"))
        elif not on_disk.written:
            if after != data or path.stat().st_mtime_ns != 1_000_000_000:
                tally.failures.append(Failure("disk", recipe, "a file not rewritten was touched"))
        elif after != api.migrate_bytes(data, str(path), mode=api.Mode.WRITE)[1]:
            # Compared with migrate_bytes under the same path: the configuration found above the file (line length,
            # import sections) shapes the generated code.
            tally.failures.append(Failure("disk", recipe, "the file holds other bytes than migrate_bytes gave"))
        leftovers = [p.name for p in Path(folder).iterdir() if p.name != name]
        if leftovers:
            tally.failures.append(Failure("disk", recipe, f"files left behind: {leftovers}"))


# --- mutations -----------------------------------------------------------------------------------------------------


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def drop_lines(rng: random.Random, data: bytes, seeds) -> bytes:
    lines = _lines(data)
    for _ in range(rng.randint(1, 3)):
        if len(lines) > 1:
            del lines[rng.randrange(len(lines))]
    return b"".join(lines)


def duplicate_line(rng, data, seeds):
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines.insert(rng.randrange(len(lines) + 1), lines[i])
    return b"".join(lines)


def swap_lines(rng, data, seeds):
    lines = _lines(data)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines)


def rename_hook(rng, data, seeds):
    present = [h for h in HOOKS if f"def {h}(".encode() in data]
    if not present:
        return data
    old = rng.choice(present)
    return data.replace(f"def {old}(".encode(), f"def {rng.choice(HOOKS)}(".encode(), rng.choice((1, -1)))


def rename_log(rng, data, seeds):
    old, new = rng.choice(
        [(b"self.log(", b"self.log_dict("), (b"self.log_dict(", b"self.log("), (b"self.log(", b"pl_module.log("),
         (b"self.log(", b"self . log ("), (b"self.log(", b"super().log("), (b"self", b"this"),
         (b"pl_module.log(", b"self.log(")]
    )
    return data.replace(old, new, rng.choice((1, -1)))


def add_log_argument(rng, data, seeds):
    at = [i for i in range(len(data)) if data.startswith(b".log(", i)]
    if not at:
        return data
    i = rng.choice(at) + len(b".log(")
    return data[:i] + rng.choice(LOG_ARGUMENTS).encode() + data[i:]


def odd_encoding(rng, data, seeds):
    choice = rng.randrange(7)
    if choice == 0:
        return b"\xef\xbb\xbf" + data
    if choice == 1:
        try:
            text = data.decode("utf-8")
            return ("# -*- coding: latin-1 -*-\n" + text.replace("'", "'é", 1)).encode("latin-1")
        except (UnicodeDecodeError, UnicodeEncodeError):
            return b"# -*- coding: latin-1 -*-\n" + data
    if choice == 2:
        return data.decode("utf-8", errors="replace").encode("utf-16")
    if choice == 3:
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if choice == 4:
        return data.rstrip(b"\n") + b"\r"
    if choice == 5:
        return data.replace(b"        ", b"\t\t").replace(b"    ", b"\t")
    return b"# coding: made-up\n" + data


def deep_nesting(rng, data, seeds):
    depth = rng.choice((10, 50, 150, 199, 201, 400, 3000))
    if rng.random() < 0.5:
        at = [i for i in range(len(data)) if data.startswith(b".log(", i)]
        if not at:
            return data
        i = data.find(b",", rng.choice(at))
        if i < 0:
            return data
        return data[:i] + b" + " + b"(" * depth + b"1" + b")" * depth + data[i:]
    lines = _lines(data)
    body = [n for n, line in enumerate(lines) if b"self.log(" in line]
    if not body:
        return data
    n = rng.choice(body)
    indent = len(lines[n]) - len(lines[n].lstrip())
    depth = min(depth, 120)
    block = b"".join(b" " * (indent + 4 * k) + b"if x:\n" for k in range(depth))
    lines[n] = block + b" " * (4 * depth) + lines[n]
    return b"".join(lines)


def huge(rng, data, seeds):
    if rng.random() < 0.5:
        times = max(1, min(100, 300_000 // max(len(data), 1)))
        return data * rng.randint(2, max(2, times))
    return data + b"x = [" + b"1, " * 10_000 + b"]\n"


def truncate(rng, data, seeds):
    return data[: rng.randrange(len(data) + 1)]


def flip_bytes(rng, data, seeds):
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def stray_token(rng, data, seeds):
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.choice(NOISE).encode("utf-8") + data[i:]


def opt_out(rng, data, seeds):
    lines = _lines(data)
    logs = [n for n, line in enumerate(lines) if b".log" in line]
    if rng.random() < 0.2 or not logs:
        return b"# put-migrate: skip-file\n" + data
    n = rng.choice(logs)
    line = lines[n].rstrip(b"\r\n")
    end = lines[n][len(line):]
    lines[n] = line + b"  # put-migrate: skip" + end
    return b"".join(lines)


def splice(rng, data, seeds):
    other = _lines(rng.choice(seeds).read_bytes())
    lines = _lines(data)
    start = rng.randrange(len(other))
    chunk = other[start:start + rng.randint(1, 12)]
    i = rng.randrange(len(lines) + 1)
    return b"".join(lines[:i] + chunk + lines[i:])


# ``huge`` costs a hundred times the others (seconds a file): one input in fifty gets it.
MUTATIONS = (
    drop_lines, duplicate_line, swap_lines, rename_hook, rename_hook, rename_log, add_log_argument, add_log_argument,
    odd_encoding, deep_nesting, truncate, flip_bytes, stray_token, opt_out, splice,
)


def seed_files(dirs=()) -> list[Path]:
    """The seed files: fixtures and examples of this repository, and files with a log call under ``dirs``."""
    files = sorted((ROOT / "fixtures").rglob("*.py")) + sorted((ROOT / "examples").rglob("*.py"))
    for folder in dirs:
        for path in sorted(Path(folder).rglob("*.py")):
            try:
                if path.is_file() and b".log" in path.read_bytes():
                    files.append(path)
            except OSError:
                continue
    return files


def mutated_input(seeds: list[Path], seed: int, number: int) -> tuple[bytes, str]:
    """Input ``number`` of campaign ``seed``: always the same bytes, and the recipe that names them."""
    rng = random.Random(f"{seed}:{number}")
    source = rng.choice(seeds)
    data = source.read_bytes()
    names = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        mutation = huge if rng.random() < 0.02 else rng.choice(MUTATIONS)
        data = mutation(rng, data, seeds)
        names.append(mutation.__name__)
    try:
        shown = source.relative_to(ROOT)
    except ValueError:
        shown = source
    return data, f"seed {seed} input {number} ({shown}: {' + '.join(names)})"


def run_mutations(seeds: list[Path], seed: int, start: int, stop: int, tree: bool = False) -> Tally:
    """Inputs ``start`` to ``stop``, each alone; with ``tree``, then all of them as the files of one run."""
    tally = Tally()
    inputs = []
    for number in range(start, stop):
        data, recipe = mutated_input(seeds, seed, number)
        check(data, recipe, tally, on_disk=number % 10 == 0)
        inputs.append((data, recipe))
    if tree:
        check_tree(inputs, f"seed {seed} inputs {start}-{stop - 1} as one tree", tally)
    return tally


def check_tree(inputs: list[tuple[bytes, str]], recipe: str, tally: Tally) -> None:
    """The inputs as the files of one folder, migrated in place by one run (``api.migrate_paths``: the repository
    index over all of them, the read-ahead and the pre-filter): the run ends, every file not rewritten keeps its
    bytes and mtime, every rewritten one re-parses."""
    with tempfile.TemporaryDirectory(prefix="put-migrate-fuzz-tree-") as folder:
        paths = []
        for number, (data, _) in enumerate(inputs):
            path = Path(folder) / f"m{number}.py"
            path.write_bytes(data)
            os.utime(path, ns=(1_000_000_000, 1_000_000_000))
            paths.append(path)
        try:
            results = api.migrate_paths([folder], api.RunOptions(mode=api.Mode.WRITE, jobs=1))
        except Exception as exc:  # noqa: BLE001
            tally.failures.append(Failure("crash", recipe, f"migrate_paths raised {type(exc).__name__}: {exc}"[:300]))
            return
        tally.trees += 1
        by_name = {Path(r.path).name: r for r in results}
        for path, (data, file_recipe) in zip(paths, inputs):
            result = by_name.get(path.name)
            after = path.read_bytes()
            if result is None:
                tally.failures.append(Failure("crash", file_recipe, f"{recipe}: no result for the file"))
            elif any(f.code == api.INTERNAL_ERROR for f in result.findings):
                tally.failures.append(Failure("crash", file_recipe, f"{recipe}: {result.findings[0].message[:200]}"))
            elif not result.written:
                if after != data or path.stat().st_mtime_ns != 1_000_000_000:
                    tally.failures.append(Failure("disk", file_recipe, f"{recipe}: a file not rewritten was touched"))
            else:
                why = _reparses(data, after)
                if why:
                    tally.failures.append(Failure("reparse", file_recipe, f"{recipe}: {why}"))


# --- hypothesmith --------------------------------------------------------------------------------------------------

TEMPLATE = '''import lightning.pytorch as pl
import torch

{module}

class Model(pl.LightningModule):
    def training_step(self, batch, batch_idx):
{body}
        self.log("value", batch_idx, on_epoch=True)
        self.log_dict({{"a": batch_idx}}, prog_bar=True)
        return batch_idx
'''


def embed(program: str) -> str:
    """A generated program at module level and again as the body of a logging ``training_step``."""
    body = "".join("        " + line if line.strip() else line for line in program.splitlines(keepends=True))
    if body and not body.endswith("\n"):
        body += "\n"
    return TEMPLATE.format(module=program, body=body or "        pass\n")


def run_hypothesmith(examples: int, seed: int) -> Tally:
    """``examples`` programs from hypothesmith's grammar strategy, alone and inside a Lightning module."""
    import hypothesmith
    from hypothesis import HealthCheck, given, settings

    tally = Tally()
    counter = iter(range(10**9))

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(program=hypothesmith.from_grammar())
    def campaign(program: str) -> None:
        number = next(counter)
        recipe = f"hypothesmith example {number}"
        check(program.encode("utf-8", errors="surrogatepass"), recipe + " (alone)", tally)
        check(embed(program).encode("utf-8", errors="surrogatepass"), recipe + " (in a LightningModule)", tally,
              on_disk=number % 10 == 0)

    random.seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # hypothesmith compiles every program it draws
        campaign()
    return tally


# --- the campaign --------------------------------------------------------------------------------------------------


def _alone(seeds: list[Path], seed: int, number: int) -> Tally:
    return run_mutations(seeds, seed, number, number + 1, tree=True)


TREE_EVERY = 4  # one chunk of inputs in four is also migrated as one tree


def run_campaign(seeds: list[Path], seed: int, inputs: int, jobs: int, chunk: int = 50) -> Tally:
    tally = Tally()
    ranges = [(start, min(start + chunk, inputs)) for start in range(0, inputs, chunk)]
    tree = [start % (chunk * TREE_EVERY) == 0 for start, _ in ranges]
    if jobs <= 1:
        for (start, stop), as_tree in zip(ranges, tree):
            tally.add(run_mutations(seeds, seed, start, stop, as_tree))
        return tally
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [(r, pool.submit(run_mutations, seeds, seed, *r, t)) for r, t in zip(ranges, tree)]
        broken = []
        for r, future in futures:
            try:
                tally.add(future.result())
            except BrokenProcessPool:
                broken.append(r)
    for start, stop in broken:  # a worker died: run each input of its ranges alone, in a process of its own
        for number in range(start, stop):
            with ProcessPoolExecutor(max_workers=1) as pool:
                try:
                    tally.add(pool.submit(_alone, seeds, seed, number).result())
                except BrokenProcessPool:
                    _, recipe = mutated_input(seeds, seed, number)
                    tally.inputs += 1
                    tally.failures.append(Failure("crash", recipe, "the process died"))
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dirs", nargs="*", help="more seed files: the *.py files holding `.log` under these folders")
    parser.add_argument("--inputs", type=int, default=5000, help="mutated inputs [5000]")
    parser.add_argument("--hypothesmith", type=int, default=0, help="hypothesmith programs [0]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)

    seeds = seed_files(args.dirs)
    started = time.perf_counter()
    tally = run_campaign(seeds, args.seed, args.inputs, args.jobs)
    mutation_seconds = time.perf_counter() - started
    hypothesmith_seconds = 0.0
    if args.hypothesmith:
        started = time.perf_counter()
        tally.add(run_hypothesmith(args.hypothesmith, args.seed))
        hypothesmith_seconds = time.perf_counter() - started
    figures = {
        "seed files": len(seeds),
        "inputs": tally.inputs,
        "written (changed)": tally.changed,
        "unchanged": tally.unchanged,
        "reported as file errors (PM3xx)": tally.errors,
        "also run on disk": tally.on_disk,
        "folders of inputs migrated by one run": tally.trees,
        "mutation seconds": round(mutation_seconds, 1),
        "hypothesmith seconds": round(hypothesmith_seconds, 1),
        "failures": len(tally.failures),
    }
    for key, value in figures.items():
        print(f"{key}: {value}")
    for failure in tally.failures:
        print(failure)
    if args.json:
        Path(args.json).write_text(
            json.dumps({**figures, "failure list": [asdict(f) for f in tally.failures]}, indent=2) + "\n"
        )
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
