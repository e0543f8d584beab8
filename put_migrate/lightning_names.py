"""Lightning's base classes by dotted name, and the packages known to hold none (no libcst: the CLI's parent
process and the screens import this without loading the parser)."""

from __future__ import annotations

import sys
from typing import Literal

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


# Packages whose classes are never LightningModules or Callbacks.
KNOWN_ROOTS = frozenset(sys.stdlib_module_names) | frozenset(
    {"torch", "torchmetrics", "numpy", "np", "typing_extensions", "pydantic", "attr", "attrs", "lightning_fabric",
     "torchvision", "torchaudio", "transformers", "sklearn", "pandas", "scipy"}
)
_LIGHTNING_ROOTS = ("lightning", "pytorch_lightning")


def known_non_lightning(qualified: str) -> bool:
    """Whether ``qualified`` is a class of a package that holds no LightningModule or Callback put-migrate knows."""
    root = qualified.split(".")[0]
    if root in _LIGHTNING_ROOTS:
        # Lightning's other classes (LightningDataModule, ...) are known; its built-in callbacks (ModelCheckpoint,
        # EarlyStopping, ...) are Callbacks put-migrate does not recognise as such: reported.
        return ".callbacks." not in f".{qualified}." and not qualified.endswith("Callback")
    return root in KNOWN_ROOTS
