"""Which names a torchmetrics ``Metric`` was logged under since it was last reset, where its updates do not tell.

Lightning computes a Metric logged on epoch at the epoch end under each name a ``self.log(name, metric)`` call ran
for since the loop last reset its results, updated or not (torchmetrics then warns that ``compute`` ran before
``update`` and computes the default state), and not where the metric was only updated; with those results it resets
the Metric, once a log call of it has run in the loop. Migrated code marks the name where the log call was
(``mark_logged``), puts it in the compute hook where it is marked (``was_logged``) and resets the Metric and its
marks together (``reset_logged``). The marks are a plain attribute of the Metric object, outside its states: not
synced, not in its ``state_dict``.
"""

from __future__ import annotations

from typing import Any

_MARKS = "_put_migrate_logged"  # name -> logged since the last reset_logged (absent: never logged)


def _marks(metric: Any) -> dict[str, bool]:
    marks = getattr(metric, _MARKS, None)
    if marks is None:
        marks = {}
        object.__setattr__(metric, _MARKS, marks)  # not a state, not a submodule: nn.Module's bookkeeping skipped
    return marks


def mark_logged(metric: Any, name: str) -> None:
    """Where ``self.log(name, metric)`` was: ``metric`` is logged under ``name`` in this epoch."""
    _marks(metric)[name] = True


def was_logged(metric: Any, name: str) -> bool:
    """A log call of ``metric`` under ``name`` ran since its last ``reset_logged``."""
    return _marks(metric).get(name, False)


def reset_logged(metric: Any, *names: str) -> None:
    """Where Lightning resets the results of the loop that logs ``metric`` under ``names``: the Metric's states and
    those marks, once one of the names was logged (a Metric only updated so far keeps its states)."""
    marks = _marks(metric)
    if not any(name in marks for name in names):
        return
    metric.reset()
    marks.update(dict.fromkeys(names, False))
