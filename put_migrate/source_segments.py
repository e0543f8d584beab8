"""The source text of ``ast`` nodes, as ``ast.get_source_segment`` gives it, from lines split once per file.

``ast.get_source_segment`` splits the whole source at every call, so reading every method of a large module costs
time quadratic in its length (3 s of a 3 s ``--check`` over torch's site-packages).
"""

from __future__ import annotations

import ast
import re

# Line ends as ``ast`` counts them: "\r\n", "\r" or "\n" (not form feeds or the other ``str.splitlines`` breaks).
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


class SourceSegments:
    """Segments of one source text."""

    def __init__(self, text: str) -> None:
        self._lines = _LINES.findall(text)

    def segment(self, node: ast.AST, *, padded: bool = False) -> str | None:
        """What ``ast.get_source_segment(text, node, padded=padded)`` returns."""
        try:
            if node.end_lineno is None or node.end_col_offset is None:  # type: ignore[attr-defined]
                return None
            first = node.lineno - 1  # type: ignore[attr-defined]
            last = node.end_lineno - 1  # type: ignore[attr-defined]
            start = node.col_offset  # type: ignore[attr-defined]
            end = node.end_col_offset  # type: ignore[attr-defined]
        except AttributeError:
            return None
        lines = self._lines
        if first == last:
            return lines[first].encode()[start:end].decode()
        # Column offsets count UTF-8 bytes.
        head = lines[first].encode()
        padding = _whitespace(head[:start].decode()) if padded else ""
        body = [padding + head[start:].decode(), *lines[first + 1 : last], lines[last].encode()[:end].decode()]
        return "".join(body)


def _whitespace(text: str) -> str:
    """``text`` with every character but tabs and form feeds made a space (``ast``'s padding)."""
    return "".join(c if c in "\f\t" else " " for c in text)
