"""The MLflow side of ``riskml train``: assemble and fit (pure, :mod:`riskml.modeling.train`), then log the
run, register the version, apply the promotion gate and set its alias, write the model card and export.

The servable model (the MLflow pyfunc that returns PD, grade and reasons) is logged by ``log_model``, which
the caller supplies -- :func:`riskml.serving.pyfunc.log_pyfunc` for ``riskml train`` -- because it words
reasons and grades, which belong to the stages above modeling. Likewise ``segmenter`` (the collector
personas of the scoring stage) for the calibration per persona.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskml.config import ExtraAttribute, FeatureConfig, ScoringConfig, TrainConfig
from riskml.data.ledger import Ledger
from riskml.io import write_text
from riskml.modeling.card import model_card
from riskml.modeling.registry import close_stale, register_and_promote
from riskml.modeling.results import TrainOutcome
from riskml.modeling.tracking import ModelLogger, configure, log_card, log_decision, log_run
from riskml.modeling.train import Echo, Segmenter, _quiet, assemble, fit_and_evaluate, training_metadata


def run_training(ledger: Ledger, config: TrainConfig, feature_config: FeatureConfig | None = None,
                 extra: dict[str, ExtraAttribute] | None = None, labels: pd.DataFrame | None = None,
                 labels_source: str = "", out_model: Path | None = None,
                 scoring_config: ScoringConfig | None = None, echo: Echo = _quiet,
                 segmenter: Segmenter | None = None, segment_order: list[str] | None = None, *,
                 log_model: ModelLogger) -> TrainOutcome:
    """The whole ``riskml train``: assemble, fit, evaluate, log to MLflow (the servable model by
    ``log_model``), register, gate, export. ``segmenter`` (e.g. the collector personas) adds the
    calibration per segment to the card and the run."""
    feature_config = feature_config or FeatureConfig()
    extra = extra or {}
    data = assemble(ledger, config, feature_config, extra, labels, labels_source, echo)
    result = fit_and_evaluate(data, config, echo, segmenter, segment_order, scoring_config)
    result = result.with_metadata(training_metadata(result, ledger, config, feature_config, extra,
                                                    scoring_config or ScoringConfig()))
    uri = configure()
    fingerprint, counts = ledger.fingerprint(), ledger.row_counts()
    echo(f"logging to MLflow at {uri}")
    for note in close_stale(config.experiment, config.model_name):
        echo(f"warning: {note}")
    run_id, model_uri = log_run(result, config, fingerprint, counts, log_model)
    decision = register_and_promote(result, model_uri, config.model_name, config.promotion)
    log_decision(run_id, decision.as_dict())
    card = model_card(result, config, {
        "model_name": config.model_name, "model_version": decision.model_version, "run_id": run_id,
        "fingerprint": fingerprint, "row_counts": counts, "decision": decision.decision,
        "decision_reason": decision.reason,
    })
    log_card(run_id, card)
    exported = None
    if out_model is not None:
        model = result.model.with_metadata(model_version=decision.model_version, run_id=run_id)
        exported = Path(out_model) / f"{config.model_name}-v{decision.model_version}"
        model.save(exported)
        write_text(card, exported / "model_card.md")
    return TrainOutcome(result, run_id, model_uri, uri, decision, card, exported)
