"""The limit policy: need, grade scaling, break-even cap, thin file, rounding, hysteresis and revoke,
checked on hand-computed rows, plus invariants over random inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskml.config import LimitPolicy, ScoringConfig
from riskml.scoring.grades import assign_grades
from riskml.scoring.limits import ACTIONS, break_even_cap, round_limit, suggest_limits
from tests.scoring.frames import rows

SCALE = ScoringConfig().master_scale


# the policy of the worked examples below that predate the customer's own days beyond terms: a fixed 15 days
# beyond terms, no open orders in the need; and that predate the money test of a decrease and the grade cuts start
# at (every cut made)
FIXED = {"grace_days": 15, "max_days_beyond_terms": 15, "need_includes_open_orders": False,
         "min_decrease_expected_loss": 0.0, "decrease_pays_margin": False, "decrease_from_grade": None}


def run(frame, pds, policy=None, thin=None, scored=None, grades=None, **kw):
    policy = policy or LimitPolicy(**FIXED)
    pds = np.asarray(pds, dtype="float64")
    grades = assign_grades(pds, SCALE) if grades is None else np.asarray(grades, dtype=object)
    return suggest_limits(frame, pds, grades, policy, SCALE, thin, scored, **kw)


def test_worked_example_increase() -> None:
    # S = max(10,000, 8,000); the customer pays 2 days beyond terms, below the 10-day minimum: need =
    # 10,000 x (30 + 10) / 30 + open orders 1,000 = 14,333; grade 4 (PD 1.5%) x1.2 = 17,200 -> 17,000
    # cap = 0.2 x 10,000 x 12 x (1 - 0.0075) / (0.015 x 0.6) = 2,646,667: not binding
    out = run(rows({}), [0.015], LimitPolicy())
    r = out.iloc[0]
    assert r["suggested_limit"] == 17_000 and r["current_limit"] == 15_000
    assert r["limit_change"] == 2_000 and r["action"] == "increase" and not r["revoked"]
    assert r["need"] == pytest.approx(14_333.33, abs=0.01)
    assert "need 14,333 = sales 10,000/month x (30 + 10 typical days beyond terms) / 30" in r["limit_rationale"]
    assert "x1.2 for grade 4 = 17,200" in r["limit_rationale"] and "+13% vs current 15,000" in r["limit_rationale"]


def test_need_follows_how_the_customer_pays() -> None:
    # 12-month DBT 32 days: need = 10,000 x (30 + 32) / 30 = 20,667 (+ orders 1,000 = 21,667); 60 days is
    # capped at 45: 10,000 x 75 / 30 + 1,000 = 26,000; no 12-month DBT: the 6-month one (20 days)
    frame = rows({"dbt_avg_12m": 32.0}, {"dbt_avg_12m": 60.0}, {"dbt_avg_12m": np.nan, "dbt_avg_6m": 20.0},
                 {"dbt_avg_12m": np.nan, "dbt_avg_6m": np.nan})
    out = run(frame, [0.04] * 4, LimitPolicy())
    assert out["need"].round(0).tolist() == [21_667, 26_000, 17_667, 14_333]


@pytest.mark.parametrize(("basis", "need"), [("3m", 15_000), ("12m", 12_000), ("max", 15_000)])
def test_sales_basis(basis: str, need: float) -> None:
    out = run(rows({"credit_limit": None}), [0.04], LimitPolicy(**FIXED, sales_basis=basis))  # grade 6: x1.0, set
    assert out["suggested_limit"].iloc[0] == need


def test_step_caps_per_cycle() -> None:
    # sized 45,000 (S 30,000 x 45 / 30, grade 6) against 20,000: at most +50% -> 30,000; sized 15,000
    # against 40,000 (exposure 10,000 below it): at most -25% -> 30,000
    frame = rows({"sales_avg_3m": 30_000.0, "credit_limit": 20_000.0}, {"credit_limit": 40_000.0})
    out = run(frame, [0.04, 0.04])
    assert out["suggested_limit"].tolist() == [30_000.0, 30_000.0]
    assert out["action"].tolist() == ["increase", "decrease"]
    assert "step cap +50% per cycle (sized 45,000)" in out["limit_rationale"].iloc[0]
    assert "step cap -25% per cycle (sized 15,000)" in out["limit_rationale"].iloc[1]
    wide = run(frame, [0.04, 0.04], LimitPolicy(**FIXED, max_increase_pct=10.0, max_decrease_pct=1.0))
    assert wide["suggested_limit"].tolist() == [45_000.0, 15_000.0]


def test_acceptable_grades_are_not_cut_below_exposure_or_need() -> None:
    # grade 7 (PD 8%, x0.8): sized 15,000 x 0.8 = 12,000, step cap -25% of 18,000 -> 13,500 -> 14,000; exposure
    # 14,200, need 15,000 -> at least 14,200 -> 15,000 (rounded up); grade 8 (PD 12%) is not protected: 9,000 ->
    # step cap 14,000
    frame = rows({"credit_limit": 18_000.0, "exposure": 14_200.0}, {"credit_limit": 18_000.0, "exposure": 14_200.0},
                 {"credit_limit": 18_000.0, "exposure": 14_200.0})
    # ... unless it is a strong late payer: its limit follows how it pays, whatever the grade
    persona = np.array(["regular", "regular", "strong_late_payer"], dtype=object)
    out = run(frame, [0.08, 0.12, 0.12], persona=persona)
    assert out["suggested_limit"].tolist() == [15_000.0, 14_000.0, 15_000.0]
    assert "not below the lower of exposure 14,200 and need 15,000: 15,000" in out["limit_rationale"].iloc[0]


def test_over_the_limit_and_paying_gets_a_limit_that_covers_the_exposure() -> None:
    # grade 8 (PD 12%): sized 9,000; exposure 31,500 over the 15,000 limit, nothing past due, within the
    # break-even cap -> 32,000 (approving it releases the orders); past due 40 days -> sized and cut (step cap
    # 12,000); a grade-4 customer past due 40 days keeps its limit instead of the sized increase
    frame = rows({"exposure": 31_500.0}, {"exposure": 31_500.0, "undisputed_oldest_dpd": 40.0},
                 {"sales_avg_3m": 30_000.0, "undisputed_oldest_dpd": 40.0})
    out = run(frame, [0.12, 0.12, 0.015])
    assert out["suggested_limit"].tolist() == [32_000.0, 12_000.0, 15_000.0]
    assert out["action"].tolist() == ["increase", "decrease", "keep"]
    assert "covers the exposure 31,500 (32,000, within the break-even cap)" in out["limit_rationale"].iloc[0]
    assert "no increase while undisputed invoices are 40 days past due (policy 30): kept" in (
        out["limit_rationale"].iloc[2])


def test_strong_late_payers_are_never_revoked_and_collections_are_not_decided_by_the_model() -> None:
    habitual = {"late_paid_share_12m": 0.9, "dbt_avg_12m": 60.0}
    frame = rows(habitual, habitual, habitual, {})
    persona = np.array(["strong_late_payer", "weak_late_payer", "disorganised", "regular"], dtype=object)
    coll = np.array([False, False, False, True])
    out = run(frame, [0.01, 0.01, 0.01, 0.5], persona=persona, collections=coll)
    # habitual lateness revokes the weak late payer only; the others are sized (grade 3: 15,000 x 1.3 -> 20,000)
    assert out["action"].tolist()[:3] == ["increase", "revoke", "increase"]
    assert "habitual late payer" in out["revoke_reason"].iloc[1]
    # the collections track keeps the limit; grade 10 is not revoked by the model there
    assert out["action"].iloc[3] == "collections" and out["suggested_limit"].iloc[3] == 15_000
    assert out["limit_change"].iloc[3] == 0 and out["limit_rationale"].iloc[3].startswith("collections track")


def test_break_even_cap_formula() -> None:
    pol = LimitPolicy(gross_margin=0.03)
    sales, need_ = np.array([10_000.0]), np.array([15_000.0])
    # margin = 0.03 x 10,000 x 12 x (1 - 0.125) = 3,150; loss rate 0.25 x 0.6 = 0.15 -> cap 21,000
    assert break_even_cap(np.array([0.25]), sales, need_, pol)[0] == pytest.approx(21_000)
    # 0.15 x 15,000 = 2,250 > margin 0.02 x 120,000 x 0.875 = 2,100: no limit pays -> 0
    assert break_even_cap(np.array([0.25]), sales, need_, LimitPolicy(gross_margin=0.02))[0] == 0.0
    assert np.isinf(break_even_cap(np.array([0.0]), sales, need_, pol)[0])


def test_cap_binds_and_is_explained() -> None:
    pol = LimitPolicy(**FIXED, gross_margin=0.03, grade_multiplier={"9": 3.0}, max_decrease_pct=1.0)
    out = run(rows({"credit_limit": 40_000.0}), [0.25], pol)
    r = out.iloc[0]
    assert r["suggested_limit"] == 21_000 and r["action"] == "decrease" and r["limit_change"] == -19_000
    assert "capped at break-even 21,000" in r["limit_rationale"]


def test_unprofitable_customer_is_revoked() -> None:
    out = run(rows({}), [0.25], LimitPolicy(**FIXED, gross_margin=0.02))
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
    out = run(rows({"credit_limit": 15_000.0 / 1.1}), [0.04], LimitPolicy(**FIXED, round_to=1.0))
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
    # (the established customer is stepped up +50% to 60,000, the thin one with 10,000 to 15,000)
    assert out["suggested_limit"].tolist() == [40_000, 60_000, 22_000, 15_000]
    assert out["action"].tolist() == ["keep", "increase", "keep", "increase"]
    assert "thin file: the current limit 40,000 is not cut on so little history: kept" in out["limit_rationale"].iloc[0]
    cut = run(frame.iloc[:1], [0.03], LimitPolicy(**FIXED, thin_file_cut_existing=True, max_decrease_pct=1.0),
              thin=np.array([True]))
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
    pol = LimitPolicy(**FIXED)
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


def test_docs_worked_example() -> None:
    # docs/scoring.md "Suggested limit": need 20,000 x (60 + 20) / 30 + 5,000 = 58,333
    base = {"sales_avg_3m": 20_000.0, "sales_avg_12m": 16_000.0, "payment_terms_days": 60.0, "dbt_avg_12m": 20.0,
            "open_orders_amount": 5_000.0, "credit_limit": 40_000.0, "exposure": 47_000.0}
    frame = rows(base, {**base, "undisputed_oldest_dpd": 40.0}, base)
    out = run(frame, [0.12, 0.12, 0.012], LimitPolicy())
    assert out["need"].round(2).tolist() == [58_333.33] * 3
    # the second customer (40 days past due: no increase) is sized 58,333 x 0.6 = 35,000 for grade 8, but the cut
    # of 5,000 removes an expected loss of only 0.12 x 0.6 x 5,000 = 360, below the margin it puts at risk,
    # 0.2 x 20,000 x 12 x 5,000 / 58,333 = 4,114: kept at 40,000
    assert out["suggested_limit"].tolist() == [47_000.0, 40_000.0, 60_000.0]
    assert out["action"].tolist() == ["increase", "keep", "increase"]
    assert "covers the exposure 47,000 (47,000, within the break-even cap)" in out["limit_rationale"].iloc[0]
    assert "expected loss of only 360, less than the margin it puts at risk (4,114): kept" in out["limit_rationale"].iloc[1]


def test_an_inactive_account_is_not_revoked_until_it_orders_again() -> None:
    """No sales over the basis and nothing open: a grade-10 customer keeps its terms (nothing to take away); the
    same customer with an order open (the order-time check adds it to the exposure) is revoked."""
    import numpy as np
    import pandas as pd

    from riskml.config import LimitPolicy, ScoringConfig
    from riskml.scoring.limits import suggest_limits

    row = {"sales_avg_3m": 0.0, "sales_avg_12m": 0.0, "payment_terms_days": 30.0, "credit_limit": 20_000.0,
           "late_paid_share_12m": np.nan, "dbt_avg_6m": np.nan, "dbt_avg_12m": np.nan, "paid_invoices_12m": 0.0,
           "exposure": 0.0, "open_orders_amount": 0.0, "undisputed_oldest_dpd": 0.0}
    frame = pd.DataFrame([row, {**row, "exposure": 5_000.0, "open_orders_amount": 5_000.0}])
    scale = ScoringConfig().master_scale
    grades = np.array(["10", "10"], dtype=object)
    out = suggest_limits(frame, np.array([0.5, 0.5]), grades, LimitPolicy(), scale)
    assert out["action"].tolist() == ["keep", "revoke"]
    assert "decided when it orders again" in out["limit_rationale"].iloc[0]
    both = suggest_limits(frame, np.array([0.5, 0.5]), grades, LimitPolicy(revoke_inactive=True), scale)
    assert both["action"].tolist() == ["revoke", "revoke"]


# ---------------------------------------------------------------------------------------------------------------
# money and evidence behind a restriction (issue 11): worked examples on the base row (S 10,000, terms 30, 10 days
# beyond terms, open orders 1,000: need 14,333), default LimitPolicy unless said otherwise

EVIDENCE = {"dbt_shift_12m": 3.0, "dbt_shift_24m": 2.0, "dbt_volatility_12m": 10.0, "paid_in_full_share_12m": 0.7}


def test_a_revoke_by_grade_needs_deterioration_in_the_ledger() -> None:
    # three grade-10 distressed customers (PD 50%): shift 3 days (no deterioration), shift 18 days (deteriorating:
    # revoke_min_dbt_shift_days 15), shift 18 days but a steady full payer (volatility 5, 88% paid in full): only the
    # second is revoked
    frame = rows(EVIDENCE, {**EVIDENCE, "dbt_shift_12m": 18.0},
                 {**EVIDENCE, "dbt_shift_12m": 18.0, "dbt_volatility_12m": 5.0, "paid_in_full_share_12m": 0.88})
    out = run(frame, [0.5] * 3, LimitPolicy(), persona=np.array(["distressed"] * 3, dtype=object))
    assert out["action"].tolist() == ["keep", "revoke", "keep"]
    # the spared ones are sized: grade 10 (x0) -> 0, step cap -25% -> 12,000; the cut of 3,000 removes an expected
    # loss of 0.5 x 0.6 x 3,000 = 900 but puts at risk the margin 0.2 x 10,000 x 12 x (14,333 - 12,000) / 14,333
    # = 3,907 on sales the need still covers: kept at 15,000
    assert out["suggested_limit"].tolist() == [15_000.0, 0.0, 15_000.0]
    assert "not revoked: the ledger shows no deterioration" in out["limit_rationale"].iloc[0]
    assert "expected loss of only 900, less than the margin it puts at risk (3,907): kept" in out["limit_rationale"].iloc[0]
    # the same rows without the money test of a decrease: cut to 12,000, still not revoked
    free = run(frame, [0.5] * 3, LimitPolicy(decrease_pays_margin=False), persona=np.array(["distressed"] * 3, dtype=object))
    assert free["suggested_limit"].tolist() == [12_000.0, 0.0, 12_000.0]


def test_a_habitual_debtor_who_pays_steadily_in_full_is_not_revoked() -> None:
    habit = {"late_paid_share_12m": 0.95, "dbt_avg_12m": 47.0, "dbt_shift_12m": 18.0}
    frame = rows({**EVIDENCE, **habit}, {**EVIDENCE, **habit, "dbt_volatility_12m": 4.0, "paid_in_full_share_12m": 0.94})
    out = run(frame, [0.09, 0.09], LimitPolicy(), persona=np.array(["weak_late_payer"] * 2, dtype=object))
    assert out["action"].iloc[0] == "revoke" and "habitual late payer" in out["limit_rationale"].iloc[0]
    assert out["action"].iloc[1] != "revoke"


def test_without_evidence_columns_revokes_stand_on_grade_and_habit() -> None:
    from riskml.scoring.limits import revoke_evidence

    assert revoke_evidence(rows({}, {}), LimitPolicy()).tolist() == [True, True]
    assert run(rows({}), [0.5], LimitPolicy())["action"].iloc[0] == "revoke"


def test_a_decrease_must_remove_enough_expected_loss() -> None:
    # current 40,000, exposure 10,000: sized 14,000 (grade 6) or 11,000 (grade 7, x0.8), step cap -25% -> 30,000;
    # the cut of 10,000 is above the need (no margin at risk). With min_decrease_expected_loss 500 (the default is
    # 0: docs/scoring.md has the sweep): grade 6, PD 5%: 0.05 x 0.6 x 10,000 = 300 < 500: kept. Grade 7, PD 9%:
    # 540 >= 500: cut to 30,000.
    frame = rows({"credit_limit": 40_000.0}, {"credit_limit": 40_000.0})
    out = run(frame, [0.05, 0.09], LimitPolicy(min_decrease_expected_loss=500.0))
    assert out["suggested_limit"].tolist() == [40_000.0, 30_000.0]
    assert out["action"].tolist() == ["keep", "decrease"]
    assert "expected loss of only 300 (PD x LGD x cut; policy 500): kept" in out["limit_rationale"].iloc[0]
    assert run(frame.iloc[:1], [0.05], LimitPolicy(min_decrease_expected_loss=250.0))["suggested_limit"].iloc[0] == 30_000


def test_a_cut_below_the_need_must_pay_for_the_margin_it_puts_at_risk() -> None:
    # S 100,000 (3m; 12m 80,000), orders 10,000: need 100,000 x 40 / 30 + 10,000 = 143,333; grade 8 (PD 15%) x0.6 =
    # 86,000; current 150,000, step cap -25% -> 113,000 (112,500 rounded up). The cut of 37,000 removes
    # 0.15 x 0.6 x 37,000 = 3,330 of expected loss but the need it no longer covers, 143,333 - 113,000 = 30,333,
    # carries 0.2 x 100,000 x 12 x 30,333 / 143,333 = 50,791 of margin: kept. Without that test: cut.
    big = {"sales_avg_3m": 100_000.0, "sales_avg_12m": 80_000.0, "open_orders_amount": 10_000.0,
           "credit_limit": 150_000.0, "exposure": 100_000.0}
    assert run(rows(big), [0.15], LimitPolicy())["action"].iloc[0] == "keep"
    out = run(rows(big), [0.15], LimitPolicy(decrease_pays_margin=False))
    assert out["suggested_limit"].iloc[0] == 113_000.0 and out["action"].iloc[0] == "decrease"


def test_an_acceptable_grade_is_never_cut_below_its_exposure() -> None:
    # grade 6, current 40,000, exposure 35,000: sized 14,000, step cap 30,000, floor min(exposure, need) = 15,000;
    # the cut stops at the exposure: 35,000 (money tests off to show the floor alone)
    policy = LimitPolicy(min_decrease_expected_loss=0.0, decrease_pays_margin=False)
    out = run(rows({"credit_limit": 40_000.0, "exposure": 35_000.0}), [0.05], policy)
    assert out["suggested_limit"].iloc[0] == 35_000.0 and out["action"].iloc[0] == "decrease"
    assert "not cut below the exposure 35,000 (acceptable grade): 35,000" in out["limit_rationale"].iloc[0]
    # grade 8 is not acceptable: the step cap alone (30,000)
    assert run(rows({"credit_limit": 40_000.0, "exposure": 35_000.0}), [0.15], policy)["suggested_limit"].iloc[0] == 30_000


def test_a_thin_file_over_its_limit_is_covered_up_to_the_thin_file_cover_maximum() -> None:
    # thin file, grade 3 (PD 1%): need 14,333 x 1.3 = 18,633 -> 19,000 (within 5,000..25,000); exposure 30,000 over
    # the limit 15,000: covered (30,000 <= thin_file_cover_max_limit 100,000, within the break-even cap)
    frame = rows({"exposure": 30_000.0})
    out = run(frame, [0.01], LimitPolicy(), thin=np.array([True]))
    assert out["suggested_limit"].iloc[0] == 30_000.0 and out["action"].iloc[0] == "increase"
    assert "covers the exposure 30,000" in out["limit_rationale"].iloc[0]
    capped = run(frame, [0.01], LimitPolicy(thin_file_cover_max_limit=20_000.0), thin=np.array([True]))
    assert capped["suggested_limit"].iloc[0] == 19_000.0


def test_between_reviews_only_used_headroom_is_increased() -> None:
    # the worked increase (grade 4: 15,000 -> 17,000): exposure 10,000 uses 67% of the limit: outside its routine
    # review the increase waits; at the review it is made; with 12,000 exposure (80%) it is made at any time
    frame = rows({}, {}, {"exposure": 12_000.0})
    out = run(frame, [0.015] * 3, LimitPolicy(), at_review=np.array([False, True, False]))
    assert out["suggested_limit"].tolist() == [15_000.0, 17_000.0, 17_000.0]
    assert out["action"].tolist() == ["keep", "increase", "increase"]
    assert ("the increase to 17,000 waits for the routine review: the exposure 10,000 uses 67% of the current limit"
            in out["limit_rationale"].iloc[0])


def test_revoke_needs_evidence_can_be_switched_off() -> None:
    frame = rows(EVIDENCE)  # no deterioration: spared by default, revoked on grade alone when switched off
    persona = np.array(["distressed"], dtype=object)
    assert run(frame, [0.5], LimitPolicy(), persona=persona)["action"].iloc[0] == "keep"
    assert run(frame, [0.5], LimitPolicy(revoke_needs_evidence=False), persona=persona)["action"].iloc[0] == "revoke"


@given(
    st.lists(
        st.tuples(st.floats(0.0, 0.5), st.floats(0.0, 1e6), st.floats(1_000.0, 1e6), st.floats(0.0, 1.5e6)),
        min_size=1, max_size=20,
    )
)
def test_money_invariants(data) -> None:
    """Default policy, between reviews: every decrease removes at least min_decrease_expected_loss of expected
    loss; an acceptable grade (7 or better) is never cut below its exposure; every increase goes to a customer
    using at least increase_min_utilisation of its limit or covers its exposure."""
    frame = rows(*({"sales_avg_3m": s, "sales_avg_12m": s, "credit_limit": c, "exposure": e} for _, s, c, e in data))
    pds = np.array([d[0] for d in data])
    pol = LimitPolicy()
    grades = assign_grades(pds, SCALE)
    out = run(frame, pds, pol, grades=grades, at_review=np.zeros(len(data), dtype=bool))
    act, sugg = out["action"].to_numpy(), out["suggested_limit"].to_numpy()
    cur, exp = np.array([d[2] for d in data]), np.array([d[3] for d in data])
    dec = act == "decrease"
    assert (pds[dec] * pol.lgd * (cur[dec] - sugg[dec]) >= pol.min_decrease_expected_loss - 1e-6).all()
    acceptable = np.array([int(g) <= int(pol.floor_worst_grade) for g in grades])
    floor = np.minimum(np.ceil(exp / pol.round_to) * pol.round_to, cur)
    assert (sugg[dec & acceptable] >= floor[dec & acceptable]).all()
    inc = act == "increase"
    assert ((exp[inc] >= pol.increase_min_utilisation * cur[inc]) | (sugg[inc] >= exp[inc])).all()


def test_freeze_cuts_the_worst_grades_to_their_exposure() -> None:
    """Grade 9 (PD 25%), limit 40,000, exposure 22,300, sales 30,000 a month: need 30,000 x (30 + 10) / 30 + 1,000
    = 41,000; the sizing (x0.4, step cap -25%) would cut to 30,000, but that cut puts 0.2 x 30,000 x 12 x 10,000 /
    41,000 = 17,561 of margin at risk for 0.25 x 0.6 x 10,000 = 1,500 of expected loss: kept. The freeze (grade 9)
    cuts to the exposure rounded up, 23,000: expected loss removed 0.25 x 0.6 x 17,000 = 2,550 >= 500."""
    from riskml.scoring.limits import freeze_limits

    frame = rows({"credit_limit": 40_000.0, "exposure": 22_300.0, "sales_avg_3m": 30_000.0},  # frozen
                 {"credit_limit": 40_000.0, "exposure": 37_000.0, "sales_avg_3m": 30_000.0},  # 450 removed: kept
                 {"credit_limit": 40_000.0, "exposure": 22_300.0, "sales_avg_3m": 30_000.0},  # held: kept
                 {"credit_limit": 40_000.0, "exposure": 22_300.0, "sales_avg_3m": 30_000.0},  # grade 8: kept
                 {"credit_limit": 40_000.0, "exposure": 22_300.0, "sales_avg_3m": 30_000.0},  # strong late payer
                 {"credit_limit": 40_000.0, "exposure": 0.0, "sales_avg_3m": 30_000.0},      # nothing owed: 1,000
                 {"credit_limit": 40_000.0, "exposure": 22_300.0, "sales_avg_3m": 30_000.0})  # regular: not frozen
    pds = np.array([0.25, 0.25, 0.25, 0.15, 0.25, 0.35, 0.25])
    grades = assign_grades(pds, SCALE)
    persona = np.array(["weak_late_payer"] * 4 + ["strong_late_payer", "distressed", "regular"], dtype=object)
    policy = LimitPolicy(freeze_grade="9", min_decrease_expected_loss=500.0)
    limits = run(frame, pds, policy, persona=persona)
    assert limits["need"].iloc[0] == pytest.approx(41_000) and limits["action"].iloc[0] == "keep"
    limits = limits.assign(action="keep", suggested_limit=40_000.0, limit_change=0.0)  # all kept by the sizing
    held = np.array([False, False, True, False, False, False, False])
    out = freeze_limits(frame, limits, held, pds, grades, policy, SCALE, lgd=np.full(7, 0.6), persona=persona)
    assert out["suggested_limit"].tolist() == [23_000, 40_000, 40_000, 40_000, 40_000, 1_000, 40_000]
    assert out["action"].tolist() == ["decrease", "keep", "keep", "keep", "keep", "decrease", "keep"]
    assert out["limit_change"].tolist() == [-17_000, 0, 0, 0, 0, -39_000, 0]
    # the personas given: every customer may be frozen (the regular one too)
    assert freeze_limits(frame, limits, held, pds, grades, policy, SCALE)["action"].iloc[6] == "decrease"
    assert ("frozen at the exposure 22,300: 23,000 (grade 9 is at or beyond the freeze grade 9; removes the unused "
            "headroom 17,000, an expected loss of 2,550" in out["limit_rationale"].iloc[0])
    # off: the limits come back untouched
    off = freeze_limits(frame, limits, held, pds, grades, LimitPolicy(freeze_grade=None), SCALE, persona=persona)
    assert off is limits


def test_freeze_in_the_policy_holds_no_order_and_prices_the_growth_it_blocks() -> None:
    """The freeze of the worked example above through apply_policy, for a customer paying 20 days beyond terms
    (need 30,000 x (30 + 20) / 30 + 1,000 = 51,000): a decrease to 23,000 with no order hold; its margin at risk is
    the growth it blocks, 0.2 x 30,000 x 12 x (40,000 - 23,000) / 51,000 = 24,000; with the freeze off the limit is
    kept."""
    from riskml.scoring.policy import apply_policy

    frame = rows({"credit_limit": 40_000.0, "exposure": 22_300.0, "sales_avg_3m": 30_000.0,
                  "late_paid_share_12m": 0.6, "dbt_avg_12m": 20.0, "dbt_avg_6m": 20.0,
                  "multi_payment_share_12m": 0.5})  # pays in parts: a weak late payer
    on = apply_policy(frame, np.array([0.25]), ScoringConfig()).iloc[0]
    assert on["grade"] == "9" and on["persona"] == "weak_late_payer"
    assert on["action"] == "decrease" and on["suggested_limit"] == 23_000 and not on["order_hold"]
    assert on["margin_at_risk"] == pytest.approx(24_000.0, abs=0.01)
    cfg = ScoringConfig()
    off = apply_policy(frame, np.array([0.25]),
                       cfg.model_copy(update={"limits": cfg.limits.model_copy(update={"freeze_grade": None})})).iloc[0]
    assert off["action"] == "keep" and off["suggested_limit"] == 40_000


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1e6), st.floats(0.0, 1e6), st.floats(0.0, 1e5),
                  st.sampled_from(["keep", "increase", "decrease", "revoke", "collections"]), st.booleans(),
                  st.sampled_from(["weak_late_payer", "distressed", "strong_late_payer", "regular"])),
        min_size=1, max_size=20,
    )
)
def test_freeze_invariants(data) -> None:
    """Over random books: a frozen row was unrestricted (keep or increase, no hold), of the freeze grade or worse and a
    freeze persona; its new limit covers its exposure (the exposure rounded up, at least one round_to), is below
    the current limit and removes at least min_decrease_expected_loss; every other row is left as it was."""
    from riskml.scoring.limits import freeze_limits

    pds = np.array([d[0] for d in data])
    cur, exp, sales = (np.array([d[i] for d in data]) for i in (1, 2, 3))
    action = np.array([d[4] for d in data], dtype=object)
    held = np.array([d[5] for d in data])
    persona = np.array([d[6] for d in data], dtype=object)
    frame = rows(*({"credit_limit": c, "exposure": e, "sales_avg_3m": s, "sales_avg_12m": s}
                   for c, e, s in zip(cur, exp, sales, strict=True)))
    grades = assign_grades(pds, SCALE)
    limits = pd.DataFrame({"current_limit": cur, "suggested_limit": cur, "limit_change": 0.0, "action": action,
                           "need": sales * 40 / 30, "limit_rationale": "sized"})
    pol = LimitPolicy()
    out = freeze_limits(frame, limits, held, pds, grades, pol, SCALE, persona=persona)
    frozen = out["limit_rationale"].str.contains("frozen at").to_numpy()
    new = out["suggested_limit"].to_numpy()
    assert (out["action"].to_numpy()[frozen] == "decrease").all()
    assert np.isin(action[frozen], ["keep", "increase"]).all() and not held[frozen].any()
    assert all(int(g) >= int(pol.freeze_grade) for g in grades[frozen]) and np.isin(persona[frozen], pol.freeze_personas).all()
    assert (new[frozen] >= exp[frozen]).all() and (new[frozen] < cur[frozen]).all()
    assert (new[frozen] == np.maximum(np.ceil(exp[frozen] / pol.round_to) * pol.round_to, pol.round_to)).all()
    assert (pds[frozen] * pol.lgd * (cur[frozen] - new[frozen]) >= pol.min_decrease_expected_loss - 1e-6).all()
    assert (new[~frozen] == cur[~frozen]).all() and (out["action"].to_numpy()[~frozen] == action[~frozen]).all()


def test_a_full_payer_is_not_revoked() -> None:
    # grade 10 distressed (PD 50%), paying 21 days later than its norm, volatility 11.6: 96.7% of its invoices paid in
    # full -> no revoke (revoke_full_payer_min_paid_in_full 90%): it pays what it owes; 85% paid in full -> revoked
    from riskml.scoring.limits import revoke_evidence

    shifted = {**EVIDENCE, "dbt_shift_12m": 21.0, "dbt_volatility_12m": 11.6}
    frame = rows({**shifted, "paid_in_full_share_12m": 0.967}, {**shifted, "paid_in_full_share_12m": 0.85})
    assert revoke_evidence(frame, LimitPolicy()).tolist() == [False, True]
    out = run(frame, [0.5, 0.5], LimitPolicy(), persona=np.array(["distressed"] * 2, dtype=object))
    assert out["action"].tolist() != ["revoke", "revoke"] and out["action"].tolist()[1] == "revoke"
    assert "or one that pays nearly every invoice in full" in out["limit_rationale"].iloc[0]
    # switched off (above 1): both revoked
    assert revoke_evidence(frame, LimitPolicy(revoke_full_payer_min_paid_in_full=1.01)).tolist() == [True, True]


def test_a_customer_not_held_for_past_due_is_covered_over_its_limit() -> None:
    # grade 5 (PD 3%), exposure 31,500 over the 15,000 limit, undisputed invoices 45 days past due: beyond the 30 days
    # of the no-increase rule, but within the 89 days its grade's past-due hold tolerates (hold_days): covered at
    # 32,000 (approving it releases the orders). Without hold_days (30 days): the sized increase is blocked, kept.
    frame = rows({"exposure": 31_500.0, "undisputed_oldest_dpd": 45.0})
    out = run(frame, [0.03], LimitPolicy(), hold_days=np.array([89.0]))
    assert out["suggested_limit"].iloc[0] == 32_000.0 and out["action"].iloc[0] == "increase"
    assert "covers the exposure 31,500" in out["limit_rationale"].iloc[0]
    kept = run(frame, [0.03], LimitPolicy())
    assert kept["suggested_limit"].iloc[0] == 15_000.0 and kept["action"].iloc[0] == "keep"
    # a strong late payer's usual pattern counts too (usual_days 60)
    strong = run(frame, [0.03], LimitPolicy(), usual_days=np.array([60.0]))
    assert strong["suggested_limit"].iloc[0] == 32_000.0


def test_cuts_start_at_decrease_from_grade() -> None:
    # current 40,000, exposure 10,000 (cuts above the need: no margin at risk), min_decrease_expected_loss 0: grade 4
    # (PD 1.5%) is better than grade 5 -> kept; grade 5 (PD 3%) and grade 7 (PD 9%) are cut by the step cap to 30,000.
    # decrease_from_grade None: grade 4 is cut too; "7": only grade 7.
    frame = rows(*[{"credit_limit": 40_000.0}] * 3)
    out = run(frame, [0.015, 0.03, 0.09], LimitPolicy())
    assert out["action"].tolist() == ["keep", "decrease", "decrease"]
    assert out["suggested_limit"].tolist() == [40_000.0, 30_000.0, 30_000.0]
    assert "grade 4 is better than 5 (cuts start at that grade): kept" in out["limit_rationale"].iloc[0]
    every = run(frame, [0.015, 0.03, 0.09], LimitPolicy(decrease_from_grade=None))
    assert every["action"].tolist() == ["decrease"] * 3
    assert run(frame, [0.015, 0.03, 0.09], LimitPolicy(decrease_from_grade="7"))["action"].tolist() == [
        "keep", "keep", "decrease"]
