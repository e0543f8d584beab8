"""Find the Lightning classes of one module: LightningModule and Callback subclasses, through any import alias.

Only what the file itself imports is resolved (``import lightning.pytorch as pl``, ``import lightning as L``,
``from pytorch_lightning import LightningModule as LM``, ``from lightning.pytorch.callbacks import Callback``).
Lightning's demo modules (``lightning.pytorch.demos.BoringModel``, ``DemoModel``) count as LightningModules.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from typing import Any

import libcst as cst

from put_migrate import resolve
from put_migrate.lightning_names import BASES, DEMO_MEMBERS, Kind
from put_migrate.screen import python_tree

# LightningModule properties that are plain Python ints (``self.global_step`` is ``trainer.global_step``, 0 without a
# trainer): logged like any number (SELF_LOG_SEMANTICS.md §3.1), never a Metric, unless the class redefines them.
INT_PROPERTIES = frozenset({"global_step", "current_epoch", "global_rank", "local_rank"})


def demo_members(bases) -> tuple[frozenset[str], frozenset[str]]:
    """(methods, attributes) that Lightning demo classes among ``bases`` (qualified names) bring."""
    found = [DEMO_MEMBERS[b] for b in bases if b in DEMO_MEMBERS]
    return frozenset().union(*(m for m, _ in found)), frozenset().union(*(a for _, a in found))


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted_name(node.value)
        return None if head is None else f"{head}.{node.attr.value}"
    return None


@dataclass
class ImportMap:
    """Local name -> fully qualified name, for the module's top-level imports (``resolve.import_map``)."""

    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, module: cst.Module, text: str | None = None) -> ImportMap:
        """The imports of ``module``, parsed from ``text`` (its code where not given)."""
        return cls.from_tree(*readable_tree(module, text))

    @classmethod
    def from_tree(cls, tree: ast.Module, text: str) -> ImportMap:
        return cls(resolve.import_map(tree.body, text))

    def within(self, function: cst.FunctionDef) -> ImportMap:
        """These imports plus those of a function body (``def test_x():\n    import lightning as L``)."""
        if not isinstance(function.body, cst.IndentedBlock):
            return ImportMap(dict(self.names))
        tree, text = _statements_tree(function.body.body)
        return ImportMap(resolve.import_map(tree.body, text, self.names))

    def qualify(self, node: cst.BaseExpression) -> str | None:
        """The qualified name an expression refers to, if its head is an imported name."""
        return resolve.qualify(self.names, dotted_name(node))


def sub_blocks(node: cst.CSTNode) -> list[cst.IndentedBlock]:
    """The indented blocks directly under a compound statement (an ``if``'s ``elif``/``else`` ones too)."""
    found: list[cst.IndentedBlock] = []
    for child in node.children:
        if isinstance(child, cst.IndentedBlock):
            found.append(child)
        elif not isinstance(child, cst.BaseStatement):
            found.extend(sub_blocks(child))
        elif isinstance(child, (cst.If,)):  # elif chains
            found.extend(sub_blocks(child))
    return found


def readable_tree(module: cst.Module, text: str | None = None) -> tuple[ast.Module, str]:
    """``module``'s ``ast`` tree and the text it numbers lines of: ``text`` (the module's code where not given)
    parsed (the tree cached for the screens and positions), or, where Python cannot read it (syntax newer than the
    running Python), the statements that can hold imports and that it can read."""
    text = module.code if text is None else text
    tree = python_tree(text)
    return (tree, text) if tree is not None else _statements_tree(module.body)


_MAY_IMPORT = (cst.SimpleStatementLine, cst.Try, cst.If)


def _statements_tree(statements) -> tuple[ast.Module, str]:
    """The statements of a block that can hold imports (dedented), as text and its ``ast`` tree; where Python
    cannot read them all, those it can read one by one."""
    kept = [s for s in statements if isinstance(s, _MAY_IMPORT)]
    text = cst.Module(body=kept).code if kept else ""
    try:
        return ast.parse(text), text
    except Exception:  # noqa: BLE001 - SyntaxError, ValueError, RecursionError...
        pass
    readable = []
    for statement in kept:
        code = cst.Module(body=[statement]).code
        try:
            ast.parse(code)
        except Exception:  # noqa: BLE001
            continue
        readable.append(code)
    text = "".join(readable)
    return ast.parse(text), text


@dataclass(frozen=True)
class Inherited:
    """What the project classes above a class bring (from the repository index)."""

    methods: frozenset[str] = frozenset()
    metrics: tuple[tuple[str, bool], ...] = ()  # (attribute, is a MetricCollection)
    metric_containers: frozenset[str] = frozenset()
    assigned: frozenset[str] = frozenset()
    put_mixin: bool = False  # an ancestor already has PutMixin
    logs: bool = False  # an ancestor has log calls (it may get compute hooks when it is migrated)
    same_file: frozenset[str] = frozenset()  # names of the ancestors defined in the same file
    chain: tuple = ()  # the indexed ancestors themselves, nearest first (``index.IndexedClass``)
    bases: tuple[str, ...] = ()  # the class's own bases, as dotted names
    value_properties: frozenset[str] = frozenset()  # properties of the ancestors that return computed values

    @classmethod
    def of(cls, ancestors, module_key: str, bases: tuple[str, ...] = ()) -> Inherited:
        """What ``ancestors`` (indexed classes, nearest first) bring to a class of module ``module_key``."""
        return cls(
            methods=frozenset().union(*(a.methods for a in ancestors)),
            metrics=tuple(m for a in ancestors for m in a.metrics),
            metric_containers=frozenset().union(*(a.metric_containers for a in ancestors)),
            assigned=frozenset().union(*(a.assigned for a in ancestors)),
            put_mixin=any(a.has_put_mixin for a in ancestors),
            logs=any(a.logs for a in ancestors),
            same_file=frozenset(a.key.rsplit(".", 1)[1] for a in ancestors if a.key.rsplit(".", 1)[0] == module_key),
            chain=tuple(ancestors),
            bases=bases,
            value_properties=frozenset().union(*(a.value_properties for a in ancestors)),
        )


@dataclass(frozen=True)
class LightningClass:
    node: cst.ClassDef = field(compare=False, repr=False)
    name: str
    kind: Kind
    package: str  # "lightning.pytorch" or "pytorch_lightning": where extract_batch_size comes from
    # Set when the class is a Lightning class through project classes (``class Child(Base)``).
    inherited: Inherited | None = None
    # Members of a Lightning demo base (``BoringModel``) above it: (methods, attributes).
    demo: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
    # A class defined in a function body: the imports it sees (the module's, plus those of the enclosing
    # function bodies). None for a top-level class (the module's ``ImportMap`` applies).
    imports: ImportMap | None = field(default=None, compare=False, repr=False)
    # The repository index of the run, where there is one: which Callback hooks call a method of the class on their
    # module (``RepositoryIndex.callback_hooks``).
    project: Any = field(default=None, compare=False, repr=False)
    # The key of its module in ``project`` (the module's string constants are found there).
    module_key: str = field(default="", compare=False, repr=False)
    # Its key in the repository index (``module.Class``), for a top-level class of a run with one; else "".
    key: str = field(default="", compare=False)
    # A class defined in a function body: the functions around it, outermost first (what its methods close over).
    enclosing: tuple[cst.FunctionDef, ...] = field(default=(), compare=False, repr=False)

    @property
    def local(self) -> bool:
        return self.imports is not None


def lightning_classes(module: cst.Module, imports: ImportMap, index=None, module_key: str = "") -> list[LightningClass]:
    """Classes whose bases include a LightningModule or a Callback, directly or (with a ``RepositoryIndex``)
    through project classes of this or other files: the top-level ones, then those defined in function bodies."""
    found = top_level_classes(module, imports, index, module_key)
    found.extend(cls for cls, _ in local_classes(module, imports, index, module_key, found) if cls is not None)
    return found


def top_level_classes(module: cst.Module, imports: ImportMap, index=None, module_key: str = "") -> list[LightningClass]:
    """The top-level classes of ``module`` that derive from a Lightning base, directly or through the index."""
    found = []
    for statement in module.body:
        if not isinstance(statement, cst.ClassDef):
            continue
        for base in statement.bases:
            if base.keyword is not None:
                continue
            qualified = imports.qualify(base.value)
            if qualified in BASES:
                kind, package = BASES[qualified]
                demo = demo_members(
                    q for q in (imports.qualify(b.value) for b in statement.bases if b.keyword is None) if q
                )
                found.append(LightningClass(statement, statement.name.value, kind, package, demo=demo, project=index,
                                            module_key=module_key, key=_key(index, module_key, statement)))
                break
        else:
            indexed = index.classes.get(f"{module_key}.{statement.name.value}") if index is not None else None
            resolved = index.lightning_kind(indexed) if indexed is not None else None
            if resolved is not None:
                ancestors = index.ancestors(indexed)
                inherited = Inherited.of(ancestors, module_key, indexed.bases)
                demo = demo_members(b for a in [indexed, *ancestors] for b in a.bases)
                found.append(
                    LightningClass(statement, statement.name.value, resolved[0], resolved[1], inherited, demo=demo,
                                   project=index, module_key=module_key, key=indexed.key)
                )
    return found


def _key(index, module_key: str, statement: cst.ClassDef) -> str:
    key = f"{module_key}.{statement.name.value}"
    return key if index is not None and key in index.classes else ""


# ---------------------------------------------------------------------------------------------------------------
# Classes defined in a function body (``def test_x(tmp_path):\n    class TestModel(BoringModel): ...``)


def _inner_statements(node: cst.CSTNode) -> list[cst.BaseStatement]:
    """The statements of a compound statement's blocks (``if``/``elif``/``else``, ``try``, ``with``, ``for`` ...)."""
    found: list[cst.BaseStatement] = []
    for child in node.children:
        if isinstance(child, cst.IndentedBlock):
            found.extend(child.body)
        elif isinstance(child, cst.If):  # elif
            found.extend(_inner_statements(child))
        elif not isinstance(child, (cst.BaseStatement, cst.BaseExpression, cst.BaseSuite)) and child.children:
            found.extend(_inner_statements(child))  # else, except, finally, match cases
    return found


def _local_class(
    statement: cst.ClassDef, imports: ImportMap, index, module_key: str, local_names: set[str]
) -> LightningClass | None:
    """A class of a function body that derives from a Lightning base (through the imports it sees) or from a
    Lightning class of the repository index (a top-level class of this or another file)."""
    written = [b for b in statement.bases if b.keyword is None and not b.star]
    qualified = [imports.qualify(b.value) for b in written]
    for q in qualified:
        if q in BASES:
            kind, package = BASES[q]
            return LightningClass(statement, statement.name.value, kind, package,
                                  demo=demo_members(x for x in qualified if x), imports=imports)
    if index is None:
        return None
    for base, q in zip(written, qualified):
        name = dotted_name(base.value)
        if name is None or name.split(".")[0] in local_names:  # a class of a function body: not indexed
            continue
        indexed = index.find(q) if q is not None else index.classes.get(f"{module_key}.{name}")
        resolved = index.lightning_kind(indexed) if indexed is not None else None
        if resolved is None:
            continue
        ancestors = [indexed, *index.ancestors(indexed)]
        inherited = Inherited.of(ancestors, module_key, tuple(dict.fromkeys(
            indexed.key if b is base else q for b, q in zip(written, qualified) if b is base or q)))
        demo = demo_members([*(x for x in qualified if x), *(b for a in ancestors for b in a.bases)])
        return LightningClass(statement, statement.name.value, resolved[0], resolved[1], inherited, demo=demo,
                              imports=imports)
    return None


def local_classes(
    module: cst.Module, imports: ImportMap, index=None, module_key: str = "", top: list | None = None
) -> list[tuple[LightningClass | None, tuple[cst.ClassDef, ImportMap, frozenset[str]]]]:
    """Every class defined in a function body (at any depth of nesting; the functions may be methods of a class
    that is not a Lightning class), in source order: ``(LightningClass or None, (node, the imports it sees, the
    names of the classes of its enclosing function bodies))``. The bodies of Lightning classes are not entered:
    what a hook defines is the hook's (its log calls are reported with the class)."""
    if not any(_has_local_class(s, False) for s in module.body):
        return []
    found: list = []

    def walk(statements, scope_imports: ImportMap, in_function: bool, names: frozenset[str], lightning: set,
             functions: tuple[cst.FunctionDef, ...]) -> None:
        class_names = set(names)
        if in_function:
            class_names |= _class_names(statements)
        for statement in statements:
            if isinstance(statement, cst.FunctionDef):
                if isinstance(statement.body, cst.IndentedBlock):
                    walk(statement.body.body, scope_imports.within(statement), True,
                         frozenset(class_names), lightning, (*functions, statement))
            elif isinstance(statement, cst.ClassDef):
                if id(statement) in lightning:
                    continue
                if in_function:
                    cls = _local_class(statement, scope_imports, index, module_key, class_names)
                    if cls is not None:
                        cls = replace(cls, enclosing=functions)
                    found.append((cls, (statement, scope_imports, frozenset(class_names))))
                    if cls is not None:
                        continue
                if isinstance(statement.body, cst.IndentedBlock):
                    # A class body is no scope its methods see: they close over the functions around the class.
                    walk(statement.body.body, scope_imports, False, frozenset(class_names), lightning, functions)
            elif isinstance(statement, cst.BaseCompoundStatement):
                walk(_inner_statements(statement), scope_imports, in_function, names | class_names, lightning,
                     functions)

    if top is None:
        top = top_level_classes(module, imports, index, module_key)
    walk(list(module.body), imports, False, frozenset(), {id(c.node) for c in top}, ())
    return found


def _class_names(statements) -> set[str]:
    """The names of the class statements of a function body (in its compound statements too)."""
    found: set[str] = set()
    for statement in statements:
        if isinstance(statement, cst.ClassDef):
            found.add(statement.name.value)
        elif isinstance(statement, cst.BaseCompoundStatement) and not isinstance(statement, cst.FunctionDef):
            found |= _class_names(_inner_statements(statement))
    return found


def _has_local_class(statement: cst.CSTNode, in_function: bool) -> bool:
    """Whether a class statement sits in a function body below ``statement`` (a cheap pre-check)."""
    if isinstance(statement, cst.ClassDef):
        if in_function:
            return True
        inner = statement.body.body if isinstance(statement.body, cst.IndentedBlock) else ()
    elif isinstance(statement, cst.FunctionDef):
        in_function = True
        inner = statement.body.body if isinstance(statement.body, cst.IndentedBlock) else ()
    elif isinstance(statement, cst.BaseCompoundStatement):
        inner = _inner_statements(statement)
    else:
        return False
    return any(_has_local_class(s, in_function) for s in inner)


def uses_torchmetrics(imports: ImportMap, callee: cst.BaseExpression) -> str | None:
    """The qualified name of a torchmetrics callable (``torchmetrics.classification.Accuracy``), else None."""
    qualified = imports.qualify(callee)
    if qualified is not None and (qualified == "torchmetrics" or qualified.startswith("torchmetrics.")):
        return qualified
    return None
