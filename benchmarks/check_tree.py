"""Time `put-migrate --check` over a large tree against a plain libcst parse of the files that log.

Not a test. Usage:

    .venv/bin/python benchmarks/check_tree.py [PATH ...] [--jobs N] [--repeats 3]

Default PATHs: the installed torch, lightning and torchmetrics packages of the running interpreter. Each repeat
runs, in turn:

- `put-migrate --check` (a subprocess: start-up, discovery, reading, the pre-filter, the screens, the rewrite);
- the floor as a process: the same interpreter importing libcst and parsing, one after the other, only the files
  that contain a Lightning log call (`self.log(`, `self.log_dict(`, `pl_module.log(`, `pl_module.log_dict(`), given
  as a list (the floor neither discovers nor greps the tree);
- the floor in this process: the same parses with libcst already imported (what the parsing alone costs).

Prints the median of each and the ratios.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import libcst

from put_migrate.discover import discover_files
from put_migrate.safety import decode_source

LIGHTNING_LOG_CALL = re.compile(r"\b(?:self|pl_module)\.log(?:_dict)?\s*\(")
FLOOR_PROCESS = """
import sys, libcst
for path in open(sys.argv[1]).read().splitlines():
    try:
        libcst.parse_module(open(path, "rb").read())
    except libcst.ParserSyntaxError:
        pass
"""


def default_paths() -> list[Path]:
    site = Path(sysconfig.get_paths()["purelib"])
    return [site / name for name in ("torch", "lightning", "torchmetrics") if (site / name).is_dir()]


def _timed(command: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True)
    return time.perf_counter() - start, proc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--jobs", "-j", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    paths = args.paths or default_paths()
    # The CLI as installed: ``pip install`` compiles a package's bytecode; this machine sets PYTHONDONTWRITEBYTECODE,
    # under which an editable install would compile put_migrate at every start (about 0.15 s).
    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "put_migrate"), quiet=1)

    files = discover_files(paths)
    logging_files, texts = [], []
    for path in files:
        try:
            text = decode_source(path.read_bytes()).text
        except Exception:  # noqa: BLE001 - the same files put-migrate reports
            continue
        if LIGHTNING_LOG_CALL.search(text):
            logging_files.append(path)
            texts.append(text)

    walls: dict[str, list[float]] = {"cli": [], "floor process": [], "floor in-process": []}
    summary: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        listing = Path(tmp) / "files.txt"
        listing.write_text("\n".join(map(str, logging_files)) + "\n")
        cli = [sys.executable, "-m", "put_migrate", "--check", "-q", "--report", str(report)]
        if args.jobs:
            cli += ["--jobs", str(args.jobs)]
        cli += [str(p) for p in paths]
        for _ in range(args.repeats):
            wall, proc = _timed(cli)
            walls["cli"].append(wall)
            summary = json.loads(report.read_text())["summary"] if report.exists() else {}
            walls["floor process"].append(_timed([sys.executable, "-c", FLOOR_PROCESS, str(listing)])[0])
            start = time.perf_counter()
            for text in texts:
                try:
                    libcst.parse_module(text)
                except libcst.ParserSyntaxError:
                    pass
            walls["floor in-process"].append(time.perf_counter() - start)

    median = {name: statistics.median(values) for name, values in walls.items()}
    print(f"paths: {' '.join(map(str, paths))}")
    print(f"cores: {os.cpu_count()}, jobs: {args.jobs or 'default'}, repeats: {args.repeats}, "
          f"load before: {os.getloadavg()[0]:.1f}")
    print(f"{len(files)} files; {len(logging_files)} contain a Lightning log call; put-migrate exit {proc.returncode}, "
          f"summary {summary}")
    for name, value in median.items():
        print(f"{name:>17}: {value:.2f} s (median; runs {', '.join(f'{v:.2f}' for v in walls[name])})")
    print(f"cli / floor process = {median['cli'] / median['floor process']:.2f}; "
          f"cli / floor in-process = {median['cli'] / median['floor in-process']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
