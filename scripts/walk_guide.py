"""Walk docs/migration-guide.md as a new user: its commands, in order, in a new git repository.

The repository holds a small Lightning project (the demo project, with one call put-migrate must leave for a human,
and a Hydra-style configuration with a monitor). Every ``<!-- guide: NAME -->`` bash block of the guide runs, line
by line, in the order of the guide; ``<!-- guide-file: NAME -->`` blocks are written to files before the first.
Between blocks the walker does what the guide asks the reader to do by hand (reshape the call left in step 4, stage
a file in step 6) and checks what the guide promises (a TODO marker, no call left, "same training", a staged file
checked, the libcst route).
``pip install`` lines are the reader's; ``| less`` becomes ``| cat``.

    python scripts/walk_guide.py               # put-migrate and shim of this checkout, with this interpreter
    python scripts/walk_guide.py --fresh-venv  # a new venv with the wheel built from this checkout

``--fresh-venv`` installs the wheel (and libcst and click, from the package index) into a new venv; torch,
Lightning and torchmetrics are borrowed from this interpreter's site-packages through a ``.pth`` file (installing
them is minutes of download), and the walk checks that ``put_migrate`` and ``shim`` are imported from the venv.
tests/test_migration_guide.py runs the first form.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "migration-guide.md"
DEMO = ROOT / "examples" / "demo_project" / "model.py"
_BLOCK = re.compile(r"<!-- guide(?P<file>-file)?: (?P<name>[\w./-]+) -->\n```(?P<lang>\w+)\n(?P<body>.*?)```", re.S)

# The call the project's validation_step gets, which put-migrate leaves (PM201) until step 4 writes its options out
# (a dict built by a call: a dict literal with literal keys built just before would be expanded).
LEFT = '        options = dict(on_epoch=True)\n        self.log("val_mse", loss, **options)\n'
CONFIG = "callbacks:\n  model_checkpoint:\n    monitor: val_loss\n  early_stopping:\n    monitor: val_mse\n"


@dataclass(frozen=True)
class Block:
    name: str
    body: str
    file: bool  # written to a file named ``name``, not run


@dataclass
class Step:
    command: str
    returncode: int
    output: str


@dataclass
class Walk:
    steps: list[Step] = field(default_factory=list)

    def output_of(self, fragment: str) -> str:
        return "\n".join(s.output for s in self.steps if fragment in s.command)


def guide_blocks(text: str) -> list[Block]:
    return [Block(m["name"], m["body"], bool(m["file"])) for m in _BLOCK.finditer(text)]


def make_project(repo: Path, env: dict[str, str]) -> None:
    """A git repository on branch main: src/model.py (the demo, with the call left) and configs/train.yaml."""
    source = DEMO.read_text()
    anchor = '        self.log("val_loss", loss, prog_bar=True)\n'
    assert anchor in source, "the demo project changed: update scripts/walk_guide.py"
    (repo / "src").mkdir(parents=True)
    (repo / "configs").mkdir()
    (repo / "src" / "model.py").write_text(source.replace(anchor, anchor + LEFT))
    (repo / "configs" / "train.yaml").write_text(CONFIG)
    (repo / ".gitignore").write_text("__pycache__/\nlightning_logs/\nreport.json\n")
    for command in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "commit", "-qm", "A Lightning project"],
    ):
        subprocess.run(command, cwd=repo, env=env, check=True, capture_output=True)


def _fix_left_call(repo: Path, walk: Walk) -> None:
    """The reader's edit: the options written out. The marker stays: the run that migrates the call removes it."""
    model = repo / "src" / "model.py"
    text = model.read_text()
    assert "TODO(put-migrate): PM201" in text, "step 3 (--add-todo) wrote no marker above the call left"
    assert "TODO(put-migrate): PM201" in walk.output_of("git grep"), "step 4's git grep found no marker"
    fixed = text.replace('        options = dict(on_epoch=True)\n', "")
    model.write_text(fixed.replace('self.log("val_mse", loss, **options)', 'self.log("val_mse", loss, on_epoch=True)'))


def _check_rerun(repo: Path, walk: Walk) -> None:
    text = (repo / "src" / "model.py").read_text()
    assert "self.log(" not in text and "TODO(put-migrate)" not in text, text
    assert 'self.val_mse.update(loss' in text, text


def _stage_a_new_call(repo: Path, walk: Walk) -> None:
    model = repo / "src" / "model.py"
    model.write_text(model.read_text().replace("        return loss\n", '        self.log("extra", loss)\n'
                                                                        "        return loss\n", 1))
    subprocess.run(["git", "add", "src/model.py"], cwd=repo, check=True)


def _after_staged(repo: Path, walk: Walk) -> None:
    (staged,) = [s for s in walk.steps if "--cached" in s.command]
    assert staged.returncode == 123 and "would rewrite src/model.py" in staged.output, staged


def _check_libcst(repo: Path, walk: Walk) -> None:
    text = (repo / "src" / "model.py").read_text()
    assert "self.log(" not in text and 'self.put("extra"' in text, "the libcst route did not migrate the new call"


BEFORE: dict[str, Callable[[Path, Walk], None]] = {"rerun": _fix_left_call, "staged": _stage_a_new_call}
AFTER: dict[str, Callable[[Path, Walk], None]] = {
    "rerun": _check_rerun, "staged": _after_staged, "libcst": _check_libcst,
}


def _allowed(command: str) -> set[int]:
    """put-migrate exits 1 while changes are pending or calls are left (docs/cli.md); everything else 0."""
    if "xargs" in command:
        return {0, 123}  # xargs: 123 when the command it ran exited 1
    return {0, 1} if "put-migrate " in command and "libcst" not in command else {0}


def walk_guide(workdir: Path, env: dict[str, str], guide: str | None = None) -> Walk:
    """Run the guide's blocks in ``workdir``/project; raise AssertionError naming the first step that fails."""
    repo = workdir / "project"
    repo.mkdir(parents=True)
    env = {**env, "GIT_AUTHOR_NAME": "guide", "GIT_AUTHOR_EMAIL": "guide@example.invalid",
           "GIT_COMMITTER_NAME": "guide", "GIT_COMMITTER_EMAIL": "guide@example.invalid", "NO_COLOR": "1"}
    make_project(repo, env)
    walk = Walk()
    blocks = guide_blocks(guide if guide is not None else GUIDE.read_text())
    for block in blocks:  # the files the guide asks for (an untracked script is no dirty file to put-migrate)
        if block.file:
            (repo / block.name).write_text(block.body)
    for block in blocks:
        if block.file:
            continue
        if block.name in BEFORE:
            BEFORE[block.name](repo, walk)
        for line in block.body.splitlines():
            command = line.replace("| less", "| cat").strip()
            if not command or command.startswith(("#", "pip install")):
                continue
            proc = subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True)
            walk.steps.append(Step(command, proc.returncode, proc.stdout + proc.stderr))
            if proc.returncode not in _allowed(command):
                output = proc.stdout + proc.stderr
                raise AssertionError(f"`{command}` ({block.name}) exited {proc.returncode}:\n{output}")
        if block.name in AFTER:
            AFTER[block.name](repo, walk)
    verified = walk.output_of("verify_migration.py")
    assert "same training" in verified, verified
    assert "PM201" in walk.output_of("--names") and "early_stopping" in walk.output_of("--names"), "--names"
    return walk


def _wrapper(bin_dir: Path, name: str, target: list[str]) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\nexec " + " ".join(f"'{t}'" for t in target) + ' "$@"\n')
    path.chmod(0o755)


def checkout_env(bin_dir: Path) -> dict[str, str]:
    """This interpreter, with this checkout's put_migrate and shim first, as `python` and `put-migrate`."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    _wrapper(bin_dir, "python", [sys.executable])
    _wrapper(bin_dir, "put-migrate", [sys.executable, "-m", "put_migrate"])
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    return env


def fresh_venv_env(workdir: Path) -> dict[str, str]:
    """A new venv with the wheel of this checkout; the runtime's heavy dependencies borrowed (see the docstring)."""
    dist = workdir / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)], check=True)
    (wheel,) = dist.glob("put_migrate-*.whl")
    venv = workdir / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "borrowed-runtime.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    where = subprocess.run([str(python), "-c", "import put_migrate, shim; print(put_migrate.__file__, shim.__file__)"],
                           env=env, check=True, capture_output=True, text=True, cwd=workdir).stdout.split()
    assert all(path.startswith(str(venv)) for path in where), where
    assert shutil.which("put-migrate", path=env["PATH"]) == str(venv / "bin" / "put-migrate")
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh-venv", action="store_true", help="install the wheel built from this checkout")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (printed)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="put-migrate-guide-"))
    try:
        env = fresh_venv_env(workdir) if args.fresh_venv else checkout_env(workdir / "bin")
        walk = walk_guide(workdir, env)
    finally:
        if args.keep:
            print(f"working folder: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    for step in walk.steps:
        print(f"$ {step.command}  -> exit {step.returncode}")
    print(f"the guide's {len(walk.steps)} commands ran in order; the migrated project trains as the original")
    return 0


if __name__ == "__main__":
    sys.exit(main())
