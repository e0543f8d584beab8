"""Many files: discovery into tasks, the repository index, read-ahead and the process pool; results in order."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from put_migrate import safety, workers
from put_migrate.discover import PYTHON_SUFFIXES, discover_files, display_path, file_may_contain_log_call
from put_migrate.pipeline import Prefiltered, load_transform, migrate_file
from put_migrate.prefilter import Stage, Subject, settled
from put_migrate.results import INTERNAL_ERROR, FileResult, FileStatus, Mode, error

STRIDE = 8  # chunks per window of ``_chunks``: neighbouring candidates go to different chunks
SERIAL_BELOW = 8  # fewer files than this are processed in the calling process: a pool costs more than it saves
# Files from which, where nothing is written, the workers read the files too: below, one process reads them faster
# than a pool starts.
WORKERS_READ_FROM = 64


def default_jobs() -> int:
    return os.cpu_count() or 1


@dataclass
class RunOptions:
    mode: Mode = Mode.WRITE
    jobs: int | None = None  # None: one per core
    excludes: Sequence[str] = ()  # replaces discover's built-in list when given (ruff's --exclude)
    allow_dirty: bool = False
    add_todo: bool = False  # a `# TODO(put-migrate)` marker above each call left (``todo``)
    on_file: Callable[[FileResult], None] | None = field(default=None, repr=False)
    extend_excludes: Sequence[str] = ()
    force_exclude: bool = False  # the exclusions apply to the paths named too
    mark_monitors: bool = False  # each result says whether its file names a monitor or may put (``monitors``)


class EarlyPool:
    """The ``workers.Pool`` of a check or a diff with several jobs over a folder, started before discovery (its
    first worker imports the transform meanwhile) and stopped when the run ends; ``pool`` is None otherwise."""

    def __init__(self, paths: Iterable[str | Path], options: RunOptions) -> None:
        jobs = options.jobs or default_jobs()
        wanted = options.mode is not Mode.WRITE and jobs > 1 and any(os.path.isdir(path) for path in paths)
        self.pool = workers.Pool(jobs) if wanted else None

    def __enter__(self) -> EarlyPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.pool is not None:
            self.pool.close()


@dataclass(frozen=True)
class Task:
    path: str
    display: str
    mode: Mode
    may_write: bool
    add_todo: bool = False
    mark_monitors: bool = False


def discover(
    paths: Iterable[str | Path], options: RunOptions, also: tuple[str, ...] = ()
) -> tuple[list[Path], list[Path]]:
    """The files the run processes (Python files below the folders, and every file named) and, found in the same
    walk below the folders, the files whose names end with ``also`` (the monitors section's configuration
    files). Raises FileNotFoundError."""
    paths = list(paths)
    found = discover_files(
        paths, options.excludes, extend_excludes=options.extend_excludes, force_exclude=options.force_exclude,
        suffixes=PYTHON_SUFFIXES + also,
    )
    named = {os.path.normpath(p) for p in paths}
    processed = [f for f in found if f.name.endswith(PYTHON_SUFFIXES) or os.path.normpath(f) in named]
    kept = set(processed)
    return processed, [f for f in found if f not in kept]


def plan_tasks(paths: Iterable[str | Path], options: RunOptions, files: Sequence[Path] | None = None) -> list[Task]:
    """Discover the files (unless ``files``, from ``discover``, are given). Raises FileNotFoundError, and
    safety.DirtyTree (Mode.WRITE without allow_dirty) when a file that may be rewritten has uncommitted changes."""
    if files is None:
        files = discover(paths, options)[0]
    cwd = Path.cwd()
    if options.mode is Mode.WRITE and not options.allow_dirty:  # all or nothing: before any file is written
        safety.refuse_dirty(files, file_may_contain_log_call, lambda f: display_path(f, cwd))
    return [
        Task(path=str(f), display=display_path(f, cwd), mode=options.mode, may_write=True, add_todo=options.add_todo,
             mark_monitors=options.mark_monitors)
        for f in files
    ]


def run_task(task: Task, index=None, data: bytes | None = None, prefiltered: Prefiltered | None = None) -> FileResult:
    """One task; never raises."""
    try:
        return migrate_file(
            task.path, mode=task.mode, may_write=task.may_write, display=task.display, index=index, data=data,
            prefiltered=prefiltered, add_todo=task.add_todo, mark_monitors=task.mark_monitors,
        )
    except Exception as exc:  # noqa: BLE001 - migrate_file already catches; this is the last line of defence
        return error(task.display, INTERNAL_ERROR, f"internal error: {type(exc).__name__}: {exc}",
                     detail=traceback.format_exc())


# A worker process's share of the run, handed over once, to each worker's initializer (inherited where the pool
# forks): the index and the candidates. The pool then sends ranges of positions and takes back lists of results.
_worker_index = None
_worker_tasks: Sequence[Task] = ()


def _start_worker(index, tasks: Sequence[Task]) -> None:
    global _worker_index, _worker_tasks
    _worker_index, _worker_tasks = index, tasks


def _run_in_worker(positions: range) -> list[FileResult | None]:
    """The results of the candidates at ``positions``; None for a file settled unchanged with nothing to say (most
    of a large tree), which the calling process fills in: a few bytes through the pool instead of a record."""
    results: list[FileResult | None] = []
    for i in positions:
        task = _worker_tasks[i]
        result = run_task(task, _worker_index)
        results.append(None if result == plain_result(task) else result)
    return results


def plain_result(task: Task) -> FileResult:
    """A file settled unchanged with nothing to say: what a pool's worker sends back as None."""
    return FileResult(path=task.display, status=FileStatus.UNCHANGED)


def _read_ahead(tasks: Sequence[Task]) -> dict[str, tuple[bytes, str]]:
    """Each task's file, read once for the whole run: its bytes and its text as the index reads it (a file that
    cannot be read is left out; it is read again, and reported, when its turn comes)."""
    read: dict[str, tuple[bytes, str]] = {}
    for task in tasks:
        try:
            data = Path(task.path).read_bytes()
        except OSError:
            continue
        read[task.path] = (data, data.decode("utf-8", errors="replace"))
    return read


def run_tasks(
    tasks: Sequence[Task], jobs: int | None = None, index=None, pool: workers.Pool | None = None
) -> Iterator[FileResult]:
    """Process tasks, in order, serially or in a process pool; with ``index`` (else one of the tasks' files, read
    as the workers' queries need them, and of the modules their imports name, read from disk), subclasses of
    project classes of other files are migrated too, whether or not those files are among the tasks.

    Where nothing is written (check and diff modes) and a pool was started before discovery (``pool``), or the tree
    is large, or the run serial, the files are read as their turn comes: the workers of a ``workers.Pool`` (that
    one, else one started here) or this process read, pre-filter and migrate them, and the index reads its modules
    from disk. Otherwise
    every file is read once, up front, so that the index's texts are the run's starting texts whatever the workers
    write; the index, the pre-filter and (except in Mode.WRITE, where a file is read again when its turn comes) the
    migration share that read, and only the files the pre-filter keeps go to a pool forked then (the workers
    inherit the index and its texts instead of being sent them); the others are settled in this process, with the
    pre-filter's answer.
    """
    from put_migrate.index import build_index

    jobs = default_jobs() if not jobs or jobs < 1 else jobs
    # Keyed by the paths the transform is given (the display paths), so that a file's module key in the index is
    # the one its transform computes. A notebook's classes cannot be imported.
    modules = [task for task in tasks if task.path.endswith(".py")]
    writes = any(task.mode is Mode.WRITE for task in tasks)
    if not writes and pool is not None:  # started before discovery (``EarlyPool``): the files go to it
        yield from pool.run(tasks, _index(modules, index), _chunks(len(tasks), _chunk_size(len(tasks), jobs), STRIDE))
        return
    if not writes and (jobs == 1 or len(tasks) >= WORKERS_READ_FROM):
        index = _index(modules, index)
        if jobs > 1:
            with workers.Pool(min(jobs, len(tasks))) as own:
                yield from own.run(tasks, index, _chunks(len(tasks), _chunk_size(len(tasks), jobs), STRIDE))
            return
        for task in tasks:
            yield run_task(task, index)
        return
    read = _read_ahead(tasks)
    if index is None:
        texts: dict[Path | str, str | Path] = {
            task.display: read[task.path][1] for task in modules if task.path in read
        }
        index = build_index(texts, texts)
    prefiltered: dict[str, Prefiltered] = {}
    candidates = []
    for task in tasks:
        text = read[task.path][1] if task.path in read else None
        reason = None if text is None else settled(Stage.TEXT, Subject(text=text))  # unreadable: goes on, reported
        if text is not None:
            prefiltered[task.path] = (text, reason)
        if reason is None:
            candidates.append(task)

    def run_here(task: Task) -> FileResult:
        entry = read.pop(task.path, None)  # the bytes are let go of as the files are done
        data = entry[0] if entry is not None and task.mode is not Mode.WRITE else None
        return run_task(task, index, data, prefiltered.get(task.path))

    if jobs == 1 or len(candidates) < SERIAL_BELOW:
        for task in tasks:
            yield run_here(task)
        return
    for task in candidates:  # the workers read these themselves
        read.pop(task.path, None)
        prefiltered.pop(task.path, None)
    yield from _run_pool(tasks, candidates, jobs, index, run_here, chunk=4, preload=True)


def _index(modules: Sequence[Task], index):
    """``index``, else the index of the modules, read from their paths as queries need them."""
    from put_migrate.index import build_index

    if index is not None:
        return index
    where: dict[Path | str, str | Path] = {
        task.display: Path(task.path) for task in modules if task.display != task.path
    }
    return build_index([task.display for task in modules], where)


def _chunk_size(count: int, jobs: int, most: int = 16) -> int:
    # Small chunks: a file costs from a millisecond (screened out) to a second (a large module to rewrite).
    return max(1, min(most, count // (jobs * 16)))


def _run_pool(
    tasks: Sequence[Task], candidates: Sequence[Task], jobs: int, index, run_here: Callable[[Task], FileResult],
    chunk: int, preload: bool,
) -> Iterator[FileResult]:
    """The candidates in a process pool, the other tasks here (``run_here``); results in order. ``chunk``: the most
    tasks a worker takes at once; ``preload``: import the transform here, once, so that forked workers inherit it
    instead of each importing it."""
    if preload:
        load_transform()
    done = 0
    wanted = {id(task) for task in candidates}
    chunksize = _chunk_size(len(candidates), jobs, chunk)
    try:
        with ProcessPoolExecutor(
            max_workers=min(jobs, len(candidates)), initializer=_start_worker, initargs=(index, candidates)
        ) as pool:
            chunks = _chunks(len(candidates), chunksize, STRIDE)
            results = pool.map(_run_in_worker, chunks)
            arrived: dict[int, FileResult] = {}
            taken = 0  # chunks taken from the pool, in order
            position = 0  # the next candidate to yield, in the tasks' order
            for task in tasks:
                if id(task) in wanted:
                    while position not in arrived:
                        for i, result in zip(chunks[taken], next(results)):
                            arrived[i] = result if result is not None else plain_result(candidates[i])
                        taken += 1
                    yield arrived.pop(position)
                    position += 1
                else:
                    yield run_here(task)
                done += 1
    except BrokenProcessPool:
        # A worker died (e.g. a C stack overflow in the parser); the files not yet reported cannot be trusted.
        for task in tasks[done:]:
            yield error(task.display, INTERNAL_ERROR, "a worker process died while this file was being processed")


def _chunks(count: int, chunk: int, stride: int) -> list[range]:
    """The positions of ``count`` candidates in chunks of at most ``chunk``, in the order the pool takes them: window
    by window (``chunk * stride`` positions), chunk k of a window holds its positions k, k + stride, ... Neighbouring
    files cost alike (a package's few large modules sit together), and two costly neighbours in one chunk would keep
    one worker busy after the other is done; the results are put back in order, a window at most held back."""
    chunks: list[range] = []
    for start in range(0, count, chunk * stride):
        stop = min(start + chunk * stride, count)
        chunks += [range(start + k, stop, stride) for k in range(min(stride, stop - start))]
    return chunks


def migrate_paths(paths: Iterable[str | Path], options: RunOptions | None = None) -> list[FileResult]:
    """Discover files under paths and migrate them. Raises FileNotFoundError for a missing path."""
    options = options or RunOptions()
    results = []
    for result in run_tasks(plan_tasks(paths, options), options.jobs):
        if options.on_file is not None:
            options.on_file(result)
        results.append(result)
    return results
