"""Where ``PutMixin`` goes among the bases of a derived class whose project root is in another file.

Last is valid in most hierarchies, whether the root gets ``PutMixin`` (first) or not: but not where a later base is
one the root's method resolution order lists after ``PutMixin`` (``class ASRModel(ModelPT, WithOptionalCudaGraphs,
ABC)``, ``ModelPT`` deriving from ``ABC``): Python then refuses the class (``TypeError`` at import). The method
resolution order is computed here (C3, over the indexed ancestors; a class the index does not know counts as
having no bases) with the mixin at each place, the root with and without ``PutMixin``; the last place valid in both
is chosen.
"""

from __future__ import annotations

from put_migrate.lightning_names import BASES

_MIXIN = "PutMixin"


def mixin_position(chain: tuple, own_bases: list[str]) -> int:
    """How many of ``own_bases`` (the class's positional bases, as written) come before ``PutMixin``: the largest
    number for which the class's method resolution order is valid with and without ``PutMixin`` on its roots (the
    ancestors deriving from a Lightning class directly); all of them where none is."""
    for position in range(len(own_bases), -1, -1):
        bases = [*own_bases[:position], _MIXIN, *own_bases[position:]]
        if all(_linear(bases, chain, roots_mixin) is not None for roots_mixin in (False, True)):
            return position
    return len(own_bases)


def _linear(bases: list[str], chain: tuple, roots_mixin: bool) -> list[str] | None:
    """The method resolution order of a class with ``bases`` (names), None where C3 finds none."""
    memo: dict[str, list[str] | None] = {}

    def find(dotted: str):
        tail = dotted.rsplit(".", 1)[-1]
        if tail == _MIXIN:
            return None
        found = [a for a in chain if a.key == dotted or a.key.endswith(f".{dotted}")]
        if not found:
            found = [a for a in chain if a.key.rsplit(".", 1)[1] == tail]
        return found[0] if len(found) == 1 else None

    def name(dotted: str) -> str:
        if dotted.rsplit(".", 1)[-1] == _MIXIN:
            return _MIXIN
        klass = find(dotted)
        return klass.key if klass is not None else dotted

    def bases_of(key: str) -> list[str]:
        klass = next((a for a in chain if a.key == key), None)
        if klass is None:
            return []
        own = [name(b) for b in klass.bases]
        if roots_mixin and _MIXIN not in own and any(b in BASES for b in klass.bases):
            own.insert(0, _MIXIN)
        return own

    def linear(key: str, own: list[str], depth: int) -> list[str] | None:
        if key in memo:
            return memo[key]
        if depth > 64:
            return None
        sequences = []
        for base in own:
            rest = linear(base, bases_of(base), depth + 1)
            if rest is None:
                return None
            sequences.append(list(rest))
        sequences.append(list(own))
        order = [key]
        while any(sequences):
            sequences = [s for s in sequences if s]
            head = next((s[0] for s in sequences if not any(s[0] in other[1:] for other in sequences)), None)
            if head is None:
                memo[key] = None
                return None
            order.append(head)
            sequences = [s[1:] if s[0] == head else s for s in sequences]
        memo[key] = order
        return order

    return linear("<class>", [name(b) for b in bases], 0)
