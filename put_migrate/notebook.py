"""Jupyter notebooks (``.ipynb``): the code cells are migrated as one module, everything else is left as it was.

``split_notebook`` reads a notebook's JSON and joins its code cells into one Python text, each cell introduced by a
marker comment line (a class in one cell and the imports it relies on in another are seen together, as the kernel
sees them); ``join_notebook`` puts the migrated text back into the cells and writes the JSON again, with the
notebook's own indentation, key order, ASCII escaping and trailing newline. Outputs, metadata, execution counts and
markdown cells are not touched; a notebook whose cells do not change is not rewritten at all.

Cells holding IPython syntax (a line starting with ``%`` or ``!``, ``x = !cmd``, ``x = %magic``, a trailing ``?``
help request) are left alone: they are not Python, and put-migrate does not parse them. ``# put-migrate:
skip-file`` in the first lines of the first code cell skips the whole notebook.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_MARKER = "# __put_migrate_notebook_cell_7f3a__ {}"
_MARKER_LINE = re.compile(r"^# __put_migrate_notebook_cell_7f3a__ (\d+)\n", re.MULTILINE)
_IPYTHON_LINE = re.compile(r"^\s*(?:[%!]|\w+\s*=\s*[%!]|[^#\s][^#]*\?\s*$)")


class NotebookError(ValueError):
    """The file is not a notebook put-migrate can read (invalid JSON, no cells, unexpected shapes)."""


def has_ipython_syntax(source: str) -> bool:
    return any(_IPYTHON_LINE.match(line) for line in source.splitlines())


@dataclass
class Notebook:
    document: dict[str, Any]
    indent: int | str | None
    trailing_newline: bool
    ensure_ascii: bool
    cells: list[int] = field(default_factory=list)  # indices (in document["cells"]) of the migrated code cells
    text: str = ""  # the joined code of those cells
    starts: list[int] = field(default_factory=list)  # line (1-based, in text) where each cell's code starts

    def cell_and_line(self, line: int) -> tuple[int, int]:
        """The notebook cell (0-based index among all cells) and the line in it of a line of ``text``."""
        position = 0
        for number, start in enumerate(self.starts):
            if start <= line:
                position = number
        return self.cells[position], line - self.starts[position] + 1


def cell_source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        if not all(isinstance(part, str) for part in source):
            raise NotebookError("a cell's source is not text")
        return "".join(source)
    if not isinstance(source, str):
        raise NotebookError("a cell's source is not text")
    return source


def _indent_of(text: str) -> int | str | None:
    """The indentation ``json.dump`` was given: taken from the first indented line; None for one-line JSON."""
    for line in text.split("\n")[1:3]:
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) < len(line):
            prefix = line[: len(line) - len(stripped)]
            return len(prefix) if set(prefix) == {" "} else prefix
    return None


def split_notebook(text: str) -> Notebook:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"not valid notebook JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise NotebookError("not a notebook (no list of cells)")
    indent = _indent_of(text)
    trailing = text.endswith("\n")
    # nbformat writes ensure_ascii=False; a notebook with \u escapes and no raw non-ASCII text was written with True.
    ensure_ascii = "\\u" in text and all(ord(c) < 128 for c in text)
    notebook = Notebook(document, indent, trailing, ensure_ascii)
    parts: list[str] = []
    line = 1
    for index, cell in enumerate(document["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell_source(cell)
        if has_ipython_syntax(source) or _MARKER_LINE.search(source + "\n"):
            continue
        body = source if source.endswith("\n") or not source else source + "\n"
        parts.append(_MARKER.format(len(notebook.cells)) + "\n" + body)
        notebook.cells.append(index)
        notebook.starts.append(line + 1)
        line += 1 + body.count("\n")
    notebook.text = "".join(parts)
    return notebook


def dump(notebook: Notebook) -> str:
    text = json.dumps(notebook.document, indent=notebook.indent, ensure_ascii=notebook.ensure_ascii)
    return text + "\n" if notebook.trailing_newline else text


def join_notebook(notebook: Notebook, new_text: str) -> str:
    """The notebook's JSON with the migrated code put back in its cells."""
    markers = list(_MARKER_LINE.finditer(new_text))
    if [int(m.group(1)) for m in markers] != list(range(len(notebook.cells))) or (
        markers and markers[0].start() != 0
    ):
        raise NotebookError("the migrated code lost a cell boundary")
    for number, match in enumerate(markers):
        end = markers[number + 1].start() if number + 1 < len(markers) else len(new_text)
        code = new_text[match.end() : end]
        cell = notebook.document["cells"][notebook.cells[number]]
        old = cell_source(cell)
        # The cell keeps its own trailing newlines (libcst's import adder leaves a blank line after the imports).
        code = code.rstrip("\n") + "\n" * (len(old) - len(old.rstrip("\n")))
        if code == old:
            continue
        if isinstance(cell.get("source"), list):
            cell["source"] = code.splitlines(keepends=True)
        else:
            cell["source"] = code
    return dump(notebook)
