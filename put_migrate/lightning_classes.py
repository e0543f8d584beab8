"""Find the Lightning classes of one module: LightningModule and Callback subclasses, through any import alias.

Only what the file itself imports is resolved (``import lightning.pytorch as pl``, ``import lightning as L``,
``from pytorch_lightning import LightningModule as LM``, ``from lightning.pytorch.callbacks import Callback``).
Lightning's demo modules (``lightning.pytorch.demos.BoringModel``, ``DemoModel``) count as LightningModules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

import libcst as cst

Kind = Literal["module", "callback"]

_PACKAGES = ("lightning.pytorch", "pytorch_lightning")
_MODULE_PATHS = ("LightningModule", "core.LightningModule", "core.module.LightningModule")
_CALLBACK_PATHS = ("Callback", "callbacks.Callback", "callbacks.callback.Callback")

BASES: dict[str, tuple[Kind, str]] = {}
for _package in _PACKAGES:
    for _path in _MODULE_PATHS:
        BASES[f"{_package}.{_path}"] = ("module", _package)
    for _path in _CALLBACK_PATHS:
        BASES[f"{_package}.{_path}"] = ("callback", _package)
# ``import lightning as L``: ``L.LightningModule`` and ``L.Callback`` are the lightning.pytorch classes.
BASES["lightning.LightningModule"] = ("module", "lightning.pytorch")
BASES["lightning.Callback"] = ("callback", "lightning.pytorch")

# Lightning's own demo LightningModules (``class M(BoringModel)``, the classic way to write a test or a repro).
# Their members (methods, then attributes set in ``__init__``; Lightning 2.x) are what the class inherits: a new
# aggregator attribute must not shadow them, and the attributes are known (not PM220).
_DEMO_MEMBERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "BoringModel": (
        frozenset({"forward", "loss", "step", "training_step", "validation_step", "test_step", "configure_optimizers",
                   "train_dataloader", "val_dataloader", "test_dataloader", "predict_dataloader"}),
        frozenset({"layer"}),
    ),
    "DemoModel": (frozenset({"forward", "training_step", "configure_optimizers"}), frozenset({"l1", "learning_rate"})),
}
DEMO_MEMBERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
for _package in _PACKAGES:
    for _name, _members in _DEMO_MEMBERS.items():
        for _path in (f"demos.{_name}", f"demos.boring_classes.{_name}"):
            BASES[f"{_package}.{_path}"] = ("module", _package)
            DEMO_MEMBERS[f"{_package}.{_path}"] = _members


def demo_members(bases) -> tuple[frozenset[str], frozenset[str]]:
    """(methods, attributes) that Lightning demo classes among ``bases`` (qualified names) bring."""
    found = [DEMO_MEMBERS[b] for b in bases if b in DEMO_MEMBERS]
    return frozenset().union(*(m for m, _ in found)), frozenset().union(*(a for _, a in found))


def dotted_name(node: cst.BaseExpression) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted_name(node.value)
        return None if head is None else f"{head}.{node.attr.value}"
    return None


@dataclass
class ImportMap:
    """Local name -> fully qualified name, for the module's top-level imports."""

    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, module: cst.Module) -> "ImportMap":
        result = cls()
        for statement in module.body:
            for small in _small_statements(statement):
                result._add(small)
        return result

    def _add(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted_name(alias.name)
                if full is None:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.names[alias.asname.name.value] = full
                else:  # ``import a.b`` binds ``a``
                    self.names[full.split(".")[0]] = full.split(".")[0]
        elif isinstance(node, cst.ImportFrom) and node.module is not None and not node.relative:
            module = dotted_name(node.module)
            if module is None or isinstance(node.names, cst.ImportStar):
                return
            for alias in node.names:
                imported = dotted_name(alias.name)
                local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else imported
                if imported and local:
                    self.names[local] = f"{module}.{imported}"

    def qualify(self, node: cst.BaseExpression) -> Optional[str]:
        """The qualified name an expression refers to, if its head is an imported name."""
        name = dotted_name(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head not in self.names:
            return None
        return self.names[head] + (f".{rest}" if rest else "")


def _small_statements(statement: cst.CSTNode) -> list[cst.CSTNode]:
    if isinstance(statement, cst.SimpleStatementLine):
        return list(statement.body)
    # Imports guarded by ``try``/``if`` (e.g. ``try: import lightning.pytorch as pl except ImportError: ...``).
    if isinstance(statement, (cst.Try, cst.If)):
        found: list[cst.CSTNode] = []
        for block in _blocks(statement):
            for inner in block.body:
                found.extend(_small_statements(inner))
        return found
    return []


def _blocks(node: cst.CSTNode) -> list[cst.IndentedBlock]:
    found: list[cst.IndentedBlock] = []
    for child in node.children:
        if isinstance(child, cst.IndentedBlock):
            found.append(child)
        elif not isinstance(child, cst.BaseStatement):
            found.extend(_blocks(child))
        elif isinstance(child, (cst.If,)):  # elif chains
            found.extend(_blocks(child))
    return found


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


@dataclass(frozen=True)
class LightningClass:
    node: cst.ClassDef = field(compare=False, repr=False)
    name: str
    kind: Kind
    package: str  # "lightning.pytorch" or "pytorch_lightning": where extract_batch_size comes from
    # Set when the class is a Lightning class through project classes (``class Child(Base)``).
    inherited: Optional[Inherited] = None
    # Members of a Lightning demo base (``BoringModel``) above it: (methods, attributes).
    demo: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())


def lightning_classes(module: cst.Module, imports: ImportMap, index=None, module_key: str = "") -> list[LightningClass]:
    """Top-level classes whose bases include a LightningModule or a Callback, directly or (with a
    ``RepositoryIndex``) through project classes of this or other files."""
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
                found.append(LightningClass(statement, statement.name.value, kind, package, demo=demo))
                break
        else:
            indexed = index.classes.get(f"{module_key}.{statement.name.value}") if index is not None else None
            resolved = index.lightning_kind(indexed) if indexed is not None else None
            if resolved is not None:
                ancestors = index.ancestors(indexed)
                inherited = Inherited(
                    methods=frozenset().union(*(a.methods for a in ancestors)),
                    metrics=tuple(m for a in ancestors for m in a.metrics),
                    metric_containers=frozenset().union(*(a.metric_containers for a in ancestors)),
                    assigned=frozenset().union(*(a.assigned for a in ancestors)),
                    put_mixin=any(a.has_put_mixin for a in ancestors),
                    logs=any(a.logs for a in ancestors),
                    same_file=frozenset(
                        a.key.rsplit(".", 1)[1] for a in ancestors if a.key.rsplit(".", 1)[0] == module_key
                    ),
                )
                demo = demo_members(b for a in [indexed, *ancestors] for b in a.bases)
                found.append(
                    LightningClass(statement, statement.name.value, resolved[0], resolved[1], inherited, demo=demo)
                )
    return found


def uses_torchmetrics(imports: ImportMap, callee: cst.BaseExpression) -> Optional[str]:
    """The qualified name of a torchmetrics callable (``torchmetrics.classification.Accuracy``), else None."""
    qualified = imports.qualify(callee)
    if qualified is not None and (qualified == "torchmetrics" or qualified.startswith("torchmetrics.")):
        return qualified
    return None
