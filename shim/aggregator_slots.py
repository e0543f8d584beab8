"""Class-level slots that find a module's aggregators without ``nn.Module.__getattr__``.

torch keeps submodules out of the instance ``__dict__``, so ``self.train_loss`` first fails the ordinary look-up,
which in Python 3.11 builds an ``AttributeError``, and only then reaches ``nn.Module.__getattr__``: about 9 k
instructions, paid at every ``self.<aggregator>.update(...)`` of a training step. A non-data descriptor of that
name on the class is found by the ordinary look-up instead. It changes no instance look-up: an instance
``__dict__`` entry of that name still comes first (a non-data descriptor yields to it), and the slot returns a
submodule only where ``nn.Module.__getattr__`` would return that same submodule; everywhere else it raises
``AttributeError``, so Python goes on exactly as before (to the class's own ``__getattr__``). Slots are added only
for names no class in the hierarchy defines, and only to classes that keep ``nn.Module``'s ``__getattr__`` and
the standard ``__getattribute__``. Visible difference: the class ``__dict__`` (``vars(cls)``,
``inspect.getattr_static``) holds the slots.
"""

from __future__ import annotations

from typing import Any

import torch

_MODULE_GETATTR = torch.nn.Module.__getattr__


class AggregatorSlot:
    """``self.<name>`` for a submodule ``name``: ``nn.Module.__getattr__``'s answer, without its failed look-up."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        name = self.name
        try:
            fields = obj.__dict__
            module = fields["_modules"][name]
        except (AttributeError, KeyError, TypeError):
            module = None  # no instance (a class look-up), or no submodule of that name
        # nn.Module.__getattr__ looks in _parameters and _buffers before _modules.
        if module is not None and type(obj).__getattr__ is _MODULE_GETATTR and name not in fields["_parameters"] \
                and name not in fields["_buffers"]:
            return module
        if obj is None:
            raise AttributeError(f"type object {getattr(owner, '__name__', '?')!r} has no attribute {name!r}")
        raise AttributeError(name)  # Python now calls the class's __getattr__, as without the slot

    def __reduce__(self) -> tuple[type, tuple[str]]:
        return AggregatorSlot, (self.name,)


def add_aggregator_slots(module: torch.nn.Module) -> None:
    """Give ``type(module)`` a slot for each of ``module``'s shim aggregators (``shim.metrics``) that lacks one."""
    from shim.metrics import _Aggregator, _LazyAggregators  # shim.metrics imports shim.put, which imports this

    cls = type(module)
    if cls.__getattr__ is not _MODULE_GETATTR or cls.__getattribute__ is not object.__getattribute__:
        return
    for name, submodule in module.__dict__.get("_modules", {}).items():
        if isinstance(submodule, (_Aggregator, _LazyAggregators)) and not any(name in k.__dict__ for k in cls.__mro__):
            setattr(cls, name, AggregatorSlot(name))
