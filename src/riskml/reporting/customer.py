"""The content of a customer report, as plain data (no HTML): what the credit manager reads.

Built from the customer's scoring row, the contributions scoring stored, the grade bands and the monthly
history; :mod:`riskml.reporting.html` renders it. Three parts have their own logic here:

* **Factors**: each feature's contribution (log-odds) with the customer's value in its unit.
* **What changed** since a previous review: both dates scored with the same model, so the difference of
  the raw scores is exactly the sum of the differences of the contributions (the base value cancels);
  the features whose contributions moved most explain the change.
* **Statement of specific reasons** (US Regulation B, ECOA): the principal reasons for the decision,
  taken from the reason codes scoring derived from the model's own contributions, each with the
  customer's own figure. Only features the model used can appear: anything else is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskml.explain.reasons import POSITIVE_PREFIX, format_value
from riskml.features.registry import FAMILIES, FeatureSpec
from riskml.reporting.inputs import Contributions

ACTION_TEXT = {
    "increase": "Increase the limit",
    "keep": "Keep the limit",
    "decrease": "Decrease the limit",
    "revoke": "Revoke open terms (cash in advance)",
    "set": "Set a first credit limit (none on file)",
    "collections": "Collections: orders held until everything owed is paid",
}
ADVERSE_ACTIONS = ("decrease", "revoke", "collections")


# bidirectional controls (embeddings, overrides, isolates, marks) and zero-width characters: in a name
# they flip or hide what a heading shows, so they are left out wherever a page displays a text
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def display_text(value: object) -> str:
    """A text as a page shows it: without bidi controls and zero-width characters."""
    return _INVISIBLE.sub("", "" if value is None else str(value))


def money(value: float | None) -> str:
    """An amount with thousands separators and no decimals ("n/a" when missing)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:,.0f}"


def pd_text(value: float | None) -> str:
    """A probability of delinquency as a percentage with two decimals."""
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{100 * value:.2f}%"


def _amount(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def value_text(value: object, spec: FeatureSpec | None) -> str:
    """A feature value in its unit, as a credit manager writes it."""
    if spec is None:
        try:
            return format_value(float(value), "")  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return str(value)
    if spec.kind == "categorical":
        return "n/a" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(v):
        return "n/a"
    if spec.kind == "flag" or spec.unit == "flag":
        return "yes" if v >= 0.5 else "no"
    if spec.unit == "share per month":
        return f"{v:+.0%} a month"
    if spec.unit == "ratio":
        return f"{v:.0%}"
    if spec.unit == "months":
        return f"{v:.0f} month" + ("" if round(v) == 1 else "s")
    if spec.unit == "invoices":
        return f"{v:.0f} invoice" + ("" if round(v) == 1 else "s")
    return format_value(v, spec.unit)


def short_label(name: str) -> str:
    """A compact label for a feature name: ``dbt_avg_3m`` -> ``DBT avg 3m``."""
    words = name.split("_")
    fixed = {"dbt": "DBT", "hwm": "high-water", "dpd": "DPD", "90p": "90+", "pct": "%"}
    return " ".join(fixed.get(w, w) for w in words)


@dataclass(frozen=True)
class Factor:
    """One feature's part in the score of one customer."""

    feature: str
    label: str
    family: str
    heading: str
    value: object
    value_text: str
    contribution: float  # log-odds; > 0 pushes toward delinquency


def factors(contrib: pd.DataFrame, specs: Mapping[str, FeatureSpec]) -> list[Factor]:
    """The customer's factors, largest absolute contribution first."""
    if contrib.empty:
        return []
    c = contrib.assign(_abs=contrib["contribution"].abs()).sort_values("_abs", ascending=False, kind="stable")
    out = []
    for row in c.itertuples(index=False):
        spec = specs.get(row.feature)
        family = spec.family if spec else str(getattr(row, "family", "attributes") or "attributes")
        out.append(Factor(
            feature=row.feature,
            label=short_label(row.feature),
            family=family,
            heading=FAMILIES.get(family, family),
            value=row.value,
            value_text=value_text(row.value, spec),
            contribution=float(row.contribution),
        ))
    return out


def with_attributes(contrib: pd.DataFrame, specs: Mapping[str, FeatureSpec],
                    attributes: Mapping[str, object] | None) -> pd.DataFrame:
    """``contrib`` with the customer's own value of each categorical attribute (industry, country, ...)
    filled in from the customer master: scoring stores no figure for categoricals."""
    if not attributes or contrib.empty:
        return contrib
    cats = [f for f in contrib["feature"] if (s := specs.get(f)) is not None and s.kind == "categorical"
            and f in attributes]
    if not cats:
        return contrib
    out = contrib.copy()
    out["value"] = out["value"].astype("object")
    for f in cats:
        hit = (out["feature"] == f) & out["value"].isna()
        v = attributes[f]
        if hit.any() and v is not None and not (isinstance(v, float) and np.isnan(v)) and v is not pd.NA:
            out.loc[hit, "value"] = display_text(v)
    return out


def waterfall_inputs(contrib: pd.DataFrame, specs: Mapping[str, FeatureSpec],
                     attributes: Mapping[str, object] | None = None) -> tuple[np.ndarray, list[str], list[str]]:
    """(values, data labels, feature names) for the waterfall, in the stored feature order; categorical
    attributes show the customer's value from ``attributes`` (the customer master row)."""
    contrib = with_attributes(contrib, specs, attributes)
    vals = contrib["contribution"].to_numpy("float64")
    data = [value_text(v, specs.get(f)) for f, v in zip(contrib["feature"], contrib["value"], strict=True)]
    names = [short_label(f) for f in contrib["feature"]]
    return vals, data, names


# --------------------------------------------------------------------------------------- reasons
@dataclass(frozen=True)
class Reason:
    """A reason of the scoring output with the feature it cites (when known)."""

    text: str
    feature: str
    heading: str
    favourable: bool


def cited_features(reason_codes: str) -> list[tuple[str, bool]]:
    """The features cited by a ``reason_codes`` string and whether each is favourable (``+``)."""
    out = []
    for code in str(reason_codes or "").split(";"):
        code = code.strip()
        if not code:
            continue
        out.append((code[1:], True) if code.startswith("+") else (code, False))
    return out


def reasons(row: Mapping[str, object], specs: Mapping[str, FeatureSpec]) -> list[Reason]:
    """The plain-language reasons of a scoring row, each paired with the feature it cites."""
    keys = sorted((k for k in row if str(k).startswith("reason_") and str(k)[7:].isdigit()), key=lambda k: int(str(k)[7:]))
    texts = [str(row[k]) for k in keys if str(row[k]).strip()]
    cited = cited_features(str(row.get("reason_codes", "")))
    out = []
    for i, text in enumerate(texts):
        feat, fav = cited[i] if i < len(cited) else ("", text.startswith(POSITIVE_PREFIX))
        spec = specs.get(feat)
        heading = FAMILIES.get(spec.family, spec.family) if spec else ""
        out.append(Reason(text=text.removeprefix(POSITIVE_PREFIX), feature=feat, heading=heading, favourable=fav))
    return out


# ----------------------------------------------------------------------------------- what changed
@dataclass(frozen=True)
class Mover:
    """A feature whose contribution changed between two review dates."""

    feature: str
    label: str
    heading: str
    value_then: str
    value_now: str
    contribution_then: float
    contribution_now: float

    @property
    def delta(self) -> float:
        return self.contribution_now - self.contribution_then


@dataclass(frozen=True)
class Change:
    """The score at the previous review and now, and the factors that moved it."""

    previous_as_of: pd.Timestamp
    available: bool
    note: str = ""
    pd_then: float = float("nan")
    pd_now: float = float("nan")
    grade_then: str = ""
    grade_now: str = ""
    raw_then: float = float("nan")
    raw_now: float = float("nan")
    limit_then: float = float("nan")
    current_limit_then: float = float("nan")
    action_then: str = ""
    movers: tuple[Mover, ...] = ()
    other_delta: float = 0.0  # the summed change of the features not listed

    @property
    def raw_delta(self) -> float:
        return self.raw_now - self.raw_then


def changes_since(
    now_row: Mapping[str, object],
    now_contrib: pd.DataFrame,
    now_base: float,
    prev_row: Mapping[str, object] | None,
    prev_contrib: pd.DataFrame,
    prev_base: float,
    previous_as_of: pd.Timestamp,
    specs: Mapping[str, FeatureSpec],
    n: int = 6,
    min_delta: float = 5e-4,
) -> Change:
    """Score then and now, and the ``n`` features whose contributions moved most (by absolute change;
    moves below ``min_delta`` log-odds are not listed).

    ``raw_now - raw_then`` equals the sum of every feature's change plus the change of the base value
    (zero when both dates were scored with the same model)."""
    if prev_row is None or prev_contrib.empty:
        why = "not a customer yet" if prev_row is None else "not scored then"
        return Change(previous_as_of=previous_as_of, available=False,
                      note=f"No score at {previous_as_of.date()}: {why}.")
    if now_contrib.empty:
        return Change(previous_as_of=previous_as_of, available=False, note="Not scored now.")
    a = prev_contrib.set_index("feature")
    b = now_contrib.set_index("feature")
    feats = list(dict.fromkeys([*b.index, *a.index]))
    c_then = a["contribution"].reindex(feats).fillna(0.0)
    c_now = b["contribution"].reindex(feats).fillna(0.0)
    delta = (c_now - c_then).sort_values(key=np.abs, ascending=False, kind="stable")
    # a factor whose effect did not move (to the third decimal shown) did not move the score
    top = [f for f in delta.index[:n] if abs(delta[f]) >= min_delta]
    movers = []
    for f in top:
        spec = specs.get(f)
        movers.append(Mover(
            feature=f,
            label=short_label(f),
            heading=FAMILIES.get(spec.family, spec.family) if spec else "",
            value_then=value_text(a["value"].get(f), spec) if f in a.index else "n/a",
            value_now=value_text(b["value"].get(f), spec) if f in b.index else "n/a",
            contribution_then=float(c_then[f]),
            contribution_now=float(c_now[f]),
        ))
    return Change(
        previous_as_of=previous_as_of,
        available=True,
        pd_then=float(prev_row.get("pd", np.nan)),  # type: ignore[arg-type]
        pd_now=float(now_row.get("pd", np.nan)),  # type: ignore[arg-type]
        grade_then=str(prev_row.get("grade", "")),
        grade_now=str(now_row.get("grade", "")),
        raw_then=float(prev_base + c_then.sum()),
        raw_now=float(now_base + c_now.sum()),
        limit_then=_amount(prev_row.get("suggested_limit")),
        current_limit_then=_amount(prev_row.get("current_limit")),
        action_then=str(prev_row.get("action", "")),
        movers=tuple(movers),
        other_delta=float(delta.drop(index=top).sum()),
    )


# ---------------------------------------------------------------------- statement of specific reasons
# the part of a reason that compares with other customers (scoring writes "(portfolio median X)",
# "(below the portfolio median X)" or "(now X; portfolio median Y)"): internal, not for the customer
_MEDIAN_NOTE = re.compile(r"(;\s*|\s*\()(?:(?:above|below|at) the )?portfolio median [^;)]*\)")
_PARENTHESES = re.compile(r"\s*\([^)]*\)")
# how scoring words a reason whose figure is missing without a specific text for it
_NO_FIGURE = ": no figure"


@dataclass(frozen=True)
class StatementReason:
    """One reason of the statement: the factor (a feature the model used), the sentence for the
    customer and the customer's own figure (``value_text``; ``measured`` is False when the figure does
    not exist yet: no history behind it)."""

    feature: str
    heading: str
    text: str
    value: object
    value_text: str
    measured: bool = True

    @property
    def figure_in_text(self) -> bool:
        """Whether the sentence already states the customer's figure (else the page adds it)."""
        return not self.measured or self.value_text.lower() in self.text.lower()


@dataclass(frozen=True)
class Statement:
    """A statement of specific reasons for one customer, worded to be sent on request.

    ``kind`` says how the reasons relate to the decision: ``adverse`` (a decrease, revocation or order
    hold: the reasons are the principal reasons for it), ``limiting`` (an increase or no change: the
    factors that held the limit back) or ``favourable`` (no adverse factor: the strengths of the file)."""

    customer_id: str
    customer_name: str
    as_of: pd.Timestamp
    decision: str
    adverse: bool
    reasons: tuple[StatementReason, ...]
    favourable: bool  # no adverse factor: the reasons are the strengths of the file
    past_due_now: float = float("nan")  # amount past due at the as-of date (current delinquency)

    @property
    def kind(self) -> str:
        if self.favourable:
            return "favourable"
        return "adverse" if self.adverse else "limiting"

    def features(self) -> list[str]:
        return [r.feature for r in self.reasons]


def decision_text(row: Mapping[str, object]) -> str:
    """The decision in words a customer understands."""
    action = str(row.get("action", ""))
    cur_f = _amount(row.get("current_limit"))
    new_f = _amount(row.get("suggested_limit"))
    has_limit = np.isfinite(cur_f)
    if action == "revoke":
        text = "We have withdrawn open credit terms: until further review, orders require payment in advance."
    elif action in ("set", "decrease", "increase") and not has_limit and np.isfinite(new_f):
        text = f"We have set a credit limit of {money(new_f)} for your account."
    elif action == "decrease":
        text = f"We have reduced your credit limit from {money(cur_f)} to {money(new_f)}."
    elif action == "increase":
        text = f"We have increased your credit limit from {money(cur_f)} to {money(new_f)}."
    elif action == "keep":
        text = (f"Your credit limit remains {money(cur_f)}." if has_limit
                else "Your account remains on its current terms.")
    else:
        text = "We have reviewed your account."
    if bool(row.get("order_hold", False)):
        text += " New orders are on hold until the account is brought within terms."
    return text


def customer_sentence(reason_text: str) -> str:
    """A reason as written for the customer: the comparison with the portfolio median (internal
    information about other customers) is left out."""
    text = _MEDIAN_NOTE.sub(lambda m: ")" if m.group(1).startswith(";") else "", reason_text.strip())
    return text.rstrip(" .")


def unmeasured_sentence(spec: FeatureSpec | None, feature: str) -> str:
    """The reason when the customer's figure does not exist yet (too little history to measure it):
    in Regulation B's terms, limited credit experience with us."""
    what = _PARENTHESES.sub("", spec.description).strip() if spec else feature.replace("_", " ")
    what = what.split(":")[0] if spec is not None and spec.family == "exposure" else what
    what = what[:1].lower() + what[1:]
    if spec is not None and spec.family == "exposure":  # utilisation needs a limit
        return f"No credit limit is set for your account, so the {what} cannot be measured"
    return f"There is not yet enough payment history with us to measure the {what}"


def statement_of_reasons(
    row: Mapping[str, object],
    contrib: pd.DataFrame,
    specs: Mapping[str, FeatureSpec],
    customer_name: str = "",
    model_features: Sequence[str] | None = None,
    n: int = 4,
    past_due_now: float = float("nan"),
) -> Statement | None:
    """The statement of specific reasons for one scored customer (``None`` when not scored).

    The reasons are the factors cited by scoring's reason codes (the model's own contributions, grouped
    by family and checked against the median), in order, at most ``n`` (Regulation B's commentary: more
    than four reasons is rarely helpful), each with the customer's figure. A cited feature that the model
    did not use (absent from the contributions or from ``model_features``) is never included."""
    if contrib.empty or not bool(row.get("scored", True)):
        return None
    used = set(contrib["feature"])
    if model_features is not None:
        used &= set(model_features)
    values = contrib.set_index("feature")["value"]
    texts = {r.feature: r for r in reasons(row, specs) if r.feature}
    cited = [(f, fav) for f, fav in cited_features(str(row.get("reason_codes", ""))) if f in used]
    favourable = bool(cited) and all(fav for _, fav in cited)
    picked = [(f, fav) for f, fav in cited if fav == favourable][:n]
    out = []
    for f, _ in picked:
        spec = specs.get(f)
        heading = FAMILIES.get(spec.family, spec.family) if spec else f
        value = values.get(f)
        measured = value is not None and not (isinstance(value, float) and np.isnan(value))
        if not measured and (f not in texts or _NO_FIGURE in texts[f].text):
            text = unmeasured_sentence(spec, f)
        elif f in texts:
            text = customer_sentence(texts[f].text)
        else:
            text = spec.render_reason({f: value}) if spec else f"{f}: {value}"
        out.append(StatementReason(feature=f, heading=heading, text=text, value=value,
                                   value_text=value_text(value, spec), measured=measured))
    action = str(row.get("action", ""))
    return Statement(
        customer_id=str(row.get("customer_id", "")),
        customer_name=customer_name,
        as_of=pd.Timestamp(row.get("as_of")),  # type: ignore[arg-type]
        decision=decision_text(row),
        adverse=action in ADVERSE_ACTIONS or bool(row.get("order_hold", False)),
        reasons=tuple(out),
        favourable=favourable,
        past_due_now=float(past_due_now),
    )


# --------------------------------------------------------------------------------- the whole page
@dataclass
class CustomerReport:
    """Everything one customer report shows (images as PNG bytes, rendered by ``html``)."""

    row: dict[str, object]
    name: str
    industry: str
    country: str
    terms_days: float
    band: tuple[float, float] | None
    reasons: list[Reason]
    factors: list[Factor]
    base_value: float
    raw_score: float
    statement: Statement | None
    change: Change | None
    history_summary: dict[str, str] = field(default_factory=dict)
    past_due_now: float = float("nan")
    # statement reasons citing a feature that drifted from the training data: (feature, PSI)
    drifted_reasons: list[tuple[str, float]] = field(default_factory=list)
    # the customer master's values of the categorical attributes the model uses (industry, country, ...)
    attributes: dict[str, object] = field(default_factory=dict)
    waterfall_svg: str = ""  # inline SVG (see riskml.reporting.svg); empty when not drawn
    history_svg: str = ""
    history_note: str = ""
    waterfall_note: str = ""


def band_of(grade: str, bands: pd.DataFrame) -> tuple[float, float] | None:
    """The PD band ``(min_pd, max_pd]`` of ``grade`` from :func:`riskml.scoring.grades.grade_bands`."""
    hit = bands.loc[bands["grade"].astype("str") == str(grade)]
    if hit.empty:
        return None
    return float(hit["min_pd"].iloc[0]), float(hit["max_pd"].iloc[0])


def rationale_steps(rationale: str) -> list[str]:
    """The limit policy's rationale (``step; step; ...``) as a list of steps."""
    return [p.strip() for p in str(rationale or "").split(";") if p.strip()]


def past_due_amount(history: pd.DataFrame | None) -> float:
    """The amount past due at the last period end of a history (NaN without history)."""
    if history is None or not len(history):
        return float("nan")
    if not history["month"].is_monotonic_increasing:
        history = history.sort_values("month", kind="stable")
    cols = ["aging_1_30_amount", "aging_31_60_amount", "aging_61_90_amount", "aging_90p_amount"]
    vals = np.array([history[c].to_numpy("float64")[-1] for c in cols])
    return float(np.where(np.isnan(vals), 0.0, vals).sum())


def history_summary(history: pd.DataFrame) -> dict[str, str]:
    """A few headline figures of the last 12 months of the history (for the text beside the charts)."""
    ordered = history if history["month"].is_monotonic_increasing else history.sort_values("month", kind="stable")
    h = ordered.tail(12)
    paid_v = h["paid_amount"].to_numpy("float64")
    paid = float(np.nansum(paid_v))
    with np.errstate(invalid="ignore"):
        dbt = float(np.nansum(np.nan_to_num(h["dbt"].to_numpy("float64"), nan=0.0) * paid_v) / paid) if paid > 0 \
            else float("nan")
    open_bal = ordered["open_balance"].to_numpy("float64")
    return {
        "sales_12m": money(float(np.nansum(h["sales"].to_numpy("float64")))),
        "paid_12m": money(paid),
        "dbt_12m": "n/a" if not np.isfinite(dbt) else f"{dbt:.0f} days",
        "open_balance": money(float(open_bal[-1])) if len(open_bal) else "n/a",
        "past_due": money(past_due_amount(history)),
    }


def _split(value: object) -> list[str]:
    return [t for t in str(_clean(value)).split("; ") if t]


def override_lines(row: Mapping[str, object]) -> list[str]:
    """The overrides in the customer's scores row (``riskml score --overrides-db``: the ``override_*`` and
    ``policy_*`` columns) as lines for the report: each override that applied (kind, what it granted, who,
    until when), the reasons given, the policy's own decision, and the overrides that no longer apply. Empty for
    a row without overrides (or scores made without ``--overrides-db``)."""
    ids, skipped = _split(row.get("override_ids")), _clean(row.get("override_skipped"))
    if not ids and not skipped:
        return []
    kinds, approvers = _split(row.get("override_kinds")), _split(row.get("override_approver"))
    expires = _split(row.get("override_expires_on"))
    lines = []
    if ids and len(kinds) == len(ids) == len(approvers) == len(expires):
        for i, kind, who, until in zip(ids, kinds, approvers, expires, strict=True):
            if kind == "limit":
                what = f"credit limit {money(_amount(row.get('override_limit')))}"
            elif kind == "action":
                what = ("credit terms kept (the policy's revoke lifted)" if row.get("override_action") == "keep"
                        else "credit terms revoked (cash in advance)")
            else:
                what = ("orders released despite the hold" if bool(row.get("override_hold_release"))
                        else "hold release (no hold to release)")
            end = "no expiry" if until == "none" else f"until {until}"
            lines.append(f"Override #{i}: {what}; granted by {display_text(who)}, {end}.")
    elif ids:
        lines.append(f"Overrides #{', #'.join(ids)} ({_clean(row.get('override_kinds'))}) by "
                     f"{display_text(row.get('override_approver'))}.")
    if ids and (why := _clean(row.get("override_reason"))):
        lines.append(f"Reasons given: {display_text(why)}.")
    if ids:
        held = "orders held" if bool(row.get("policy_order_hold")) else "no hold"
        lines.append(f"The policy alone: suggested limit {money(_amount(row.get('policy_suggested_limit')))}, action "
                     f"{_clean(row.get('policy_action')) or 'n/a'}, {held}.")
    if skipped:
        lines.append(f"Not applied: {display_text(skipped)}.")
    return lines


def build_customer_report(
    row: Mapping[str, object],
    customer: Mapping[str, object],
    contributions: Contributions,
    specs: Mapping[str, FeatureSpec],
    bands: pd.DataFrame,
    history: pd.DataFrame | None = None,
    previous: tuple[pd.DataFrame, Contributions, pd.Timestamp] | None = None,
    model_features: Sequence[str] | None = None,
    n_movers: int = 6,
    drifted: Mapping[str, float] | None = None,
) -> CustomerReport:
    """The content of one customer's report (no figures yet: see :func:`add_figures`). ``drifted`` maps
    the features whose population drifted from the training data to their PSI: a statement citing one
    is flagged for the credit manager."""
    cid = str(row["customer_id"])
    attributes = {f: customer[f] for f, spec in specs.items() if spec.kind == "categorical" and f in customer}
    contrib = with_attributes(contributions.of(cid), specs, attributes)
    base = float(contributions.base.get(cid, np.nan))
    raw = base + float(contrib["contribution"].sum()) if not contrib.empty else float("nan")
    name = display_text(customer.get("name") or "") if customer.get("name") is not None else ""
    name = "" if name in ("nan", "<NA>") else name.strip()
    change = None
    if previous is not None:
        prev_scores, prev_contrib, prev_as_of = previous
        hit = prev_scores.loc[prev_scores["customer_id"] == cid]
        prev_row = hit.iloc[0].to_dict() if len(hit) else None
        change = changes_since(
            row, contrib, base, prev_row, prev_contrib.of(cid),
            float(prev_contrib.base.get(cid, np.nan)), prev_as_of, specs, n=n_movers,
        )
    terms = customer.get("payment_terms_days")
    past_due = past_due_amount(history)
    statement = statement_of_reasons(row, contrib, specs, name or cid, model_features, past_due_now=past_due)
    drifted = drifted or {}
    flagged = [(f, float(drifted[f])) for f in (statement.features() if statement else []) if f in drifted]
    return CustomerReport(
        row=dict(row),
        name=name or display_text(cid),
        industry=display_text(_clean(customer.get("industry"))),
        country=display_text(_clean(customer.get("country"))),
        terms_days=float(terms) if terms is not None and pd.notna(terms) else float("nan"),  # type: ignore[arg-type]
        band=band_of(str(row.get("grade", "")), bands),
        reasons=reasons(row, specs),
        factors=factors(contrib, specs),
        base_value=base,
        raw_score=raw,
        statement=statement,
        change=change,
        history_summary=history_summary(history) if history is not None and len(history) else {},
        past_due_now=past_due,
        drifted_reasons=flagged,
        attributes=attributes,
    )


def _clean(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return ""
    return str(v)


def add_figures(report: CustomerReport, contrib: pd.DataFrame, specs: Mapping[str, FeatureSpec],
                history: pd.DataFrame | None, max_display: int = 10) -> CustomerReport:
    """Draw the waterfall of the score (from ``contrib``, this customer's stored contributions) and the
    history charts of ``report`` as inline SVG, in place; returns it. Figures that are not finite (an
    overflowing amount, a broken contribution) leave a note on the page instead of a chart."""
    from riskml.reporting.history import dbt_trend
    from riskml.reporting.svg import history_svg, waterfall_svg

    if not contrib.empty and np.isfinite(report.base_value):
        vals, data, names = waterfall_inputs(contrib, specs, report.attributes)
        if np.isfinite(vals).all():
            report.waterfall_svg = waterfall_svg(vals, report.base_value, data, names, max_display=max_display,
                                                 label=f"Waterfall of the score of {report.name}")
        else:
            report.waterfall_note = "Some contributions are not finite numbers: the waterfall cannot be drawn."
    if history is None or not has_activity(history):
        report.history_note = "No invoices or payments on record in the period shown: no payment history to chart."
    else:
        report.history_svg = history_svg(history, dbt_trend(history), report.terms_days,
                                         label=f"Monthly payment history of {report.name}")
    return report


def has_activity(history: pd.DataFrame) -> bool:
    """Whether a history holds anything to chart (sales, payments or an open balance)."""
    return bool(history["sales"].sum() > 0 or history["paid_amount"].sum() > 0
                or history["open_balance"].fillna(0.0).sum() > 0)
