"""Money on every decision (riskml.scoring.money): expected loss net of credit insurance, margin at risk and
segment rates, on hand-computed rows; the adverse-action notice by country (riskml.scoring.policy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskml.config import (
    InsurancePolicy,
    LimitPolicy,
    MoneyPolicy,
    NoticePolicy,
    ScoringConfig,
    SegmentOverride,
)
from riskml.scoring.money import (
    cents,
    expected_loss,
    exposure_at_default,
    insured_cover,
    margin_at_risk,
    segment_rates,
)
from riskml.scoring.policy import adverse_action_notice, apply_policy
from tests.scoring.frames import rows


def test_expected_loss_net_of_insurance_worked_example() -> None:
    # PD 5%, exposure 40,000, suggested 50,000 -> EAD 50,000; insured up to 30,000 at 90%: cover 27,000;
    # EL = 0.05 x 0.6 x (50,000 - 27,000) = 690
    frame = rows({"insured_limit": 30_000.0, "insurance_days_left": 90.0})
    ead = exposure_at_default(np.array([40_000.0]), np.array([50_000.0]), np.array(["increase"]), MoneyPolicy())
    assert ead.tolist() == [50_000.0]
    cover = insured_cover(frame, ead, MoneyPolicy())
    assert cover.tolist() == [27_000.0]
    assert expected_loss(np.array([0.05]), np.array([0.6]), ead, cover).tolist() == [690.0]
    # a deductible of 5,000: 0.9 x (30,000 - 5,000) = 22,500
    ded = MoneyPolicy(insurance=InsurancePolicy(deductible=5_000.0))
    assert insured_cover(frame, ead, ded).tolist() == [22_500.0]


def test_insurance_lapses_when_expired_or_overdue_too_long() -> None:
    frame = rows({"insured_limit": 30_000.0, "insurance_days_left": -1.0},                       # expired
                 {"insured_limit": 30_000.0, "insurance_days_left": 10.0, "undisputed_oldest_dpd": 61.0},
                 {"insured_limit": 30_000.0, "insurance_days_left": np.nan, "undisputed_oldest_dpd": 60.0},
                 {})                                                                              # not insured
    cover = insured_cover(frame, np.full(4, 10_000.0), MoneyPolicy())
    assert cover.tolist() == [0.0, 0.0, 9_000.0, 0.0]


def test_revoke_and_collections_extend_no_new_credit() -> None:
    ead = exposure_at_default(np.array([40_000.0] * 3), np.array([0.0, 60_000.0, 60_000.0]),
                              np.array(["revoke", "collections", "increase"]), MoneyPolicy())
    assert ead.tolist() == [40_000.0, 40_000.0, 60_000.0]
    assert exposure_at_default(np.array([40_000.0]), np.array([60_000.0]), np.array(["increase"]),
                               MoneyPolicy(ead_basis="exposure")).tolist() == [40_000.0]


def test_margin_at_risk_worked_examples() -> None:
    # sales 20,000 a month, margin 20%, horizon 12 months
    action = np.array(["keep", "keep", "revoke", "decrease", "decrease", "keep"])
    hold = np.array(["soft", "hard", "hard", "none", "soft", "none"])
    current = np.array([50_000.0, 50_000.0, 50_000.0, 50_000.0, 50_000.0, 50_000.0])
    new = np.array([50_000.0, 50_000.0, 0.0, 30_000.0, 45_000.0, 50_000.0])
    need_ = np.full(6, 40_000.0)
    out = margin_at_risk(action, current, new, need_, hold, np.full(6, 20_000.0), np.full(6, 0.2), LimitPolicy(),
                         MoneyPolicy())
    # soft hold: 0.2 x 20,000 x 0.5 = 2,000; hard: x 2 = 8,000; revoke: x 12 = 48,000;
    # cut 50,000 -> 30,000 against a need of 40,000: 0.2 x 20,000 x 12 x (40,000 - 30,000) / 40,000 = 12,000;
    # cut to 45,000 still covers the need: only the soft hold's 2,000; nothing: 0
    assert out.tolist() == [2_000.0, 8_000.0, 48_000.0, 12_000.0, 2_000.0, 0.0]


def test_segment_rates_first_match_field_by_field() -> None:
    frame = pd.DataFrame({"industry": ["Construction", "retail", None], "country": ["DE", "IT", "IT"]})
    money = MoneyPolicy(segments=[SegmentOverride(industry="construction", lgd=0.8),
                                  SegmentOverride(country="it", min_monthly_sales=50_000, gross_margin=0.1),
                                  SegmentOverride(country="IT", lgd=0.5)])
    lgd, margin = segment_rates(frame, np.array([10_000.0, 60_000.0, 10_000.0]), LimitPolicy(), money)
    assert lgd.tolist() == [0.8, 0.5, 0.5] and margin.tolist() == [0.2, 0.1, 0.2]
    # no industry / country columns: only the sales bands can match
    lgd, _ = segment_rates(pd.DataFrame(index=range(2)), np.zeros(2), LimitPolicy(), money)
    assert lgd.tolist() == [0.6, 0.6]


def test_segment_lgd_moves_the_break_even_cap() -> None:
    # grade 9 (PD 25%), margin 3%: cap = 0.03 x 10,000 x 12 x 0.875 / (0.25 x LGD): 21,000 at LGD 60%,
    # 31,500 at LGD 40%
    frame = rows({"industry": "food"}, {"industry": "steel"})
    cfg = ScoringConfig(limits=LimitPolicy(gross_margin=0.03, grade_multiplier={"9": 3.0}, max_decrease_pct=1.0,
                                           max_increase_pct=10.0, grace_days=15, max_days_beyond_terms=15,
                                           need_includes_open_orders=False, cover_exposure_worst_grade=None,
                                           increase_min_utilisation=0.0, freeze_grade=None),
                        money=MoneyPolicy(segments=[SegmentOverride(industry="food", lgd=0.4)]))
    out = apply_policy(frame, np.array([0.25, 0.25]), cfg)
    assert out["suggested_limit"].tolist() == [31_000.0, 21_000.0]
    assert "x LGD 40%" in out["limit_rationale"].iloc[0]


def test_cents() -> None:
    assert cents(np.array([3787067.1500000004, 0.005001]))[0] == 3787067.15


def test_adverse_action_notice_only_where_it_applies() -> None:
    frame = pd.DataFrame({"country": ["US", "de", None, "US"]})
    action = np.array(["decrease", "revoke", "decrease", "increase"])
    hold = np.array([False, False, False, False])
    assert adverse_action_notice(frame, action, hold, NoticePolicy()).tolist() == [True, False, True, False]
    assert adverse_action_notice(frame, action, hold, NoticePolicy(unknown_country_applies=False,
                                                                   adverse_action_countries=["DE"])).tolist() == [
        False, True, False, False]
    # a hold is adverse too
    assert adverse_action_notice(frame, action, np.array([False, False, False, True]), NoticePolicy())[3]


def test_apply_policy_money_columns() -> None:
    # exposure 12,000: 80% of the limit, so the increase is made between reviews too
    out = apply_policy(rows({"insured_limit": 10_000.0, "insurance_days_left": 100.0, "exposure": 12_000.0}),
                       np.array([0.015]))
    r = out.iloc[0]
    # increase to 17,000 (test_limits' worked example): EAD 17,000, cover 9,000, EL 0.015 x 0.6 x 8,000 = 72
    assert r["suggested_limit"] == 17_000 and r["expected_loss"] == pytest.approx(72.0)
    assert r["margin_at_risk"] == 0.0 and r["approval_level"] == "analyst" and not r["adverse_action_notice"]
