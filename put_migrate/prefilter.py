"""The pre-filter: one ordered list of named gates; the first that holds settles a file as unchanged, unparsed."""

# Each gate reads one stage of a file, and the pipeline asks at each stage in turn: the raw bytes; the decoded text
# (after the ``skip-file`` opt-out); the text the transform would see (``skip`` lines masked), with the run's index.

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from put_migrate.discover import SKIP_FILE_LINES, may_contain_log_call
from put_migrate.screen import may_need_transform, python_tree, settled_by_index


class Stage(Enum):
    BYTES = "bytes"  # the file's bytes, not decoded
    TEXT = "text"  # its decoded text (a notebook: the code of its cells)
    SOURCE = "source"  # the text the transform would be given, with the run's index


@dataclass(slots=True)
class Subject:
    """What the gates of a stage read."""

    data: bytes = b""
    text: str = ""
    path: str = ""
    index: object = None  # ``put_migrate.index.RepositoryIndex``; loads the file's own module when asked


@dataclass(frozen=True)
class Gate:
    reason: str  # why a file it stops is settled
    stage: Stage
    settles: Callable[[Subject], bool]


# ``re`` finds a pattern that starts with a literal sooner than ``in`` finds a short needle (over torch's 52 MB of
# source: 0.016 s against 0.025 s).
_DOT_LOG = re.compile(rb"\.log")


def plainly_unchanged(data: bytes) -> bool:
    """Bytes that decode without a word to say (ASCII, no NUL, no encoding declaration in the first two lines) and
    hold neither ``.log`` nor, in the lines that count for it, the file's opt-out comment (most files of a large
    tree). Without ``.log`` the other ``put-migrate`` comments stand above nothing the run would change."""
    if not data.isascii() or b"\0" in data or _DOT_LOG.search(data):
        return False
    return b"put-migrate" not in _head(data, SKIP_FILE_LINES) and b"coding" not in _head(data, 2)


def _head(data: bytes, lines: int) -> bytes:
    """The first ``lines`` lines (without copying the rest, as ``split`` would)."""
    end = -1
    for _ in range(lines):
        end = data.find(b"\n", end + 1)
        if end == -1:
            return data
    return data[:end]


# A call put-migrate rewrites whatever the file names: on ``self`` or a callback's ``pl_module``. The pattern starts
# with a literal (``re`` skips ahead to it); the receiver is checked in the text just before a match.
_LOG_CALL = re.compile(r"\.\s*log(?:_dict)?\s*\(")
_CANDIDATE_RECEIVER = re.compile(r"(?:^|[^\w.])(?:self|pl_module)\Z")


def holds_candidate_call(text: str) -> bool:
    """Whether ``text`` holds ``self.log(``, ``self.log_dict(``, ``pl_module.log(`` or ``pl_module.log_dict(``."""
    for match in _LOG_CALL.finditer(text):
        if _CANDIDATE_RECEIVER.search(text[max(0, match.start() - 64):match.start()].rstrip(" \t\f\r\n\\")):
            return True
    return False


def no_log_call(text: str) -> bool:
    """No Lightning ``.log(`` call in the text (``discover.may_contain_log_call``); and where it holds a candidate
    call, Python can parse it: a file that does not parse is not known to be free of Lightning, and goes on to be
    reported (PM301)."""
    if may_contain_log_call(text):
        return False
    return not holds_candidate_call(text) or python_tree(text) is not None


def might_log(source: str) -> bool:
    """No ``.log`` text, no log call (``self.log``, ``pl_module.log_dict`` ...): the transform's own guard."""
    return ".log" in source


GATES: tuple[Gate, ...] = (
    Gate("plain ASCII without `.log` or an opt-out comment", Stage.BYTES, lambda s: plainly_unchanged(s.data)),
    Gate("no Lightning `.log(` call in the text", Stage.TEXT, lambda s: no_log_call(s.text)),
    Gate("no class with bases logs through a receiver the transform reads", Stage.SOURCE,
         lambda s: not may_need_transform(s.text)),
    Gate("the index shows every logging class leads nowhere near Lightning", Stage.SOURCE,
         lambda s: s.index is not None and settled_by_index(s.text, s.path, s.index)),
)


_BY_STAGE = {stage: tuple(gate for gate in GATES if gate.stage is stage) for stage in Stage}


def settled(stage: Stage, subject: Subject) -> str | None:
    """The reason of the first gate of ``stage`` that settles ``subject``; None when the file goes on."""
    for gate in _BY_STAGE[stage]:
        if gate.settles(subject):
            return gate.reason
    return None
