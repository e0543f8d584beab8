"""Decide, as data, how one Lightning class is migrated: a ``MigrationPlan`` built from its ``LogCall`` records.

The plan holds generated statements as source text (rendered by ``render.py``), keyed by the statement they replace,
plus the scaffolding: aggregator attributes for ``__init__``, compute-hook bodies, Metric resets, imports, bases.
A call that cannot be migrated with certainty gets a ``Finding`` and is left exactly as it was.
See docs/design/generated-code.md (the contract) and docs/argument-mapping.md.

Modules: ``model`` (the plan), ``planner`` (attempts, findings), ``state`` (one attempt's build state), ``dispatch``
(one statement, its variants), ``tensor``/``mapping``/``metrics`` (one handler per kind of value), ``aggregators``
(epoch values), ``sync`` (packed reductions), ``batch_size``, ``scaffold`` (``__init__``, hooks, resets),
``statements`` (generated statements as records, then text), ``names`` (free names), ``syntax`` (tree queries).
"""

from put_migrate.plan.model import Aggregator, MigrationPlan
from put_migrate.plan.names import identifier
from put_migrate.plan.planner import plan_class
from put_migrate.plan.syntax import super_init_index

__all__ = ["Aggregator", "MigrationPlan", "identifier", "plan_class", "super_init_index"]
