"""What a class's project ancestors log: the names whose aggregators they create, and those that run on this class.

Each class of a hierarchy is planned on its own, and each creates its aggregators in its own ``__init__``. Two
classes of one hierarchy must never create the same attribute (the subclass's ``__init__`` would replace the
base's aggregator, and the base's compute hook, run first through ``super()``, would put the subclass's value with
the base's destinations). And where an ancestor's log call of a name still runs on an instance of the subclass
(its method is not overridden, or is reached through ``super()``), Lightning aggregates both calls in one value:
two aggregators cannot reproduce that, so the subclass's call is left.
"""

from __future__ import annotations

import re

import libcst as cst

from put_migrate.lightning_classes import LightningClass, dotted_name
from put_migrate.walk import visit

_REDUCES = ("mean", "sum", "max", "min")


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


def live_ancestor_logs(cls: LightningClass, methods: set[str]) -> dict[str, str]:
    """Name -> ``Ancestor.method`` for each literal name an ancestor logs in a method that still runs on an instance
    of ``cls``: no class below the ancestor overrides it, or each override reaches it (``super().method``).
    With several project bases on the way the order is not followed: every ancestor's call counts as running."""
    if cls.inherited is None:
        return {}
    chain = cls.inherited.chain
    own_reached = reached_otherwise(cls.node)
    simple = all(len([b for b in a.bases if _is_project(b, chain)]) <= 1 for a in chain)
    live: dict[str, str] = {}
    for position, ancestor in enumerate(chain):
        below = [(methods, own_reached), *((a.methods, a.reached_otherwise) for a in chain[:position])]
        for method, name in ancestor.logged:
            runs = True
            if simple and method != "*":  # "*": a put of a migrated ancestor, from whichever method
                for defined, reached in below:
                    if method in defined:
                        runs = method in reached  # the nearest override decides (and each it reaches in turn)
                        if not runs:
                            break
            if runs:
                live.setdefault(name, f"{ancestor.key.rsplit('.', 1)[1]}.{method}")
    return live


def _is_project(base: str, chain) -> bool:
    return any(a.key == base or a.key.endswith(f".{base}") or base.endswith(f".{a.key.rsplit('.', 1)[1]}")
               for a in chain)
