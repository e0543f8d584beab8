"""`put-migrate --check -j 2` over ~60 MB of real Python, against the floor: a plain libcst parse of the log files.

    .venv/bin/python benchmarks/scale.py DIR... [--target-mb 60] [--jobs 2] [--repeats 1] [--json FILE]

The corpus is the DIRs (the fetched Lightning repositories) plus, until the corpus holds --target-mb of ``*.py``
files as the CLI discovers them, whole packages from this interpreter's site-packages (Lightning, torchmetrics,
then large pure-Python packages). Nothing is written anywhere but a temporary folder (the JSON report).

Two commands run in turn, each under ``/usr/bin/time -v`` (wall time, user+sys CPU, peak RSS of the largest
process) while a sampler adds up the RSS of the whole process tree every 20 ms (peak memory of all workers):

- ``put-migrate --check -j JOBS --report R --format json -q PATHS...`` (the installed CLI, as a user runs it);
- the floor: the same interpreter parsing, with ``libcst.parse_module`` in a pool of JOBS processes, only the files
  that contain a Lightning log call (``self.log(``, ``self.log_dict(``, ``pl_module.log(`` or
  ``pl_module.log_dict(``, found by a regular expression). Any codemod has to parse at least these files.

Targets: the CLI under 20 s wall on 2 cores, and no slower than the floor.
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
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOG_CALL = re.compile(rb"\b(?:self|pl_module)\s*\.\s*log(?:_dict)?\s*\(")
# site-packages fill order: the Lightning stack first, then large pure-Python packages.
FILL_ORDER = ("lightning", "pytorch_lightning", "lightning_fabric", "torchmetrics", "sympy", "numpy", "networkx",
              "torch", "pip", "pygments", "setuptools")


def _py_files(path: Path) -> list[Path]:
    from put_migrate.discover import discover_files

    return discover_files([path], ())


def build_corpus(dirs: list[str], target_bytes: int) -> tuple[list[str], list[Path]]:
    paths: list[str] = []
    files: list[Path] = []
    for d in dirs:
        paths.append(d)
        files += _py_files(Path(d))
    site = Path(sysconfig.get_paths()["purelib"])
    for name in FILL_ORDER:
        if sum(f.stat().st_size for f in files) >= target_bytes:
            break
        package = site / name
        if package.is_dir():
            paths.append(str(package))
            files += _py_files(package)
    return paths, files


# --- measuring a command -----------------------------------------------------------------------------------------


def _tree_rss(root: int) -> int:
    """Sum of the RSS (bytes) of root and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total


def measure(command: list[str]) -> dict:
    """Run command under /usr/bin/time -v; return wall, cpu, peak RSS (largest process) and peak tree RSS."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as timing:
        full = ["/usr/bin/time", "-v", "-o", timing.name, *command]
        start = time.perf_counter()
        proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                try:
                    peak[0] = max(peak[0], _tree_rss(proc.pid))
                except Exception:  # noqa: BLE001 - /proc entries vanish while we read them
                    pass

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out, err = proc.communicate()
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        text = Path(timing.name).read_text()
    fields = dict(
        (line.split(": ", 1)[0].strip(), line.split(": ", 1)[1].strip()) for line in text.splitlines() if ": " in line
    )
    return {
        "rc": int(fields.get("Exit status", proc.returncode)),
        "wall_s": round(wall, 2),
        "cpu_s": round(float(fields["User time (seconds)"]) + float(fields["System time (seconds)"]), 2),
        "max_rss_mb": round(int(fields["Maximum resident set size (kbytes)"]) / 1024, 1),
        "tree_rss_mb": round(peak[0] / 2**20, 1),
        "stderr_tail": err.decode(errors="replace")[-2000:],
    }


# --- the floor (run as a subprocess of this script) ----------------------------------------------------------------


def _parse_one(path: str) -> bool:
    import libcst

    try:
        libcst.parse_module(Path(path).read_bytes())
        return True
    except Exception:  # noqa: BLE001 - the floor only parses
        return False


def floor_worker(list_file: str, jobs: int) -> None:
    from concurrent.futures import ProcessPoolExecutor

    files = Path(list_file).read_text().splitlines()
    with ProcessPoolExecutor(jobs) as pool:
        parsed = sum(pool.map(_parse_one, files, chunksize=max(1, min(32, len(files) // (jobs * 8)))))
    print(f"parsed {parsed} of {len(files)}")


# --- main ------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="*")
    parser.add_argument("--target-mb", type=float, default=60.0)
    parser.add_argument("--jobs", "-j", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1, help="alternate CLI and floor runs this many times")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--floor-worker", metavar="LIST", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor_worker:
        floor_worker(args.floor_worker, args.jobs)
        return 0
    # The CLI as installed: ``pip install`` compiles a package's bytecode; this machine sets PYTHONDONTWRITEBYTECODE,
    # under which an editable install would compile put_migrate at every start (about 0.15 s).
    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "put_migrate"), quiet=1)

    paths, files = build_corpus(args.dirs, int(args.target_mb * 2**20))
    corpus_bytes = sum(f.stat().st_size for f in files)
    log_files = [f for f in files if LOG_CALL.search(f.read_bytes())]
    log_bytes = sum(f.stat().st_size for f in log_files)
    work = Path(tempfile.mkdtemp(prefix="put-migrate-scale-"))
    list_file = work / "log-files.txt"
    list_file.write_text("\n".join(str(f) for f in log_files) + "\n")
    report = work / "report.json"
    cli = [str(Path(sys.executable).with_name("put-migrate")), "--check", "-j", str(args.jobs), "--report",
           str(report), "--format", "json", "-q", *paths]
    floor = [sys.executable, str(Path(__file__).resolve()), "--floor-worker", str(list_file), "-j", str(args.jobs)]
    print(f"corpus: {len(files)} files, {corpus_bytes / 2**20:.1f} MiB, in {len(paths)} paths; "
          f"{len(log_files)} files ({log_bytes / 2**20:.2f} MiB) contain a log call; "
          f"{os.cpu_count()} cores visible, load {os.getloadavg()[0]:.1f}", flush=True)
    runs: dict[str, list[dict]] = {"cli": [], "floor": []}
    for _ in range(args.repeats):
        for name, command in (("cli", cli), ("floor", floor)):
            result = measure(command)
            result["load_before"] = round(os.getloadavg()[0], 1)
            runs[name].append(result)
            print(f"{name}: wall {result['wall_s']} s, cpu {result['cpu_s']} s, largest process "
                  f"{result['max_rss_mb']} MiB, whole tree {result['tree_rss_mb']} MiB, rc {result['rc']}", flush=True)
    summary: dict = {
        "corpus_files": len(files), "corpus_mib": round(corpus_bytes / 2**20, 1), "paths": paths,
        "log_files": len(log_files), "log_mib": round(log_bytes / 2**20, 2), "jobs": args.jobs, "runs": runs,
    }
    if report.exists():
        data = json.loads(report.read_text())
        summary["cli_report"] = _report_summary(data)
        print("cli report:", json.dumps(summary["cli_report"]))
    for name in runs:
        summary[f"{name}_wall_median_s"] = statistics.median(r["wall_s"] for r in runs[name])
        summary[f"{name}_cpu_median_s"] = statistics.median(r["cpu_s"] for r in runs[name])
    ratio = summary["cli_wall_median_s"] / summary["floor_wall_median_s"]
    cpu_ratio = summary["cli_cpu_median_s"] / summary["floor_cpu_median_s"]
    summary["cli_over_floor_wall"] = round(ratio, 2)
    summary["cli_over_floor_cpu"] = round(cpu_ratio, 2)
    print(f"median wall: cli {summary['cli_wall_median_s']} s, floor {summary['floor_wall_median_s']} s "
          f"(cli/floor {ratio:.2f}); cpu cli/floor {cpu_ratio:.2f}; target: cli < 20 s and cli/floor <= 1")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1) + "\n")
    return 0


def _report_summary(data) -> dict:
    """Counts from the CLI's JSON report, whatever its exact shape (files with status, findings with severity)."""
    statuses: dict[str, int] = {}
    severities: dict[str, int] = {}
    codes: dict[str, int] = {}

    def walk(node) -> None:
        if isinstance(node, dict):
            if "status" in node and isinstance(node["status"], str):
                statuses[node["status"]] = statuses.get(node["status"], 0) + 1
            if "severity" in node and "code" in node:
                severities[node["severity"]] = severities.get(node["severity"], 0) + 1
                if node["severity"] == "error":
                    codes[node["code"]] = codes.get(node["code"], 0) + 1
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    return {"statuses": statuses, "severities": severities, "file_error_codes": codes}


if __name__ == "__main__":
    sys.exit(main())
