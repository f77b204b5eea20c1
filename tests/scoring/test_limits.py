"""The limit policy: need, grade scaling, break-even cap, thin file, rounding, hysteresis and revoke,
checked on hand-computed rows, plus invariants over random inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskml.config import LimitPolicy, ScoringConfig
from riskml.scoring.grades import assign_grades
from riskml.scoring.limits import ACTIONS, break_even_cap, round_limit, suggest_limits
from tests.scoring.frames import rows

SCALE = ScoringConfig().master_scale


def run(frame, pds, policy=None, thin=None, scored=None, grades=None):
    policy = policy or LimitPolicy()
    pds = np.asarray(pds, dtype="float64")
    grades = assign_grades(pds, SCALE) if grades is None else np.asarray(grades, dtype=object)
    return suggest_limits(frame, pds, grades, policy, SCALE, thin, scored)


def test_worked_example_increase() -> None:
    # S = max(10,000, 8,000); need = 10,000 x (30 + 15) / 30 = 15,000; grade 4 (PD 1.5%) x1.2 = 18,000
    # cap = 0.2 x 10,000 x 12 x (1 - 0.0075) / (0.015 x 0.6) = 2,646,667: not binding
    out = run(rows({}), [0.015])
    r = out.iloc[0]
    assert r["suggested_limit"] == 18_000 and r["current_limit"] == 15_000
    assert r["limit_change"] == 3_000 and r["action"] == "increase" and not r["revoked"]
    assert "need 15,000" in r["limit_rationale"] and "x1.2 for grade 4 = 18,000" in r["limit_rationale"]
    assert "+20% vs current 15,000" in r["limit_rationale"]


@pytest.mark.parametrize(("basis", "need"), [("3m", 15_000), ("12m", 12_000), ("max", 15_000)])
def test_sales_basis(basis: str, need: float) -> None:
    out = run(rows({"credit_limit": None}), [0.04], LimitPolicy(sales_basis=basis))  # grade 6: x1.0
    assert out["suggested_limit"].iloc[0] == need


def test_break_even_cap_formula() -> None:
    pol = LimitPolicy(gross_margin=0.03)
    sales, need_ = np.array([10_000.0]), np.array([15_000.0])
    # margin = 0.03 x 10,000 x 12 x (1 - 0.125) = 3,150; loss rate 0.25 x 0.6 = 0.15 -> cap 21,000
    assert break_even_cap(np.array([0.25]), sales, need_, pol)[0] == pytest.approx(21_000)
    # 0.15 x 15,000 = 2,250 > margin 0.02 x 120,000 x 0.875 = 2,100: no limit pays -> 0
    assert break_even_cap(np.array([0.25]), sales, need_, LimitPolicy(gross_margin=0.02))[0] == 0.0
    assert np.isinf(break_even_cap(np.array([0.0]), sales, need_, pol)[0])


def test_cap_binds_and_is_explained() -> None:
    pol = LimitPolicy(gross_margin=0.03, grade_multiplier={"9": 3.0})
    out = run(rows({"credit_limit": 40_000.0}), [0.25], pol)
    r = out.iloc[0]
    assert r["suggested_limit"] == 21_000 and r["action"] == "decrease" and r["limit_change"] == -19_000
    assert "capped at break-even 21,000" in r["limit_rationale"]


def test_unprofitable_customer_is_revoked() -> None:
    out = run(rows({}), [0.25], LimitPolicy(gross_margin=0.02))
    r = out.iloc[0]
    assert r["action"] == "revoke" and r["suggested_limit"] == 0 and "pays for itself" in r["revoke_reason"]


def test_rounding_never_exceeds_cap() -> None:
    assert round_limit(np.array([14_499.0, 14_500.0, 300.0, 300.0]), np.array([np.inf, 14_900.0, np.inf, 800.0]),
                       1000.0).tolist() == [14_000.0, 14_000.0, 1_000.0, 0.0]


def test_hysteresis_keeps_small_changes() -> None:
    # suggested 15,000 (grade 6, x1.0) against current 14,000: +7% < 10% -> keep 14,000
    out = run(rows({"credit_limit": 14_000.0}), [0.04])
    r = out.iloc[0]
    assert r["suggested_limit"] == 14_000 and r["action"] == "keep" and r["limit_change"] == 0
    assert "below 10%" in r["limit_rationale"]
    # exactly 10% is a change
    out = run(rows({"credit_limit": 15_000.0 / 1.1}), [0.04], LimitPolicy(round_to=1.0))
    assert out["action"].iloc[0] == "increase"


def test_revoke_grade_and_habitual_debtor() -> None:
    frame = rows({}, {"late_paid_share_12m": 0.9, "dbt_avg_12m": 60.0},
                 {"late_paid_share_12m": 0.9, "dbt_avg_12m": 60.0, "paid_invoices_12m": 3.0})
    out = run(frame, [0.5, 0.01, 0.01])
    assert out["action"].tolist() == ["revoke", "revoke", "increase"]
    assert out["suggested_limit"].tolist()[:2] == [0.0, 0.0]
    assert out["limit_change"].iloc[0] == -15_000
    assert "revoke grade 10" in out["revoke_reason"].iloc[0]
    assert "habitual late payer (90% of invoices settled late, 60 days" in out["revoke_reason"].iloc[1]
    # too few invoices for the habitual rule: sized normally (grade 3: 15,000 x 1.3 = 19,500 -> 20,000)
    assert out["revoked"].tolist() == [True, True, False]


def test_thin_file_starter_and_maximum() -> None:
    frame = rows({"sales_avg_3m": 0.0, "sales_avg_12m": 0.0, "credit_limit": None},
                 {"sales_avg_3m": 100_000.0, "credit_limit": None},
                 {"sales_avg_3m": 0.0, "sales_avg_12m": 0.0, "credit_limit": None})
    thin = np.array([True, True, False])
    out = run(frame, [0.04, 0.04, 0.04], thin=thin)
    assert out["suggested_limit"].tolist() == [5_000.0, 25_000.0, 0.0]
    assert out["action"].tolist() == ["increase", "increase", "keep"]
    assert "thin file" in out["limit_rationale"].iloc[0]
    # the dormant established customer keeps its limit
    assert "nothing to size" in out["limit_rationale"].iloc[2]


def test_unscored_rows_keep_their_limit() -> None:
    out = run(rows({}, {"credit_limit": None}), [np.nan, np.nan])
    assert out["suggested_limit"].tolist() == [15_000.0, 0.0]
    assert out["action"].tolist() == ["keep", "keep"] and not out["revoked"].any()
    assert out["limit_rationale"].str.startswith("not scored").all()


def test_no_current_limit_counts_as_zero() -> None:
    out = run(rows({"credit_limit": None}), [0.04])
    assert np.isnan(out["current_limit"].iloc[0])
    assert out["limit_change"].iloc[0] == out["suggested_limit"].iloc[0] == 15_000
    assert out["action"].iloc[0] == "increase" and "no current limit" in out["limit_rationale"].iloc[0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 1.0), st.floats(0.0, 1e6), st.floats(0.0, 1e6), st.sampled_from([30.0, 45.0, 60.0]),
            st.one_of(st.none(), st.floats(0.0, 1e6)), st.booleans(),
        ),
        min_size=1, max_size=20,
    )
)
def test_invariants(data) -> None:
    frame = rows(*({"sales_avg_3m": s3, "sales_avg_12m": s12, "payment_terms_days": t, "credit_limit": c}
                   for _, s3, s12, t, c, _ in data))
    pds = np.array([d[0] for d in data])
    thin = np.array([d[5] for d in data])
    pol = LimitPolicy()
    out = run(frame, pds, pol, thin=thin)
    sugg = out["suggested_limit"].to_numpy()
    cur = np.nan_to_num(out["current_limit"].to_numpy(), nan=0.0)
    assert (sugg >= 0).all()
    assert np.allclose(out["limit_change"].to_numpy(), sugg - cur)
    assert set(out["action"]) <= set(ACTIONS)
    assert (sugg[out["revoked"].to_numpy()] == 0).all()
    act = out["action"].to_numpy()
    ch = out["limit_change"].to_numpy()
    assert ((act == "increase") == ((ch > 0) & (act != "revoke"))).all()
    assert ((act == "decrease") == ((ch < 0) & (act != "revoke"))).all()
    # a changed limit is a multiple of the rounding step and within the thin-file bounds for thin files
    changed = (act != "keep") & (act != "revoke")
    assert np.allclose(np.mod(sugg[changed], pol.round_to), 0.0)
    assert (sugg[changed & thin] <= pol.thin_file_max_limit).all()
