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
    out = run(rows({"credit_limit": None}), [0.04], LimitPolicy(sales_basis=basis))  # grade 6: x1.0, set
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
    assert out["suggested_limit"].tolist()[:2] == [5_000.0, 25_000.0] and np.isnan(out["suggested_limit"].iloc[2])
    assert out["action"].tolist() == ["set", "set", "keep"]
    assert "thin file" in out["limit_rationale"].iloc[0]
    # the dormant established customer has nothing to size a limit on: none is suggested
    assert "nothing to size" in out["limit_rationale"].iloc[2] and "none suggested" in out["limit_rationale"].iloc[2]


def test_thin_file_sizing_never_cuts_an_existing_limit() -> None:
    # need 100,000 x (30 + 15) / 30 = 150,000 x1.1 (grade 5) = 165,000 -> thin-file maximum 25,000 < current 40,000
    frame = rows({"sales_avg_3m": 100_000.0, "credit_limit": 40_000.0},
                 {"sales_avg_3m": 100_000.0, "credit_limit": 40_000.0},
                 {"sales_avg_3m": 1_000.0, "sales_avg_12m": 1_000.0, "credit_limit": 22_000.0},  # still ramping up
                 {"sales_avg_3m": 10_000.0, "credit_limit": 10_000.0})
    out = run(frame, [0.03, 0.03, 0.004, 0.03], thin=np.array([True, False, True, True]))
    assert out["suggested_limit"].tolist() == [40_000, 165_000, 22_000, 17_000]
    assert out["action"].tolist() == ["keep", "increase", "keep", "increase"]
    assert "thin file: the current limit 40,000 is not cut on so little history: kept" in out["limit_rationale"].iloc[0]
    cut = run(frame.iloc[:1], [0.03], LimitPolicy(thin_file_cut_existing=True), thin=np.array([True]))
    assert cut["suggested_limit"].iloc[0] == 25_000 and cut["action"].iloc[0] == "decrease"
    # the worst grade is still revoked
    assert run(frame.iloc[:1], [0.5], thin=np.array([True]))["action"].iloc[0] == "revoke"


def test_unscored_rows_keep_their_limit() -> None:
    out = run(rows({}, {"credit_limit": None}), [np.nan, np.nan])
    assert out["suggested_limit"].iloc[0] == 15_000.0 and np.isnan(out["suggested_limit"].iloc[1])
    assert out["limit_change"].iloc[0] == 0 and np.isnan(out["limit_change"].iloc[1])
    assert out["action"].tolist() == ["keep", "keep"] and not out["revoked"].any()
    assert out["limit_rationale"].str.startswith("not scored").all()


def test_no_limit_on_file_is_set_not_increased() -> None:
    out = run(rows({"credit_limit": None}, {"credit_limit": None}, {"credit_limit": 0.0}), [0.04, 0.5, 0.04])
    assert np.isnan(out["current_limit"].iloc[0])
    assert out["suggested_limit"].iloc[0] == 15_000 and np.isnan(out["limit_change"].iloc[0])
    assert out["action"].iloc[0] == "set"
    assert "no limit on file (open terms without a ceiling): set 15,000" in out["limit_rationale"].iloc[0]
    # the worst grade is revoked whether or not a limit is on file
    assert out["action"].iloc[1] == "revoke" and out["suggested_limit"].iloc[1] == 0
    # a limit of 0 is a limit (cash in advance): a positive suggestion is an increase
    assert out["action"].iloc[2] == "increase" and out["limit_change"].iloc[2] == 15_000


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
    cur = out["current_limit"].to_numpy()
    act = out["action"].to_numpy()
    ch = out["limit_change"].to_numpy()
    assert set(act) <= set(ACTIONS)
    assert (np.nan_to_num(sugg, nan=0.0) >= 0).all()
    # no limit on file: nothing to change from; otherwise the change is suggested - current
    assert np.isnan(ch[np.isnan(cur)]).all()
    assert np.allclose(ch[~np.isnan(cur)], (sugg - cur)[~np.isnan(cur)])
    assert ((act == "set") <= np.isnan(cur)).all() and (sugg[act == "set"] > 0).all()
    assert (sugg[out["revoked"].to_numpy()] == 0).all()
    assert ((act == "increase") == ((ch > 0) & (act != "revoke"))).all()
    assert ((act == "decrease") == ((ch < 0) & (act != "revoke"))).all()
    # a changed limit is a multiple of the rounding step and within the thin-file bounds for thin files
    changed = (act == "increase") | (act == "decrease") | (act == "set")
    assert np.allclose(np.mod(sugg[changed], pol.round_to), 0.0)
    assert (sugg[changed & thin] <= np.maximum(pol.thin_file_max_limit, np.nan_to_num(cur[changed & thin]))).all()
