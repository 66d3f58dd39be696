"""Evaluation's own tables over one session, handed to the evaluators as one value: trigger
states, and window aggregates with the stored readings they are rebuilt from. What composes
evaluation with other domains (`engine.ingest`) never names evaluation's repositories.
Built only by the wiring."""

from __future__ import annotations

from dataclasses import dataclass

from engine.evaluation.ports import AggregateStore
from engine.evaluation.repository import EvaluationRepository


@dataclass(frozen=True)
class EvaluationStores:
    triggers: EvaluationRepository
    windows: AggregateStore
