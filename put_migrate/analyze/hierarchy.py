"""What a class's project ancestors log: the names whose aggregators they create, and those that run on this class.

Each class of a hierarchy is planned on its own, and each creates its aggregators in its own ``__init__``. Two
classes of one hierarchy must never create the same attribute (the subclass's ``__init__`` would replace the
base's aggregator, and the base's compute hook, run first through ``super()``, would put the subclass's value with
the base's destinations). And where an ancestor's log call of a name still runs on an instance of the subclass
(its method is not overridden, or is reached through ``super()``), Lightning aggregates both calls in one value:
two aggregators cannot reproduce that, so the subclass's call is left.
"""

from __future__ import annotations

import functools
import itertools
import re

import libcst as cst

from put_migrate.hooks import HOOKS
from put_migrate.lightning_classes import LightningClass, dotted_name
from put_migrate.walk import visit

_REDUCES = ("mean", "sum", "max", "min")
_VARIANTS = ("forked", "synced", "prog_bar", "no_logger")  # the suffixes of plan.aggregators._variant_name


def _keyed_attributes() -> frozenset[str]:
    """Every attribute a hook's ``Keyed`` aggregator may get: ``<hook>_metrics[_<variants>][_<reduce>|_<n>]``."""
    variants = [""] + [f"_{'_'.join(c)}" for n in range(1, 5) for c in itertools.combinations(_VARIANTS, n)]
    found: set[str] = set()
    for stem in (f"{hook}_metrics{v}" for hook in HOOKS for v in variants):
        found.add(stem)
        found.update(f"{stem}_{r}" for r in _REDUCES)
        found.update(f"{stem}_{n}" for n in range(2, 10))
    return frozenset(found)


_KEYED_ATTRIBUTES = _keyed_attributes()  # computed once: every class with a logging ancestor needs all of it


def class_prefix(name: str) -> str:
    """``MyChildModel`` -> ``my_child_model``: the prefix of the aggregators a subclass names apart."""
    from put_migrate.plan.names import identifier  # the planner's own rule (``plan`` imports ``analyze``)

    return identifier(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower())


def inherited_attributes(cls: LightningClass) -> frozenset[str]:
    """Every attribute an ancestor's aggregator of a literal name may be given (by ``NameAllocator.new_attr``)."""
    from put_migrate.plan.names import identifier

    if cls.inherited is None:
        return frozenset()
    found: set[str] = set()
    if cls.inherited.chain:
        # An ancestor's names logged at run time go into ``<hook>_metrics`` aggregators (with a suffix per option
        # combination) whatever the names are: a subclass must not reuse one, or one compute hook would put the
        # other's names with its destinations.
        found |= _KEYED_ATTRIBUTES
    for ancestor in cls.inherited.chain:
        prefix = class_prefix(ancestor.key.rsplit(".", 1)[1])
        for _, name in ancestor.logged:
            for stem in (identifier(name), f"{prefix}_{identifier(name)}"):
                found.add(stem)
                found.update(f"{stem}_{r}" for r in _REDUCES)
                found.update(f"{stem}_{n}" for n in range(2, 100))
    return frozenset(found)


def reached_otherwise(node: cst.ClassDef) -> set[str]:
    """Names used as an attribute of anything but ``self`` in the class (``super().m``, ``Base.m``)."""
    found: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_Attribute(self, attribute: cst.Attribute) -> None:
            if dotted_name(attribute.value) != "self":
                found.add(attribute.attr.value)

    visit(node, Visitor())
    return found


def method_resolution(cls: LightningClass) -> list | None:
    """The indexed ancestors in Python's method resolution order (C3), bases matched by their dotted names; None
    where it cannot be followed (a base matched twice, or no consistent order)."""
    if cls.inherited is None:
        return None
    chain = list(cls.inherited.chain)

    def match(dotted: str):
        found = [a for a in chain if a.key == dotted or a.key.endswith(f".{dotted}")]
        if not found:  # a re-export (``pkg.Base`` for ``pkg.base.Base``): the class name, where it is unique
            found = [a for a in chain if a.key.rsplit(".", 1)[1] == dotted.rsplit(".", 1)[-1]]
        return found[0] if len(found) == 1 else None

    memo: dict[str, list | None] = {}

    def linear(bases: tuple[str, ...], key: str, depth: int = 0) -> list | None:
        if key in memo:
            return memo[key]
        if depth > 64:
            return None
        direct = [b for b in (match(d) for d in bases) if b is not None]
        if len({b.key for b in direct}) != len(direct):
            return None
        sequences = []
        for base in direct:
            rest = linear(base.bases, base.key, depth + 1)
            if rest is None:
                return None
            sequences.append([base, *rest])
        sequences.append(list(direct))
        order: list = []
        while any(sequences):
            sequences = [q for q in sequences if q]
            for q in sequences:
                head = q[0]
                if not any(head.key in (x.key for x in other[1:]) for other in sequences):
                    break
            else:
                return None
            order.append(head)
            sequences = [q[1:] if q[0].key == head.key else q for q in sequences]
        memo[key] = order
        return order

    return linear(cls.inherited.bases, "")


def runs_on(order: list | None, own: tuple[set[str], set[str]], ancestor, method: str) -> bool:
    """Whether ``ancestor``'s ``method`` runs on an instance of the class (``own``: its methods, and those it names
    other than through ``self``): no class before the ancestor in the resolution order overrides it, or each
    override reaches the next one (``super().method``). Unknown order: it may run."""
    if order is None:
        return True
    if method in own[0] and method not in own[1]:
        return False
    for klass in order:
        if klass.key == ancestor.key:
            return True
        if method in klass.methods and method not in klass.reached_otherwise:
            return False
    return True


def live_ancestor_logs(cls: LightningClass, methods: set[str], stage: str | None = None) -> dict[str, str]:
    """Name -> ``Ancestor.method`` for each literal name an ancestor logs (or puts, once migrated) in a method that
    still runs on an instance of ``cls``; with ``stage``, hooks of other stages left out (Lightning keeps their
    values in another result collection, and the later of the two writes wins in its dicts, as the later put)."""
    if cls.inherited is None:
        return {}
    order = method_resolution(cls)
    own = (methods, reached_otherwise(cls.node))
    live: dict[str, str] = {}
    for ancestor in cls.inherited.chain:
        for method, name in ancestor.logged:
            if stage is not None and method in HOOKS and HOOKS[method].stage != stage:
                continue
            if method == "*" or runs_on(order, own, ancestor, method):  # "*": a put, from whichever method
                live.setdefault(name, f"{ancestor.key.rsplit('.', 1)[1]}.{method}")
    return live


def inherited_methods(cls: LightningClass, methods: dict[str, cst.FunctionDef]) -> tuple[
        dict[str, cst.FunctionDef], list[tuple[str, str, str]]]:
    """The ancestors' methods that run on an instance of ``cls`` and name one of its methods (``self.m``), or one
    of the ancestor methods found so (a hook, or a helper of a chain that leads to a hook), parsed from the index's
    sources; and (method, where, why) for each use whose caller cannot be seen (no source)."""
    if cls.inherited is None or cls.kind != "module":
        return {}, []
    order = method_resolution(cls)
    if order is None:
        return {}, []
    own = (set(methods), reached_otherwise(cls.node))
    found: dict[str, cst.FunctionDef] = {}
    others: list[tuple[str, str, str]] = []
    wanted = set(methods)
    for _ in range(_MAX_ROUNDS):
        grown = False
        for ancestor in order:
            sources = dict(ancestor.method_sources)
            for method, attr in ancestor.self_uses:
                if attr not in wanted or attr == method or method in found or method in methods:
                    continue
                if not runs_on(order, own, ancestor, method):
                    continue
                function = _parsed(sources[method]) if method in sources else None
                if function is None:
                    where = f"{ancestor.key.rsplit('.', 1)[1]}.{method}"
                    others.append((attr, where, f"`self.{attr}` is used in `{where}`, whose source is not known"))
                else:
                    found[method] = function
                    wanted.add(method)
                    grown = True
        if not grown:
            break
    return found, others


_MAX_ROUNDS = 6  # ancestor helpers between an ancestor's hook and this class's method


@functools.lru_cache(maxsize=512)
def _parsed(source: str) -> cst.FunctionDef | None:
    try:
        module = cst.parse_module(source)
    except Exception:  # noqa: BLE001 - the index read it with Python's ast; libcst may refuse newer syntax
        return None
    function = module.body[0] if module.body else None
    return function if isinstance(function, cst.FunctionDef) else None
