"""Metric discovery: the attributes of a class assigned a torchmetrics ``Metric`` or ``MetricCollection``."""

from __future__ import annotations

from dataclasses import replace

import libcst as cst

from put_migrate.analyze.literals import is_none, literal_str
from put_migrate.analyze.model import MetricInfo
from put_migrate.lightning_classes import ImportMap, dotted_name, uses_torchmetrics
from put_migrate.walk import visit


def _metric_call(node: cst.BaseExpression, imports: ImportMap) -> str | None:
    return uses_torchmetrics(imports, node.func) if isinstance(node, cst.Call) else None


def find_metrics(class_node: cst.ClassDef, imports: ImportMap) -> dict[str, MetricInfo]:
    """``self.x = torchmetrics.Something(...)`` anywhere in the class, and ``self.x = c.clone(prefix=...)`` of a
    MetricCollection ``c`` built in the same method (a local bound once) or held by ``self.y``."""
    metrics: dict[str, MetricInfo] = {}
    # Locals bound to a MetricCollection(...) call, per function; None once the name is bound more than once.
    local_collections: dict[int, dict[str, MetricInfo | None]] = {}
    clones: list[tuple[str, int, cst.BaseExpression, cst.Call]] = []  # (attr, id(function), collection, clone call)

    class Visitor(cst.CSTVisitor):
        def __init__(self) -> None:
            self.functions: list[int] = [0]

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            self.functions.append(id(node))

        def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
            self.functions.pop()

        def _bind(self, target: cst.BaseExpression, info: MetricInfo | None = None) -> None:
            if isinstance(target, cst.Name):
                bound = local_collections.setdefault(self.functions[-1], {})
                bound[target.value] = None if target.value in bound else info
            elif isinstance(target, (cst.Tuple, cst.List)):
                for element in target.elements:
                    self._bind(element.value)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            self._bind(node.target)

        def visit_For(self, node: cst.For) -> None:
            self._bind(node.target)

        def visit_Assign(self, node: cst.Assign) -> None:
            qualified = uses_torchmetrics(imports, node.value.func) if isinstance(node.value, cst.Call) else None
            if qualified is None and isinstance(node.value, cst.IfExp):
                # ``Accuracy(task=...) if new_torchmetrics else Accuracy()``: one Metric either way.
                arms = [_metric_call(arm, imports) for arm in (node.value.body, node.value.orelse)]
                if all(arm is not None and not arm.endswith("MetricCollection") for arm in arms):
                    target = node.targets[0].target if len(node.targets) == 1 else None
                    if isinstance(target, cst.Attribute) and dotted_name(target.value) == "self":
                        metrics[target.attr.value] = MetricInfo(target.attr.value)
            collection = qualified is not None and qualified.split(".")[-1] == "MetricCollection"
            local = None
            if collection and len(node.targets) == 1 and isinstance(node.value, cst.Call):
                local = collection_info("", node.value)
            for assign_target in node.targets:
                self._bind(assign_target.target, local)
            if len(node.targets) != 1 or not isinstance(node.value, cst.Call):
                return
            target = node.targets[0].target
            if not (isinstance(target, cst.Attribute) and dotted_name(target.value) == "self"):
                return
            attr = target.attr.value
            func = node.value.func
            if qualified is None:
                if isinstance(func, cst.Attribute) and func.attr.value == "clone":
                    clones.append((attr, self.functions[-1], func.value, node.value))
                return
            if not collection:
                metrics[attr] = MetricInfo(attr)
                return
            metrics[attr] = collection_info(attr, node.value)

    visit(class_node, Visitor())
    for attr, function, source, call in clones:
        base: MetricInfo | None = None
        if isinstance(source, cst.Name):
            base = local_collections.get(function, {}).get(source.value)
        elif isinstance(source, cst.Attribute) and dotted_name(source.value) == "self":
            base = metrics.get(source.attr.value)
        elif isinstance(source, cst.Call):
            qualified = uses_torchmetrics(imports, source.func)
            if qualified is not None and qualified.split(".")[-1] == "MetricCollection":
                base = collection_info(attr, source)
        if base is None or not base.collection:
            continue
        info = cloned_info(attr, base, call)
        if attr in metrics and metrics[attr] != info:  # cloned differently in two places: keys not known
            info = MetricInfo(attr, collection=True)
        metrics[attr] = info
    return metrics


def cloned_info(attr: str, base: MetricInfo, call: cst.Call) -> MetricInfo:
    """``MetricCollection.clone(prefix=None, postfix=None)``: a copy whose prefix/postfix are replaced when the
    argument is a non-empty string (torchmetrics ``collections.py``), else kept."""
    prefix, postfix = base.prefix, base.postfix
    for index, arg in enumerate(call.args):
        keyword = arg.keyword.value if arg.keyword is not None else ("prefix", "postfix", None)[min(index, 2)]
        text = literal_str(arg.value)
        if arg.star or keyword not in ("prefix", "postfix") or (text is None and not is_none(arg.value)):
            return MetricInfo(attr, collection=True)  # keys unknown: log_dict of it is PM215
        if text and keyword == "prefix":
            prefix = text
        elif text:
            postfix = text
    return replace(base, attr=attr, prefix=prefix, postfix=postfix)


def collection_info(attr: str, call: cst.Call) -> MetricInfo:
    """``MetricCollection(...)``: its keys when the metrics are a dict literal with literal keys, prefix, postfix."""
    keys: tuple[str, ...] | None = None
    prefix = postfix = ""
    literal = True
    for index, arg in enumerate(call.args):
        if arg.star:
            literal = False
        elif arg.keyword is None and index == 0 or (arg.keyword and arg.keyword.value == "metrics"):
            if isinstance(arg.value, cst.Dict):
                keys = tuple(literal_str(el.key) or "" for el in arg.value.elements if isinstance(el, cst.DictElement))
                if "" in keys or len(keys) != len(arg.value.elements):
                    keys = None
        elif arg.keyword and arg.keyword.value in ("prefix", "postfix"):
            text = literal_str(arg.value)
            if text is None and not is_none(arg.value):
                literal = False
            elif arg.keyword.value == "prefix":
                prefix = text or ""
            else:
                postfix = text or ""
        elif arg.keyword is None:  # further positional metrics: keys we cannot name
            keys = None
    return MetricInfo(attr, collection=True, keys=keys if literal else None, prefix=prefix, postfix=postfix)
