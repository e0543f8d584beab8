"""A module's code generated once per top-level element, so that a rewritten module reuses the text of the
statements it shares with the original instead of generating the whole file a second time.

``ModuleCode.of(module).text == module.code`` and ``ModuleCode.of(original).code_of(new) == new.code``, byte for
byte: each header line, body statement and footer line is generated on its own ``CodegenState`` built the way
``Module.code_for_node`` builds it, and the pieces are joined with the end-of-file rule of
``Module._codegen_impl`` (libcst 1.x, ``libcst/_nodes/module.py``). Nodes are immutable, so a node of the new
module that *is* a node of the original generates the same text, given the same default indent and newline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import libcst as cst
from libcst._nodes.internal import CodegenState  # what Module.code_for_node builds; not re-exported by libcst


@dataclass(frozen=True)
class Piece:
    """One top-level element's generated text, and the last token it emitted (None: it emitted none)."""

    text: str
    last_token: str | None


def generate(module: cst.Module, node: cst.CSTNode) -> Piece:
    """Generate ``node`` in the context of ``module`` (its default indent and newline), as code_for_node does."""
    state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline)
    node._codegen(state)
    tokens = state.tokens
    return Piece("".join(tokens), tokens[-1] if tokens else None)


def elements(module: cst.Module) -> Iterable[cst.CSTNode]:
    """The nodes Module._codegen_impl generates, in its order: header lines, body statements, footer lines."""
    yield from module.header
    yield from module.body
    yield from module.footer


def join(module: cst.Module, pieces: list[Piece]) -> str:
    """The module's code from its elements' pieces: Module._codegen_impl's end-of-file rule applied to them."""
    text = "".join(piece.text for piece in pieces)
    last = next((piece.last_token for piece in reversed(pieces) if piece.last_token is not None), None)
    if module.has_trailing_newline:
        if last is None:  # no token at all (libcst tests the token list, not the text)
            text += module.default_newline
    elif last is not None:  # pop_trailing_newline removes the last token, whatever it is
        text = text[: len(text) - len(last)]
    return text


@dataclass(frozen=True)
class ModuleCode:
    """A module's code (``text``) and the piece of each of its top-level elements, by node identity."""

    module: cst.Module  # kept alive: the keys of ``pieces`` are the ids of its nodes
    pieces: dict[int, Piece]
    text: str

    @classmethod
    def of(cls, module: cst.Module) -> ModuleCode:
        nodes = list(elements(module))
        pieces = [generate(module, node) for node in nodes]
        return cls(module, {id(node): piece for node, piece in zip(nodes, pieces)}, join(module, pieces))

    def code_of(self, new: cst.Module) -> str:
        """``new.code``, generating only the top-level elements of ``new`` that are not elements of the original."""
        if new is self.module:
            return self.text
        if (new.default_indent, new.default_newline) != (self.module.default_indent, self.module.default_newline):
            return new.code  # the shared nodes would generate other text: nothing to reuse
        pieces = []
        for node in elements(new):
            piece = self.pieces.get(id(node))
            pieces.append(generate(new, node) if piece is None else piece)
        return join(new, pieces)
