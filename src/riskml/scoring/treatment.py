"""Treatment: what the credit team does with this customer, from who it is (the persona) and what the
policy decided (limit action, order hold).

The three kinds of late payer get different treatments ("minimise bad debt losses without overly
restricting sales"): strong late payers keep their sales flowing and get terms or price actions instead;
weak ones are restricted; disorganised ones get their paperwork fixed. The others have their own.

=====================  ====================  =====================================================================
persona                treatment             what to do
=====================  ====================  =====================================================================
``distressed``         ``collections``       collections track: demand everything owed, no new credit until paid;
                                             revoke terms or take security when the policy says revoke
``weak_late_payer``    ``revoke_terms``      habitual debtor (the policy revokes): cash in advance, collect all
                       ``restrict``          otherwise: no increase, the suggested decrease, security (guarantee,
                                             credit insurance), orders held while undisputed items are past due
``strong_late_payer``  ``terms_and_price``   keep selling (no hold for lateness inside its usual pattern); a
                                             late-payment fee or an early-payment discount, shorter terms at
                                             renewal, ask for everything owed at each call; a revoke
                                             suggested by the policy is flagged for review
``disorganised``       ``fix_paperwork``     resolve disputes and deductions with sales and billing, apply
                                             unapplied cash; no hold for disputed items
``thin_file``          ``starter_terms``     starter limit, trade references or a credit report, review after six
                                             months of payments
``prompt_payer``       ``keep_terms``        keep terms and service; an increase when the policy suggests one
``regular``            ``standard``          standard reminders before and after the due date
=====================  ====================  =====================================================================

The text adds what the decisions say: the limit action (increase, decrease, revoke) and whether orders
are held and why (a hold on a strong late payer is named for what it is: over its limit, or past due
beyond its usual pattern, and released by paying everything owed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskml.config import ScoringConfig
from riskml.scoring.wording import lookup

TREATMENTS: dict[str, str] = {
    "collections": "collections track: demand everything owed, no new credit until paid",
    "revoke_terms": "habitual debtor: revoke credit terms (cash in advance), collect everything owed",
    "restrict": "restrict: no increase, reduce the limit, ask for security, hold orders while undisputed items are past due",
    "terms_and_price": "keep sales flowing; terms and price instead of holds (late-payment fee, early-payment "
    "discount, shorter terms, ask for everything owed)",
    "fix_paperwork": "fix the paperwork: resolve disputes and deductions, apply unapplied cash; no hold for disputed items",
    "starter_terms": "starter terms: small limit, references or a credit report, review after six months of payments",
    "keep_terms": "keep terms and service",
    "standard": "standard reminders before and after the due date",
}
# persona -> treatment (weak late payers whose terms the policy revokes get revoke_terms)
BY_PERSONA: dict[str, str] = {
    "distressed": "collections",
    "weak_late_payer": "restrict",
    "strong_late_payer": "terms_and_price",
    "disorganised": "fix_paperwork",
    "thin_file": "starter_terms",
    "prompt_payer": "keep_terms",
    "regular": "standard",
}
# decision columns read (absent ones count as "no hold" / "keep")
TREATMENT_INPUTS = ("action", "order_hold", "hold_codes")


def _column(frame: pd.DataFrame, name: str, default: object, n: int) -> np.ndarray:
    if name in frame.columns:
        return frame[name].to_numpy(dtype=object)
    return np.full(n, default, dtype=object)


def _pct(x: float) -> str:
    return f"{x * 100:g}%"


def _text(code: str, action: str, held: bool, codes: set[str], config: ScoringConfig) -> str:
    t = config.treatments
    if code == "collections":
        extra = "; revoke terms or take security" if action == "revoke" else ""
        return f"Collections track: demand everything owed, no new credit until it is paid{extra}."
    if code == "revoke_terms":
        return "Habitual debtor: revoke credit terms (cash in advance or security) and collect everything owed."
    if code == "restrict":
        parts = ["Restrict: no increase"]
        if action == "decrease":
            parts.append("reduce the limit as suggested")
        parts.append("ask for security (guarantee, credit insurance)")
        parts.append("orders held until undisputed past-due items are paid" if held
                     else "hold orders if undisputed items go past due")
        return ", ".join(parts) + "."
    if code == "terms_and_price":
        fee = (f"a late-payment fee of {_pct(t.late_fee_monthly_rate)} a month" if t.late_fee_monthly_rate > 0
               else "late-payment fees")
        disc = (f"{_pct(t.early_discount_rate)} discount for payment within {t.early_discount_days} days"
                if t.early_discount_rate > 0 else "an early-payment discount")
        terms = (f"terms {t.shorter_terms_days} days shorter at renewal" if t.shorter_terms_days > 0
                 else "shorter terms at renewal")
        head = "Keep sales flowing (no hold for lateness inside its usual pattern)"
        if action == "revoke":
            # the ledger says strong and steady: a revoke needs a second look, not a collector's call
            return (f"Review the suggested revoke: it pays late but steadily and in full; prefer {fee}, "
                    f"{terms} and asking for everything owed.")
        if held:
            why = "over its limit" if "over_limit" in codes else (
                "terms revoked" if "revoked" in codes else "past due beyond its usual pattern")
            head = f"Orders held ({why}): release on payment of everything owed, then keep sales flowing"
        return f"{head}; offer {disc} or charge {fee}; {terms}; ask for everything owed at each call."
    if code == "fix_paperwork":
        held_txt = " Orders held only for undisputed past-due items." if held else ""
        return ("Fix the paperwork: resolve disputes and deductions with sales and billing, apply unapplied cash; "
                "no hold for disputed items." + held_txt)
    if code == "starter_terms":
        return "Starter terms: small limit, trade references or a credit report; review after six months of payments."
    if code == "keep_terms":
        more = " Offer the suggested increase." if action == "increase" and not held else ""
        return "Keep terms and service." + more
    held_txt = " Orders held until the past-due items are paid." if held else ""
    return "Standard reminders before and after the due date." + held_txt


def treatments(personas: np.ndarray, decisions_frame: pd.DataFrame, config: ScoringConfig | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """The treatment code (keys of :data:`TREATMENTS`) and a short text for each customer, from its
    persona and its decisions (``action``, ``order_hold``, ``hold_codes`` of ``decisions_frame``, one row
    per persona, same order). Pure: no clock, no file."""
    config = config or ScoringConfig()
    per = np.asarray(personas, dtype=object)
    n = len(per)
    if len(decisions_frame) != n:
        raise ValueError(f"treatments: {n} personas but {len(decisions_frame)} decision rows")
    actions = _column(decisions_frame, "action", "keep", n)
    held = _column(decisions_frame, "order_hold", False, n)
    hold_codes = _column(decisions_frame, "hold_codes", "", n)
    code = lookup(per, BY_PERSONA, "standard")
    code = np.where((code == "restrict") & (actions == "revoke"), "revoke_terms", code).astype(object)
    held = pd.Series(held).fillna(False).astype(bool).to_numpy()
    # as text, missing as "" (what fillna("").astype(str) gives), once per distinct value
    codes_of, uniq = pd.factorize(np.asarray(hold_codes, dtype=object))
    hold_codes = np.array([str(u) for u in uniq] + [""], dtype=object)[codes_of]
    # one text per distinct (treatment, action, hold, hold codes): a large book has only a few dozen
    actions = actions.astype(str).astype(object)
    key = np.zeros(n, dtype="int64")
    for col in (code, actions, held, hold_codes):
        codes, uniq = pd.factorize(col)
        key = key * len(uniq) + codes
    _, first, groups = np.unique(key, return_index=True, return_inverse=True)
    table = np.array([_text(code[i], actions[i], bool(held[i]), set(filter(None, hold_codes[i].split(";"))), config)
                      for i in first.tolist()], dtype=object)
    return code, table[groups.reshape(-1)] if n else np.empty(0, dtype=object)
