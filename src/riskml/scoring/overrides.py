"""Overrides: a decision a person took over the policy's, until it expires.

An override is granted by an approver (``riskml serve``, ``POST /v1/overrides``) for one customer and
one of three kinds:

- ``limit``: the customer trades on ``limit`` (the limit the order-time check measures exposure against,
  and the limit the batch scores suggest setting);
- ``action``: ``keep`` (lift a ``revoke``: the customer keeps open terms) or ``revoke`` (cash in advance);
- ``hold_release``: orders are released despite a hold (up to ``max_amount`` of orders when given).

It is active on a date ``d`` when ``effective_from <= d <= expires_on`` (dates, inclusive; no expiry
date means no end) and it was not withdrawn. The service judges this against the order date, the batch
scoring run against its as-of date: neither reads the clock.

:func:`apply_overrides` lays the active overrides over a scores frame (the output of ``riskml score``):
the policy's own figures stay in ``policy_*`` columns and the override in ``override_*`` columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

OVERRIDE_KINDS = ("limit", "action", "hold_release")
OVERRIDE_ACTIONS = ("keep", "revoke")
# the columns an overrides frame carries (one row per active override)
OVERRIDE_INPUT_COLUMNS = ("override_id", "customer_id", "kind", "limit", "action", "max_amount", "reason",
                          "approver", "approver_level", "effective_from", "expires_on")
# the columns apply_overrides adds to the scores
OVERRIDE_COLUMNS = ("override_ids", "override_kinds", "override_limit", "override_action", "override_hold_release",
                    "override_reason", "override_approver", "override_expires_on", "policy_suggested_limit",
                    "policy_action", "policy_order_hold")


def is_active(effective_from: object, expires_on: object, on: object, withdrawn: bool = False) -> bool:
    """Whether an override is in force on date ``on`` (the one rule for the service and the batch)."""
    if withdrawn:
        return False
    day = pd.Timestamp(on).normalize()
    if effective_from is not None and not pd.isna(effective_from) and pd.Timestamp(effective_from).normalize() > day:
        return False
    return expires_on is None or pd.isna(expires_on) or pd.Timestamp(expires_on).normalize() >= day


def active_overrides(overrides: pd.DataFrame, on: object) -> pd.DataFrame:
    """The rows of ``overrides`` (with ``effective_from``, ``expires_on`` and optionally ``withdrawn``)
    active on ``on``; of several of one kind for one customer, the latest granted (highest id) wins."""
    if not len(overrides):
        return overrides.iloc[0:0]
    withdrawn = overrides["withdrawn"].to_numpy(bool) if "withdrawn" in overrides else np.zeros(len(overrides), bool)
    keep = [is_active(f, e, on, w) for f, e, w in zip(overrides["effective_from"], overrides["expires_on"],
                                                       withdrawn, strict=True)]
    act = overrides[np.asarray(keep, dtype=bool)]
    act = act.sort_values("override_id", key=lambda s: s.astype("int64"))
    return act.drop_duplicates(["customer_id", "kind"], keep="last").reset_index(drop=True)


def _limit_action(current: float, new: float) -> str:
    if not np.isfinite(current):
        return "set"
    if new > current:
        return "increase"
    return "decrease" if new < current else "keep"


def apply_overrides(scores: pd.DataFrame, overrides: pd.DataFrame) -> pd.DataFrame:
    """``scores`` with the active ``overrides`` (:data:`OVERRIDE_INPUT_COLUMNS`, already filtered with
    :func:`active_overrides`) applied, and :data:`OVERRIDE_COLUMNS` added (empty where none applies).

    - ``limit``: ``suggested_limit`` becomes the override's limit; ``limit_change`` and ``action`` follow;
    - ``action`` ``keep``: a ``revoke`` becomes ``keep`` and its ``revoked`` hold is lifted; ``revoke``:
      action ``revoke`` and a ``revoked`` hold;
    - ``hold_release``: ``order_hold`` False (the codes stay in ``hold_codes`` for the record).

    Customers without an override are unchanged; the row order and every other column are kept."""
    out = scores.copy()
    n = len(out)
    ids = out["customer_id"].astype(str).to_numpy()
    pos = {c: i for i, c in enumerate(ids)}
    cols: dict[str, np.ndarray] = {
        "override_ids": np.full(n, "", dtype=object), "override_kinds": np.full(n, "", dtype=object),
        "override_limit": np.full(n, np.nan), "override_action": np.full(n, "", dtype=object),
        "override_hold_release": np.zeros(n, dtype=bool), "override_reason": np.full(n, "", dtype=object),
        "override_approver": np.full(n, "", dtype=object), "override_expires_on": np.full(n, "", dtype=object),
    }
    suggested = out["suggested_limit"].to_numpy("float64").copy()
    current = out["current_limit"].to_numpy("float64")
    action = out["action"].astype(object).to_numpy().copy()
    hold = out["order_hold"].to_numpy(bool).copy()
    hold_codes = out["hold_codes"].astype(object).fillna("").to_numpy().copy() if "hold_codes" in out else \
        np.full(n, "", dtype=object)
    hold_reason = out["hold_reason"].astype(object).fillna("").to_numpy().copy()
    rationale = out["limit_rationale"].astype(object).fillna("").to_numpy().copy() if "limit_rationale" in out \
        else None
    policy = {"policy_suggested_limit": suggested.copy(), "policy_action": action.copy(),
              "policy_order_hold": hold.copy()}

    def add(col: str, i: int, text: str) -> None:
        cols[col][i] = text if not cols[col][i] else f"{cols[col][i]}; {text}"

    order = {"action": 0, "limit": 1, "hold_release": 2}  # a release judges the hold the other kinds leave
    rows = sorted(overrides.to_dict("records"), key=lambda r: (order.get(str(r["kind"]), 9), int(r["override_id"])))
    for r in rows:
        i = pos.get(str(r["customer_id"]))
        if i is None:
            continue
        kind = str(r["kind"])
        expires = "" if r.get("expires_on") is None or pd.isna(r.get("expires_on")) else \
            str(pd.Timestamp(r["expires_on"]).date())
        note = f"override #{r['override_id']} by {r['approver']}: {r['reason']}"
        add("override_ids", i, str(r["override_id"]))
        add("override_kinds", i, kind)
        add("override_reason", i, str(r["reason"]))
        add("override_approver", i, str(r["approver"]))
        add("override_expires_on", i, expires or "none")
        if kind == "limit":
            new = float(r["limit"])
            cols["override_limit"][i] = new
            suggested[i] = new
            action[i] = _limit_action(current[i], new)
            if rationale is not None:
                rationale[i] = f"{note} (policy: {rationale[i]})" if rationale[i] else note
        elif kind == "action":
            act = str(r["action"])
            cols["override_action"][i] = act
            codes = [c for c in str(hold_codes[i]).split(";") if c]
            if act == "revoke":
                action[i] = "revoke"
                if "revoked" not in codes:
                    codes.append("revoked")
                    hold_reason[i] = "; ".join(t for t in (hold_reason[i], f"credit terms revoked: {note}") if t)
            elif action[i] == "revoke":
                action[i] = "keep"
                suggested[i] = current[i] if np.isfinite(current[i]) else suggested[i]
                codes = [c for c in codes if c != "revoked"]
                hold_reason[i] = "; ".join(t for t in str(hold_reason[i]).split("; ")
                                           if t and not t.startswith("credit terms revoked"))
            hold_codes[i] = ";".join(codes)
            hold[i] = bool(codes)
        elif kind == "hold_release":
            cols["override_hold_release"][i] = True
            if hold[i]:
                hold_reason[i] = f"released by {note} (held: {hold_reason[i]})"
            hold[i] = False
    out["suggested_limit"] = suggested
    with np.errstate(invalid="ignore"):
        out["limit_change"] = np.where(np.isfinite(current), suggested - current, out["limit_change"].to_numpy("float64"))
    out["action"] = pd.Series(action, index=out.index, dtype="str")
    out["order_hold"] = hold
    out["hold_reason"] = pd.Series(hold_reason, index=out.index, dtype="str")
    if "hold_codes" in out:
        out["hold_codes"] = pd.Series(hold_codes, index=out.index, dtype="str")
    if rationale is not None:
        out["limit_rationale"] = pd.Series(rationale, index=out.index, dtype="str")
    for c, v in {**cols, **policy}.items():
        out[c] = pd.Series(v, index=out.index, dtype="str") if v.dtype == object else v
    return out
