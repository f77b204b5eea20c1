"""The promotion gate, pure: a new version becomes ``champion`` only if it passes the absolute thresholds
(``promotion.min_auc``, ``promotion.max_brier``) and does not trail the current champion, re-scored on
this run's test window, by more than ``promotion.auc_tolerance``. :mod:`riskml.modeling.registry` applies
the :class:`Decision` to the MLflow registry (aliases and tags)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from riskml.config import PromotionConfig

CHAMPION = "champion"
CHALLENGER = "challenger"


@dataclass(frozen=True)
class Decision:
    """The gate's verdict on one version (``model_version`` is set once the version is registered)."""

    promote: bool
    reason: str
    test_auc: float
    test_brier: float
    champion_version: str | None = None
    champion_auc: float | None = None
    model_version: str | None = None

    @property
    def decision(self) -> str:
        return CHAMPION if self.promote else CHALLENGER

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "decision": self.decision}


def decide(test_auc: float, test_brier: float, config: PromotionConfig, champion_version: str | None = None,
           champion_auc: float | None = None, note: str = "") -> Decision:
    """Apply the gate: absolute thresholds, then no worse than the champion on the same test window."""
    fails = []
    if test_auc < config.min_auc:
        fails.append(f"test AUC {test_auc:.4f} is below promotion.min_auc {config.min_auc}")
    if test_brier > config.max_brier:
        fails.append(f"test Brier {test_brier:.4f} is above promotion.max_brier {config.max_brier}")
    if champion_auc is not None and test_auc < champion_auc - config.auc_tolerance:
        fails.append(f"test AUC {test_auc:.4f} is worse than the champion (version {champion_version}) "
                     f"re-scored on the same test window: {champion_auc:.4f} (tolerance {config.auc_tolerance})")
    if champion_version is not None and champion_auc is None:
        # not comparable is not "not worse": a human decides (set the alias by hand to promote anyway)
        fails.append(f"the champion (version {champion_version}) could not be re-scored on this test window, "
                     "so the new version cannot be shown not to be worse (to promote it anyway, set the alias "
                     "by hand: docs/model.md, promotion gate)")
    if fails:
        reason = "stays challenger: " + "; ".join(fails)
    else:
        vs = ("no champion yet" if champion_version is None else
              f"AUC {test_auc:.4f} vs champion version {champion_version} at {champion_auc:.4f} on the same "
              "test window")
        reason = (f"promoted: test AUC {test_auc:.4f} >= {config.min_auc}, Brier {test_brier:.4f} <= "
                  f"{config.max_brier}; {vs}")
    if note:
        reason += f" ({note})"
    return Decision(not fails, reason, test_auc, test_brier, champion_version, champion_auc)
