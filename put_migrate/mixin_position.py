"""Where ``PutMixin`` goes among the bases of a derived class whose project root is in another file.

Last is valid in most hierarchies, whether the root gets ``PutMixin`` (first) or not: but not where a later base is
one the root's method resolution order lists after ``PutMixin`` (``class ASRModel(ModelPT, WithOptionalCudaGraphs,
ABC)``, ``ModelPT`` deriving from ``ABC``): Python then refuses the class (``TypeError`` at import). The method
resolution order is computed here (C3 over the indexed ancestors; a class the index does not know counts as having
no bases) with the mixin at each place, in two cases: only the roots given ``PutMixin`` (the ancestors deriving from
a Lightning class directly: first), and every ancestor that logs given it as this run does (the roots first, a
derived class at the place this rule chooses for it). The last place valid in both is chosen; else the last valid
when every ancestor is migrated (one run over the project); else last.
"""

from __future__ import annotations

from put_migrate.lightning_names import BASES

_MIXIN = "PutMixin"


def mixin_position(chain: tuple, own_bases: list[str]) -> int:
    """How many of ``own_bases`` (the class's positional bases, dotted) come before ``PutMixin``."""
    everything = _with_mixin(chain, every=True)
    cases = (_with_mixin(chain, every=False), everything)
    places = range(len(own_bases), -1, -1)
    for case in (cases, (everything,)):
        for position in places:
            bases = [*own_bases[:position], _MIXIN, *own_bases[position:]]
            if all(_linear(bases, chain, given) is not None for given in case):
                return position
    return len(own_bases)


def _find(chain: tuple, dotted: str):
    """The ancestor of ``chain`` a dotted base name refers to (equal key, key ending with it, or the one class of
    that name), else None."""
    tail = dotted.rsplit(".", 1)[-1]
    if tail == _MIXIN:
        return None
    found = [a for a in chain if a.key == dotted or a.key.endswith(f".{dotted}")]
    if not found:
        found = [a for a in chain if a.key.rsplit(".", 1)[1] == tail]
    return found[0] if len(found) == 1 else None


def _name(chain: tuple, dotted: str) -> str:
    if dotted.rsplit(".", 1)[-1] == _MIXIN:
        return _MIXIN
    klass = _find(chain, dotted)
    return klass.key if klass is not None else dotted


def _above(chain: tuple, klass) -> tuple:
    """The ancestors of ``klass`` among ``chain``."""
    found: dict[str, object] = {}
    todo = list(klass.bases)
    while todo:
        base = _find(chain, todo.pop(0))
        if base is not None and base.key not in found and base.key != klass.key:
            found[base.key] = base
            todo.extend(base.bases)
    return tuple(found.values())


def _with_mixin(chain: tuple, every: bool) -> dict[str, list[str]]:
    """Each ancestor's bases (names) once migrated: the roots with ``PutMixin`` first; with ``every``, also each
    derived ancestor that logs and has no ancestor in its own module (which would carry it), at its place."""
    given: dict[str, list[str]] = {}
    for klass in chain:
        own = [_name(chain, b) for b in klass.bases]
        if _MIXIN not in own and any(b in BASES for b in klass.bases):
            own.insert(0, _MIXIN)
        elif _MIXIN not in own and every and klass.logs:
            above = _above(chain, klass)
            module = klass.key.rsplit(".", 1)[0]
            if above and not any(a.key.rsplit(".", 1)[0] == module for a in above):
                bases = list(klass.bases)
                position = mixin_position(above, bases)
                own = [_name(chain, b) for b in bases[:position]] + [_MIXIN] + own[position:]
        given[klass.key] = own
    return given


def _linear(bases: list[str], chain: tuple, given: dict[str, list[str]]) -> list[str] | None:
    """The method resolution order of a class with ``bases`` (dotted), None where C3 finds none."""
    memo: dict[str, list[str] | None] = {}

    def linear(key: str, own: list[str], depth: int) -> list[str] | None:
        if key in memo:
            return memo[key]
        if depth > 64:
            return None
        sequences = []
        for base in own:
            rest = linear(base, given.get(base, []), depth + 1)
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

    return linear("<class>", [_name(chain, b) for b in bases], 0)
