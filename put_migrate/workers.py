"""The process pool of a check or a diff of a folder: started before discovery, fed by this process.

The first worker imports the transform (libcst, a fifth of a second) as soon as it starts, while this process is
still discovering the files; the others wait for the files. A worker that has not imported the transform hands
back the files that need it (``pipeline.TransformDeferred``); those go first to a worker that has it. Once as
many files wait as there are workers with the transform, the others stop handing files back and import it too.
So on a large tree with a few files to rewrite the import overlaps discovery and is paid once, and where many
files need the transform every worker rewrites.

Nothing is written (check and diff modes), so any worker may take any file, more than once.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import pickle
import signal
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from put_migrate.results import INTERNAL_ERROR, FileResult, error

# A worker's answer for a file that needs the transform, where it has not imported it.
_DEFERRED = "deferred"
_DIED = "a worker process died while this file was being processed"


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: multiprocessing.connection.Connection
    ready: bool  # the first worker is ready once it has imported the transform (or failed to)
    has_transform: bool = False
    has_index: bool = False
    sent: deque[list[int]] = field(default_factory=deque)  # the positions of each message not yet answered
    alive: bool = True

    def will_transform(self) -> bool:
        return self.alive and (self.has_transform or not self.ready)


class Pool:
    """``jobs`` worker processes, started at once (the first imports the transform); ``run`` gives them a run's
    files. Close it (a context manager) to stop them."""

    AHEAD = 2  # messages a worker may hold: the next one waits in its pipe while it works

    def __init__(self, jobs: int) -> None:
        context = multiprocessing.get_context()
        self._workers: list[_Worker] = []
        with _ctrl_c_ignored():  # a forked worker ignores it from its first instruction
            for number in range(jobs):
                parent, child = context.Pipe()
                process = context.Process(target=_worker, args=(child, number == 0), daemon=True)
                process.start()
                child.close()
                self._workers.append(_Worker(process, parent, ready=number != 0))

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers: each ends at its next read (a forked worker holds the others' pipes open, so closing
        ours would not end it); one still importing the transform or busy with a file is terminated."""
        for worker in self._workers:
            if worker.alive and not worker.sent and worker.ready:
                try:
                    worker.connection.send(None)
                except OSError:
                    pass
        for worker in self._workers:
            worker.process.join(timeout=0 if worker.sent or not worker.ready else 1)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join()
            worker.connection.close()

    def run(self, tasks: Sequence, index, chunks: Sequence[Sequence[int]]) -> Iterator[FileResult]:
        """The results of ``tasks`` (``runner.Task``), in order; the workers take them ``chunks`` at a time (each a
        sequence of positions) and each is sent ``index`` (the run's ``RepositoryIndex``) once."""
        from put_migrate import runner  # which imports this module

        blob = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
        queue = deque(chunks)
        deferred: deque[int] = deque()
        results: dict[int, FileResult] = {}
        workers = self._workers

        def send(worker: _Worker, positions: list[int], defer: bool) -> None:
            worker.sent.append(positions)
            try:
                worker.connection.send((None if worker.has_index else blob, [tasks[i] for i in positions], defer))
            except OSError:
                died(worker)
                return
            worker.has_index = True

        def died(worker: _Worker) -> None:
            """The files of the message it was working on fail; those of the message waiting in its pipe go to
            the other workers."""
            worker.alive = False
            if worker.sent:
                for i in worker.sent.popleft():
                    results[i] = error(tasks[i].display, INTERNAL_ERROR, _DIED)
            queue.extendleft(reversed(worker.sent))
            worker.sent.clear()

        def feed(worker: _Worker) -> None:
            """Give an idle or nearly idle worker its next work: a deferred file where it has the transform, else
            the next chunk, else a deferred file. A worker without the transform defers the files that need it
            only while fewer wait than there are workers with it (or importing it): where many files need the
            transform, every worker imports it."""
            while worker.alive and worker.ready and len(worker.sent) < self.AHEAD:
                capable = sum(w.will_transform() for w in workers)
                if deferred and worker.has_transform:
                    send(worker, [deferred.popleft()], defer=False)
                elif queue:
                    send(worker, list(queue.popleft()), defer=not worker.has_transform and len(deferred) < capable)
                elif deferred and not worker.sent and len(deferred) > capable:
                    send(worker, [deferred.popleft()], defer=False)
                else:
                    return

        def answer(worker: _Worker) -> None:
            try:
                has_transform, answers = worker.connection.recv()
            except (EOFError, OSError):
                died(worker)
                return
            worker.has_transform = has_transform
            if not worker.ready:  # the first worker's word that it has imported the transform
                worker.ready = True
                return
            for i, answer in zip(worker.sent.popleft(), answers):
                if answer == _DEFERRED:
                    deferred.append(i)
                else:
                    results[i] = answer if answer is not None else runner.plain_result(tasks[i])

        for position in range(len(tasks)):
            while position not in results:
                for worker in workers:
                    feed(worker)
                live = [w for w in workers if w.alive]
                if not live:
                    for i in range(position, len(tasks)):
                        results.setdefault(i, error(tasks[i].display, INTERNAL_ERROR, _DIED))
                    break
                for connection in multiprocessing.connection.wait([w.connection for w in live]):
                    answer(next(w for w in live if w.connection is connection))
            yield results.pop(position)


@contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """Ctrl-C reaches the whole process group: the process that owns the workers stops them, and no worker prints
    a traceback on the terminal. Ignored while they are forked (a worker inherits that), and again in each (a
    worker started otherwise than by fork)."""
    previous = signal.getsignal(signal.SIGINT)
    # Only the main thread may set handlers; None: a handler set outside Python, which could not be put back.
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _worker(connection, load: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _serve(connection, load)


def _serve(connection, load: bool) -> None:
    """A worker: answers each message (the index where it is new, the tasks, whether to defer the transform) with
    whether it has the transform and the tasks' results: None for a file settled unchanged with nothing to say,
    ``_DEFERRED`` for one that needs the transform where it was told to defer it."""
    from put_migrate import pipeline, runner

    if load:
        pipeline.load_transform()
        connection.send((pipeline.transform_loaded(), []))  # ready: the files that need the transform may come
    index = None
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        blob, tasks, defer = message
        if blob is not None:
            index = pickle.loads(blob)
        pipeline.defer_transforms(defer)
        answers: list[FileResult | str | None] = []
        for task in tasks:
            try:
                result = runner.run_task(task, index)
            except pipeline.TransformDeferred:
                answers.append(_DEFERRED)
                continue
            answers.append(None if result == runner.plain_result(task) else result)
        connection.send((pipeline.transform_loaded(), answers))
