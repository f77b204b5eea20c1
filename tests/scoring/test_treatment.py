"""Treatments: one worked example per persona and decision, the texts quote the configured terms, and
apply_policy writes the treatment next to the persona."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskml.config import ScoringConfig, TreatmentPolicy
from riskml.scoring.personas import PERSONAS
from riskml.scoring.policy import DECISION_COLUMNS, apply_policy
from riskml.scoring.treatment import BY_PERSONA, TREATMENTS, treatments
from tests.scoring.frames import rows
from tests.scoring.test_personas import STRONG


def decide(persona, action="keep", hold=False, codes="", config=None):
    frame = pd.DataFrame({"action": [action], "order_hold": [hold], "hold_codes": [codes]})
    c, t = treatments(np.array([persona], dtype=object), frame, config)
    return c[0], t[0]


def test_every_persona_has_a_treatment() -> None:
    assert set(BY_PERSONA) == set(PERSONAS)
    assert set(BY_PERSONA.values()) <= set(TREATMENTS)


def test_strong_late_payer_keeps_selling_with_terms_and_price_actions() -> None:
    code, text = decide("strong_late_payer")
    assert code == "terms_and_price"
    assert text == ("Keep sales flowing (no hold for lateness inside its usual pattern); offer 2% discount for "
                    "payment within 10 days or charge a late-payment fee of 1% a month; terms 15 days shorter at "
                    "renewal; ask for everything owed at each call.")


def test_strong_late_payer_held_over_limit_is_told_why_and_how_to_release() -> None:
    code, text = decide("strong_late_payer", hold=True, codes="over_limit")
    assert code == "terms_and_price"
    assert text.startswith("Orders held (over its limit): release on payment of everything owed")
    assert decide("strong_late_payer", hold=True, codes="past_due")[1].startswith(
        "Orders held (past due beyond its usual pattern)")


def test_a_revoke_of_a_strong_late_payer_is_flagged_for_review() -> None:
    code, text = decide("strong_late_payer", "revoke", True, "past_due;revoked")
    assert code == "terms_and_price"
    assert text == ("Review the suggested revoke: it pays late but steadily and in full; prefer a late-payment "
                    "fee of 1% a month, terms 15 days shorter at renewal and asking for everything owed.")


def test_terms_are_quoted_from_the_config() -> None:
    cfg = ScoringConfig(treatments=TreatmentPolicy(late_fee_monthly_rate=0.015, early_discount_rate=0.01,
                                                   early_discount_days=14, shorter_terms_days=0))
    text = decide("strong_late_payer", config=cfg)[1]
    assert "1% discount for payment within 14 days" in text and "1.5% a month" in text
    assert "shorter terms at renewal" in text


@pytest.mark.parametrize("action,hold,expected", [
    ("decrease", True, "Restrict: no increase, reduce the limit as suggested, ask for security (guarantee, credit "
                       "insurance), orders held until undisputed past-due items are paid."),
    ("keep", False, "Restrict: no increase, ask for security (guarantee, credit insurance), hold orders if "
                    "undisputed items go past due."),
])
def test_weak_late_payer_is_restricted(action, hold, expected) -> None:
    assert decide("weak_late_payer", action, hold, "past_due" if hold else "") == ("restrict", expected)


def test_weak_late_payer_revoked_is_a_habitual_debtor() -> None:
    code, text = decide("weak_late_payer", "revoke", True, "revoked")
    assert code == "revoke_terms" and text.startswith("Habitual debtor: revoke credit terms")


def test_disorganised_gets_the_paperwork_fixed_and_no_hold_for_disputes() -> None:
    code, text = decide("disorganised")
    assert code == "fix_paperwork" and "no hold for disputed items" in text
    assert decide("disorganised", hold=True, codes="past_due")[1].endswith(
        "Orders held only for undisputed past-due items.")


@pytest.mark.parametrize("persona,action,code,start", [
    ("distressed", "keep", "collections", "Collections track: demand everything owed"),
    ("thin_file", "set", "starter_terms", "Starter terms: small limit"),
    ("prompt_payer", "keep", "keep_terms", "Keep terms and service."),
    ("regular", "keep", "standard", "Standard reminders"),
])
def test_other_personas(persona, action, code, start) -> None:
    c, t = decide(persona, action)
    assert c == code and t.startswith(start)


def test_decision_words_follow_the_decision() -> None:
    assert decide("distressed", "revoke")[1].endswith("; revoke terms or take security.")
    assert decide("prompt_payer", "increase")[1] == "Keep terms and service. Offer the suggested increase."
    # an increase is never offered while orders are held
    assert decide("prompt_payer", "increase", True, "past_due")[1] == "Keep terms and service."


def test_absent_decision_columns_mean_keep_and_no_hold() -> None:
    c, t = treatments(np.array(["weak_late_payer", "strong_late_payer"], dtype=object), pd.DataFrame(index=[0, 1]))
    assert c.tolist() == ["restrict", "terms_and_price"]
    assert "hold orders if undisputed items go past due" in t[0] and t[1].startswith("Keep sales flowing")


def test_lengths_must_match_and_empty_input_is_fine() -> None:
    with pytest.raises(ValueError, match="2 personas but 1 decision rows"):
        treatments(np.array(["regular", "regular"], dtype=object), pd.DataFrame({"action": ["keep"]}))
    c, t = treatments(np.array([], dtype=object), pd.DataFrame({"action": []}))
    assert len(c) == 0 and len(t) == 0


def test_apply_policy_writes_the_treatment_after_the_persona() -> None:
    cols = list(DECISION_COLUMNS)
    assert cols[cols.index("persona") + 1] == "treatment"
    frame = rows(STRONG, {"oldest_dpd": 120.0})
    out = apply_policy(frame, np.array([0.3, 0.2]))
    assert out["persona"].tolist() == ["strong_late_payer", "distressed"]
    expected = treatments(out["persona"].to_numpy(), out, ScoringConfig())[1]
    assert out["treatment"].tolist() == expected.tolist()
    assert out["treatment"].iloc[1].startswith("Collections track")
