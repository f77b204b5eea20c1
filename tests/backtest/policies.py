"""Extreme but real policies for the sanity tests: scoring-config overrides, no test-only code paths."""

from __future__ import annotations

from riskml.config import ScoringConfig

_SCALE = [g.model_dump(mode="json") for g in ScoringConfig().master_scale]

# nobody is held, cut or revoked: tolerances out of reach, a revoke grade no calibrated PD reaches, limits
# never lowered (hysteresis covers every change) and sized far above any need
HOLD_NOBODY = {
    "master_scale": [*_SCALE[:-2], {"grade": "9", "max_pd": 0.999999}, {"grade": "10", "max_pd": 1.0}],
    "actions": {"hold_past_due_days": 100_000, "hold_past_due_days_by_grade": {g["grade"]: 100_000 for g in _SCALE},
                "hold_over_limit_pct": 1_000_000.0,
                "hold_over_limit_pct_by_grade": {g["grade"]: 1_000_000.0 for g in _SCALE},
                "collections_past_due_days": 100_000},
    "limits": {"habitual_min_invoices": 1_000_000, "lgd": 1e-9, "min_change_pct": 1e9, "freeze_grade": None,
               "grade_multiplier": {g["grade"]: 1e6 for g in _SCALE}, "thin_file_max_limit": 1e15},
}
# everybody scored loses open terms: the revoke grade is the best grade, every persona may be revoked, and no
# customer is left to the collections track instead
REVOKE_ALL = {
    "actions": {"collections_past_due_days": 100_000},
    "limits": {"revoke_grade": "1", "revoke_inactive": True, "revoke_needs_evidence": False, "revocable_personas": [
        "thin_file", "distressed", "disorganised", "weak_late_payer", "strong_late_payer", "prompt_payer", "regular"]},
}
