"""Time `put-migrate --check` over a large tree against a plain libcst parse of the files that log.

Not a test. Usage:

    .venv/bin/python benchmarks/check_tree.py [PATH ...] [--jobs N]

Default PATHs: the installed torch, lightning and torchmetrics packages of the running interpreter. Prints the
wall time of the whole `put-migrate --check` run (a subprocess, start-up included) and, in the same run, the time
a single process takes only to `libcst.parse_module` the files that contain a Lightning log call
(`self.log(`, `self.log_dict(`, `pl_module.log(`, `pl_module.log_dict(`): the floor any libcst-based tool pays.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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


def default_paths() -> list[Path]:
    site = Path(sysconfig.get_paths()["purelib"])
    return [site / name for name in ("torch", "lightning", "torchmetrics") if (site / name).is_dir()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--jobs", "-j", type=int, default=None)
    args = parser.parse_args()
    paths = args.paths or default_paths()

    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "put_migrate", "--check", "-q", "--report", str(report)]
        if args.jobs:
            command += ["--jobs", str(args.jobs)]
        start = time.perf_counter()
        proc = subprocess.run([*command, *map(str, paths)], capture_output=True)
        check_wall = time.perf_counter() - start
        summary = json.loads(report.read_text())["summary"] if report.exists() else {}

    files = discover_files(paths)
    logging_files = []
    for path in files:
        try:
            text = decode_source(path.read_bytes()).text
        except Exception:  # noqa: BLE001 - the same files put-migrate reports
            continue
        if LIGHTNING_LOG_CALL.search(text):
            logging_files.append(text)
    start = time.perf_counter()
    for text in logging_files:
        try:
            libcst.parse_module(text)
        except libcst.ParserSyntaxError:
            pass
    parse_wall = time.perf_counter() - start

    print(f"paths: {' '.join(map(str, paths))}")
    print(f"cores: {os.cpu_count()}, jobs: {args.jobs or 'default'}")
    print(f"put-migrate --check: {check_wall:.2f} s wall, exit {proc.returncode}, {len(files)} files, summary {summary}")
    print(f"libcst.parse_module of the {len(logging_files)} files with a Lightning log call: {parse_wall:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
