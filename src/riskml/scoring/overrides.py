"""Overrides: a decision a person took over the policy's, until it expires.

An override is granted by an approver (``riskml serve``, ``POST /v1/overrides``) for one customer and
one of three kinds:

- ``limit``: the customer trades on ``limit``: the limit the exposure is measured against (over-limit hold,
  its release amount) and the limit the batch scores suggest setting;
- ``action``: ``keep`` (lift a ``revoke``: the customer keeps open terms, and the past-due and over-limit
  holds the revoke covered apply again) or ``revoke`` (cash in advance);
- ``hold_release``: orders are released despite a hold (up to ``max_amount`` of orders when given).

It is active on a date ``d`` when ``effective_from <= d <= expires_on`` (dates, inclusive; no expiry
date means no end) and it was not withdrawn. The service judges this against the order date, the batch
scoring run against its as-of date: neither reads the clock.

Overrides go *into* the policy, for the order-time check and the batch alike
(:func:`riskml.scoring.policy.limits_and_holds_overridden`, called by ``apply_policy(..., overrides=)`` and
by :func:`riskml.serving.book.check_orders`): this module holds their rules, written once -- which
overrides still apply (:func:`override_levels`, :func:`release_levels`, :func:`release_applies`: an
override whose approver's level no longer allows what it grants stops applying), how an action override
replaces the limit policy's revoke (:func:`override_revokes`) and how a limit override sets the limit
(:func:`set_limit_overrides`, :func:`restate_limits`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskml.config import ApprovalPolicy, ScoringConfig
from riskml.scoring.approvals import NO_APPROVAL, level_allows, level_names, required_levels

OVERRIDE_KINDS = ("limit", "action", "hold_release")
OVERRIDE_ACTIONS = ("keep", "revoke")
# the columns an overrides frame carries (one row per active override)
OVERRIDE_INPUT_COLUMNS = ("override_id", "customer_id", "kind", "limit", "action", "max_amount", "reason",
                          "approver", "approver_level", "effective_from", "expires_on")
# the columns ``apply_policy(..., overrides=)`` adds to the decisions (and ``riskml score --overrides-db`` to
# the scores): the overrides that apply, those that no longer do and why, and the policy's own figures
OVERRIDE_COLUMNS = ("override_ids", "override_kinds", "override_limit", "override_action", "override_hold_release",
                    "override_reason", "override_approver", "override_expires_on", "override_skipped",
                    "policy_suggested_limit", "policy_action", "policy_order_hold")


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




@dataclass(frozen=True)
class ActiveOverride:
    """An active override as the policy uses it (the service's ``OverrideView``)."""

    id: int
    kind: str
    limit: float | None = None
    action: str | None = None
    max_amount: float | None = None
    approver: str = ""
    approver_level: str = ""
    used: float = 0.0  # orders already released under it (a hold release with a max_amount)
    reason: str = ""
    expires_on: str = ""  # ISO date, "" for none

    @property
    def note(self) -> str:
        """How the decision texts name it."""
        return f"override #{self.id} ({self.approver})"


def _float(v: object) -> float | None:
    return None if v is None or pd.isna(v) else float(v)  # type: ignore[arg-type]


def _text(v: object) -> str:
    return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)  # type: ignore[arg-type]


def overrides_by_customer(overrides: pd.DataFrame | None) -> dict[str, dict[str, ActiveOverride]]:
    """The active ``overrides`` (:data:`OVERRIDE_INPUT_COLUMNS`, optionally ``used``; filtered with
    :func:`active_overrides`) per customer id and kind (the last row of a kind wins)."""
    out: dict[str, dict[str, ActiveOverride]] = {}
    if overrides is None or not len(overrides):
        return out
    for r in overrides.to_dict("records"):
        expires = r.get("expires_on")
        ov = ActiveOverride(
            id=int(r["override_id"]), kind=str(r["kind"]), limit=_float(r.get("limit")), action=_text(r.get("action")) or None,
            max_amount=_float(r.get("max_amount")), approver=_text(r.get("approver")),
            approver_level=_text(r.get("approver_level")), used=_float(r.get("used")) or 0.0,
            reason=_text(r.get("reason")),
            expires_on="" if expires is None or pd.isna(expires) else str(pd.Timestamp(expires).date()))
        out.setdefault(str(r["customer_id"]), {})[ov.kind] = ov
    return out


def limit_action(current: float, new: float) -> str:
    """The limit action that takes a limit of ``current`` (NaN: none on file) to ``new``."""
    if not math.isfinite(current):
        return "set"
    if new > current:
        return "increase"
    return "decrease" if new < current else "keep"


def level_suffices(approver: str, required: str, policy: ApprovalPolicy) -> bool:
    """Whether an approver of level ``approver`` may grant what needs ``required`` (a level the config no longer
    names allows nothing that needs approval)."""
    try:
        return level_allows(approver, required, policy)
    except ValueError:
        return required == NO_APPROVAL


def override_levels(kinds: Sequence[str], current: np.ndarray, new_limit: np.ndarray, grades: np.ndarray,
                    config: ScoringConfig) -> np.ndarray:
    """The approval level a ``limit`` or ``action`` override needs (:func:`~riskml.scoring.approvals.required_levels`),
    by the customer's limit on file ``current`` (NaN: none), the override's ``new_limit`` and the grade: a limit by
    its size, its change and the grade; imposing or lifting a revoke the authority to revoke. The rule for
    granting one (the service) and for applying it (the service's checks and the batch): an override whose
    approver's level no longer suffices (e.g. the grade moved) stops applying."""
    cur = np.asarray(current, dtype="float64")
    new = np.asarray(new_limit, dtype="float64")
    is_limit = np.asarray(np.asarray(kinds, dtype=object) == "limit", dtype=bool)
    act = np.asarray([limit_action(float(c), float(n)) if k else "revoke"
                      for k, c, n in zip(is_limit.tolist(), cur.tolist(), new.tolist(), strict=True)], dtype=object)
    return required_levels(act, cur, np.where(is_limit, new, 0.0), np.array([g or "" for g in grades], dtype=object),
                           config.approvals, config.master_scale)


def release_levels(hold_type: np.ndarray, limit: np.ndarray, grade: np.ndarray, config: ScoringConfig) -> np.ndarray:
    """The approval level that may release a hold of each ``hold_type`` (none: no approval; a soft hold: at
    least the lowest level), by :func:`~riskml.scoring.approvals.required_levels` at the limit in force."""
    hold_type = np.asarray(hold_type, dtype=object)
    n = len(hold_type)
    lvl = required_levels(np.full(n, "keep", dtype=object), np.asarray(limit, dtype="float64"),
                          np.asarray(limit, dtype="float64"), np.array([g or "" for g in grade], dtype=object),
                          config.approvals, config.master_scale, hold_type=hold_type)
    lowest = level_names(config.approvals)[0]
    return np.array([NO_APPROVAL if h == "none" else (v or lowest) for h, v in zip(hold_type, lvl, strict=True)],
                    dtype=object)


def release_level(hold_type: str, limit: float, grade: str, config: ScoringConfig) -> str:
    """:func:`release_levels` of one hold."""
    return str(release_levels(np.array([hold_type], dtype=object), np.array([limit]), np.array([grade], dtype=object),
                              config)[0])


def release_room(ov: ActiveOverride) -> float:
    """What a ``hold_release`` override may still release (inf without a ``max_amount``)."""
    return math.inf if ov.max_amount is None else ov.max_amount - ov.used


def release_applies(ov: ActiveOverride, needed: str, amount: float, policy: ApprovalPolicy) -> bool:
    """Whether a ``hold_release`` override releases a hold that needs ``needed`` to release, for an order of
    ``amount`` (the batch: 0, the customer's state): its approver's level may release that hold (a hold that
    turned hard needs ``may_release_hard_hold``) and the order fits in what is left of ``max_amount`` (nothing
    left: nothing released)."""
    room = release_room(ov)
    return level_suffices(ov.approver_level, needed, policy) and room > 1e-9 and amount <= room + 1e-9


def release_text(ov: ActiveOverride) -> str:
    """The hold text a release by ``ov`` adds."""
    return f"released by {ov.note}"


def override_revokes(limits: pd.DataFrame, actions: Sequence[ActiveOverride | None]) -> pd.DataFrame:
    """The limit policy's output with a person's revoke decision laid over it: ``revoke`` makes the action
    ``revoke`` (its reason the override); ``keep`` lifts a revoke (action ``keep``, the current limit kept).
    The holds are then decided on it by the policy (:func:`~riskml.scoring.policy.limits_and_holds`)."""
    out = limits.copy()
    revoked = out["revoked"].to_numpy(dtype=bool).copy()
    action = out["action"].to_numpy(dtype=object).copy()
    reason = out["revoke_reason"].to_numpy(dtype=object).copy()
    suggested = out["suggested_limit"].to_numpy("float64").copy()
    change = out["limit_change"].to_numpy("float64").copy()
    rationale = out["limit_rationale"].to_numpy(dtype=object).copy()
    current = out["current_limit"].to_numpy("float64")
    for k, ov in enumerate(actions):
        if ov is None:
            continue
        if ov.action == "revoke":
            revoked[k], action[k] = True, "revoke"
            reason[k] = f"by {ov.note}"
            suggested[k] = 0.0
            change[k] = -current[k] if math.isfinite(current[k]) else math.nan
            rationale[k] = f"revoked by {ov.note}: {ov.reason} (policy: {rationale[k]})" if ov.reason else \
                f"revoked by {ov.note} (policy: {rationale[k]})"
        elif ov.action == "keep" and (revoked[k] or action[k] == "revoke"):
            revoked[k], action[k], reason[k] = False, "keep", ""
            if math.isfinite(current[k]):
                suggested[k], change[k] = current[k], 0.0
            rationale[k] = f"revoke lifted by {ov.note}: {ov.reason} (policy: {rationale[k]})" if ov.reason else \
                f"revoke lifted by {ov.note} (policy: {rationale[k]})"
    out["revoked"] = revoked
    out["action"] = pd.Series(action, index=out.index, dtype=object)
    out["revoke_reason"] = pd.Series(reason, index=out.index, dtype=object)
    out["suggested_limit"] = suggested
    out["limit_change"] = change
    out["limit_rationale"] = pd.Series(rationale, index=out.index, dtype=object)
    return out


def set_limit_overrides(limits: pd.DataFrame, limit_ovs: Sequence[ActiveOverride | None]) -> tuple[pd.DataFrame, np.ndarray]:
    """(limits, rows set): the limit policy's output (decided with the override's limit as the limit on file)
    with each ``limit`` override's limit as the suggested limit (action ``keep`` of the limit in force, so no
    suggested increase covers an exposure over it and no freeze or deferral moves it), except where the terms are
    revoked or the customer is on the collections track (those outrank a limit: lifting a revoke is an ``action``
    override's, which needs the authority to revoke). Restate the rows against the limit on file with
    :func:`restate_limits` once the holds are decided."""
    given = np.array([ov is not None for ov in limit_ovs], dtype=bool)
    if not given.any():
        return limits, given
    action = limits["action"].to_numpy(dtype=object).copy()
    rows = given & ~limits["revoked"].to_numpy(dtype=bool) & (action != "collections")
    if not rows.any():
        return limits, rows
    out = limits.copy()
    suggested = out["suggested_limit"].to_numpy("float64").copy()
    change = out["limit_change"].to_numpy("float64").copy()
    rationale = out["limit_rationale"].to_numpy(dtype=object).copy()
    for k in np.flatnonzero(rows):
        ov = limit_ovs[int(k)]
        assert ov is not None and ov.limit is not None
        suggested[k], change[k], action[k] = ov.limit, 0.0, "keep"
        why = f": {ov.reason}" if ov.reason else ""
        rationale[k] = f"limit {ov.limit:,.0f} set by {ov.note}{why} (policy on that limit: {rationale[k]})"
    out["suggested_limit"] = suggested
    out["limit_change"] = change
    out["action"] = pd.Series(action, index=out.index, dtype=object)
    out["limit_rationale"] = pd.Series(rationale, index=out.index, dtype=object)
    return out, rows


def restate_limits(limits: pd.DataFrame, rows: np.ndarray, set_rows: np.ndarray, on_file: np.ndarray) -> pd.DataFrame:
    """``limits`` (decided with a ``limit`` override's limit as the limit on file on ``rows``) restated against the
    limit on file (``on_file``, NaN: none): ``current_limit`` the one on file and ``limit_change`` the move to the
    suggested limit; on the rows :func:`set_limit_overrides` set, the ``action`` too (increase / decrease / keep /
    set to the override's limit)."""
    if not rows.any():
        return limits
    out = limits.copy()
    cur = out["current_limit"].to_numpy("float64").copy()
    change = out["limit_change"].to_numpy("float64").copy()
    action = out["action"].to_numpy(dtype=object).copy()
    sug = out["suggested_limit"].to_numpy("float64")
    on_file = np.asarray(on_file, dtype="float64")
    for k in np.flatnonzero(rows):
        cur[k] = on_file[k]
        change[k] = sug[k] - on_file[k] if math.isfinite(on_file[k]) else math.nan
        if set_rows[k]:
            action[k] = limit_action(on_file[k], sug[k])
    out["current_limit"] = cur
    out["limit_change"] = change
    out["action"] = pd.Series(action, index=out.index, dtype=object)
    return out
