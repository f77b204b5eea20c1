"""Stage 5: explanations. Per-feature contributions (exact TreeSHAP: riskml's fast decision-pattern
explainer or LightGBM's ``pred_contrib``, :mod:`riskml.explain.explainer`) and reason codes in plain language."""

from riskml.explain.reasons import reason_codes

__all__ = ["reason_codes"]
