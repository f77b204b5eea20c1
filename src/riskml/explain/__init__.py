"""Stage 5: explanations. Reason codes from LightGBM's own contributions, in plain language."""

from riskml.explain.reasons import reason_codes

__all__ = ["reason_codes"]
