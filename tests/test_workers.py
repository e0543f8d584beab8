"""The pool of a check or a diff over a large tree (``put_migrate/workers.py``)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading

import pytest
from click.testing import CliRunner

from put_migrate import api, pipeline, runner, workers
from put_migrate.cli import main
from put_migrate.results import INTERNAL_ERROR, FileStatus

LOGGING = (
    "import lightning\n\n\nclass M(lightning.LightningModule):\n"
    "    def training_step(self, batch, batch_idx):\n        self.log('a', 1.0)\n        return batch\n"
)
MANUAL = "import lightning\nclass M(lightning.LightningModule):\n    def f(self):\n        self.log_dict({'a': 1})\n"
PLAIN = "x = 1\n"


def _tree(root, count: int) -> None:
    for i in range(count):
        (root / f"f{i:03}.py").write_text(LOGGING if i % 7 == 0 else MANUAL if i % 11 == 0 else PLAIN)


def _serial(tasks):
    return list(api.run_tasks(tasks, 1))


def test_a_worker_without_the_transform_hands_back_the_files_that_need_it(tmp_path):
    """Told to defer, a worker answers ``deferred`` for a file that needs the transform and settles the others;
    told not to, it migrates the file as a serial run does."""
    _tree(tmp_path, 3)
    options = api.RunOptions(mode=api.Mode.CHECK, jobs=1)
    tasks = api.plan_tasks([tmp_path], options)
    ours, theirs = multiprocessing.Pipe()
    serving = threading.Thread(target=workers._serve, args=(theirs, False))
    serving.start()
    try:
        ours.send((None, tasks, True))
        _, deferred = ours.recv()
        ours.send((None, tasks, False))
        _, migrated = ours.recv()
    finally:
        ours.send(None)
        serving.join()
        pipeline.defer_transforms(False)
    assert deferred == ["deferred", None, None]
    assert migrated[0] == _serial(tasks)[0] and migrated[0].status is FileStatus.CHANGED


def test_the_pool_gives_every_result_in_order_whichever_worker_took_it(tmp_path):
    """The first worker imports the transform while the others start; files that need it are handed over; the
    results are the serial run's, in order."""
    _tree(tmp_path, 150)
    options = api.RunOptions(mode=api.Mode.CHECK, jobs=2)
    tasks = api.plan_tasks([tmp_path], options)
    with workers.Pool(3) as pool:
        results = list(pool.run(tasks, None, runner._chunks(len(tasks), 4, runner.STRIDE)))
    assert results == _serial(tasks)


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork", reason="the workers inherit the patched task")
def test_a_worker_that_dies_fails_only_the_files_it_held(tmp_path, monkeypatch):
    """A worker killed by a file (a C stack overflow in a parser, say) takes down the files of the message it was
    working on; the other workers go on with the rest, and the run reports every file, in order."""
    _tree(tmp_path, 40)
    options = api.RunOptions(mode=api.Mode.CHECK, jobs=2)
    tasks = api.plan_tasks([tmp_path], options)
    real = runner.run_task
    monkeypatch.setattr(runner, "run_task", lambda task, index=None: os._exit(1) if "f013" in task.path else real(task, index))
    with workers.Pool(2) as pool:
        results = list(pool.run(tasks, None, [range(k, k + 4) for k in range(0, 40, 4)]))
    assert [r.path for r in results] == [t.display for t in tasks]
    died = [r.path for r in results if r.status is FileStatus.ERROR]
    assert died == [t.display for t in tasks[12:16]]  # its next message went to the other worker
    assert all(f.code == INTERNAL_ERROR for r in results if r.status is FileStatus.ERROR for f in r.findings)
    monkeypatch.setattr(runner, "run_task", real)
    assert [r for r in results if r.status is not FileStatus.ERROR] == [
        r for r in _serial(tasks) if not any(f"f{i:03}" in r.path for i in range(12, 16))
    ]


@pytest.mark.parametrize("count", [3, runner.WORKERS_READ_FROM + 10])
def test_a_check_of_a_folder_starts_its_pool_before_discovery_and_reports_as_one_process_does(
    tmp_path, monkeypatch, count
):
    """With several jobs, a check or a diff of a folder starts the pool first (its first worker imports the
    transform while the files are found), whatever their number; one job, or a single file, starts none."""
    monkeypatch.chdir(tmp_path)
    _tree(tmp_path, count)
    started = []
    real = workers.Pool.__init__
    monkeypatch.setattr(workers.Pool, "__init__", lambda self, jobs: started.append(jobs) or real(self, jobs))
    two = CliRunner().invoke(main, ["--check", "-j", "2", "--report", "two.json", "."])
    assert started == [2]
    one = CliRunner().invoke(main, ["--check", "-j", "1", "--report", "one.json", "."])
    alone = CliRunner().invoke(main, ["--diff", "-j", "2", "f000.py"])
    assert started == [2]
    assert two.exit_code == one.exit_code == 1 and alone.exit_code == 1
    assert (tmp_path / "two.json").read_text() == (tmp_path / "one.json").read_text()
    assert two.stderr == one.stderr


def test_ctrl_c_is_left_to_the_process_that_owns_the_workers(tmp_path):
    """Ctrl-C signals the whole process group; a worker ignores it (the CLI stops the pool, and no worker prints a
    traceback) and goes on answering until it is stopped."""
    _tree(tmp_path, 8)
    options = api.RunOptions(mode=api.Mode.CHECK, jobs=2)
    tasks = api.plan_tasks([tmp_path], options)
    with workers.Pool(2) as pool:
        for worker in pool._workers:
            os.kill(worker.process.pid, signal.SIGINT)
        assert list(pool.run(tasks, None, [range(0, 4), range(4, 8)])) == _serial(tasks)
        assert all(worker.process.is_alive() for worker in pool._workers)
