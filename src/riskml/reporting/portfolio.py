"""The content of the portfolio report, as tables (no HTML): what the head of credit reads.

From the scoring output, the features at the same date (for exposure and the age of each limit review)
and the model summary: customers and exposure by grade, the limit changes suggested (count and amount,
increases vs decreases), order holds, reviews due with the oldest reviews first, personas, the model and
its test metrics, and the population stability of the score and of every model feature.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskml.features.registry import FAMILIES, FeatureSpec
from riskml.reporting.inputs import ModelSummary
from riskml.reporting.psi import DRIFTED, MODERATE, BinnedReference, psi_table, reference_psi


@dataclass
class PortfolioReport:
    """Everything the portfolio report shows; tables are DataFrames, figures PNG bytes."""

    as_of: pd.Timestamp
    n_customers: int
    n_scored: int
    total_exposure: float
    by_grade: pd.DataFrame
    limit_changes: pd.DataFrame
    holds: pd.DataFrame
    hold_reasons: pd.DataFrame
    reviews: pd.DataFrame
    review_reasons: pd.DataFrame
    personas: pd.DataFrame
    unscored: pd.DataFrame
    model: ModelSummary
    model_versions: list[str]
    stability: pd.DataFrame
    score_distribution: pd.DataFrame | None = None
    data_fingerprints: list[str] = field(default_factory=list)
    previous_as_of: pd.Timestamp | None = None
    grade_moves: pd.DataFrame | None = None
    grade_png: bytes | None = None
    score_png: bytes | None = None

    @property
    def score_psi(self) -> float:
        """PSI of the score against training (NaN when the model has no score reference)."""
        hit = self.stability.loc[self.stability["variable"] == "score (PD)", "psi"]
        return float(hit.iloc[0]) if len(hit) else float("nan")

    @property
    def score_psi_status(self) -> str:
        """``stable``, ``moderate``, ``drifted`` or ``n/a`` (the stability table's reading of the score)."""
        hit = self.stability.loc[self.stability["variable"] == "score (PD)", "status"]
        return str(hit.iloc[0]) if len(hit) else "n/a"

    @property
    def drifted_features(self) -> list[str]:
        """The features (not the score) whose PSI is at or above the drift threshold."""
        return [v for v in self.drifted if v != "score (PD)"]

    @property
    def drifted(self) -> list[str]:
        """The variables whose PSI is at or above the drift threshold."""
        return self.stability.loc[self.stability["status"] == "drifted", "variable"].tolist()


def _exposure(scores: pd.DataFrame, features: pd.DataFrame | None) -> pd.Series:
    """Exposure (open receivables + open orders) per scored row, 0 where unknown."""
    if features is None or "exposure" not in features:
        return pd.Series(0.0, index=scores.index)
    f = features.set_index(features["customer_id"].astype("str"))["exposure"]
    return scores["customer_id"].map(f).astype("float64").fillna(0.0)


def by_grade(scores: pd.DataFrame, bands: pd.DataFrame, exposure: pd.Series) -> pd.DataFrame:
    """Customers, exposure, limits and average PD per grade, best grade first, every grade of the
    scale listed (zero rows too) and an ``unscored`` row when some customers could not be scored."""
    s = scores.assign(exposure=exposure)
    g = s.groupby("grade", sort=False).agg(
        customers=("customer_id", "size"),
        exposure=("exposure", "sum"),
        current_limit=("current_limit", "sum"),
        suggested_limit=("suggested_limit", "sum"),
        avg_pd=("pd", "mean"),
    )
    order = list(bands["grade"].astype("str"))
    extra = [x for x in g.index if x not in order]
    out = g.reindex(order + extra)
    out[["customers", "exposure", "current_limit", "suggested_limit"]] = out[
        ["customers", "exposure", "current_limit", "suggested_limit"]].fillna(0.0)
    out["customers"] = out["customers"].astype("int64")
    out = out.reset_index().rename(columns={"index": "grade"})
    b = bands.assign(grade=bands["grade"].astype("str")).set_index("grade")
    out["min_pd"] = out["grade"].map(b["min_pd"])
    out["max_pd"] = out["grade"].map(b["max_pd"])
    out["grade"] = out["grade"].replace({"": "unscored"})
    n = max(int(out["customers"].sum()), 1)
    out["share"] = out["customers"] / n
    tot = out["exposure"].sum()
    out["exposure_share"] = out["exposure"] / tot if tot > 0 else 0.0
    return out[["grade", "min_pd", "max_pd", "customers", "share", "exposure", "exposure_share",
                "current_limit", "suggested_limit", "avg_pd"]]


LIMIT_ACTIONS = ("increase", "decrease", "revoke", "set", "keep", "collections")


def limit_changes(scores: pd.DataFrame) -> pd.DataFrame:
    """Count and total amount of the suggested changes per action (increase, decrease, revoke, set,
    keep) plus the total. Amounts are the sum of ``limit_change``; for ``set`` (no limit on file) the
    limits to set, so the total is the change of the sum of limits, a missing limit counting as 0."""
    change = scores["limit_change"].astype("float64")
    change = change.where(change.notna() | (scores["action"] != "set"), scores["suggested_limit"]).fillna(0.0)
    rows = []
    for action in LIMIT_ACTIONS:
        sel = scores["action"] == action
        if action == "set" and not sel.any():
            continue
        rows.append({"action": action, "customers": int(sel.sum()), "amount": float(change[sel].sum())})
    other = ~scores["action"].isin(LIMIT_ACTIONS)
    if other.any():
        rows.append({"action": "other / not scored", "customers": int(other.sum()),
                     "amount": float(change[other].sum())})
    rows.append({"action": "total", "customers": int(len(scores)), "amount": float(change.sum())})
    return pd.DataFrame(rows)


# the kinds of hold and review reasons written by riskml.scoring.actions (matched by how a reason starts)
REASON_KINDS = (
    ("oldest open invoice", "oldest open invoice past due beyond tolerance"),
    ("past due:", "undisputed invoices past due beyond tolerance"),
    ("over limit:", "exposure over the limit"),
    ("collections track", "collections track: seriously past due"),
    ("scheduled review", "routine review from the review calendar"),
    ("over the limit at the last two", "over the limit two month ends running"),
    ("exposure", "exposure over the limit"),
    ("credit terms revoked", "credit terms revoked"),
    ("limit not reviewed", "limit not reviewed within the policy period"),
    ("grade moved", "grade moved since the previous score"),
    ("dbt jumped", "DBT jumped"),
    ("open balance reached", "open balance exceeded the limit in the last 12 months"),
    ("could not be scored", "could not be scored"),
)


# scoring's hold and review codes as the portfolio page names them (riskml.scoring.actions describes
# them for developers; a code not listed here is shown with that description)
CODE_LABELS = {
    "past_due": "undisputed invoices past due beyond tolerance",
    "over_limit": "exposure over the limit",
    "revoked": "credit terms revoked (cash in advance)",
    "collections": "collections track: seriously past due",
    "not_scored": "could not be scored",
    "grade_down": "grade worsened since the previous score",
    "dbt_jump": "DBT jumped",
    "revoke": "revocation of open terms suggested: to confirm",
    "limit_pending": "over the limit but within a suggested increase",
    "no_limit_exposed": "no limit on file, exposure above the suggested limit",
    "grade_up": "grade improved since the previous score",
    "no_limit": "no limit on file: set the suggested one",
    "over_utilised": "over the limit two month ends running",
    "scheduled": "routine review from the review calendar",
}


def reason_kind(text: str) -> str:
    """The kind of a hold or review reason, without the customer's figures: a known kind by how the
    reason starts, else the words before the first figure."""
    t = text.strip()
    low = t.lower()
    for start, label in REASON_KINDS:
        if low.startswith(start):
            return label
    m = re.match(r"[^0-9:(]*", t)
    head = (m.group(0) if m else t).strip(" ,;-")
    return head or t


def _split_reasons(s: pd.Series) -> pd.DataFrame:
    """Customers per reason kind in ``; ``-separated reason strings (a customer counts once per kind)."""
    kinds = s.astype("str").map(lambda x: sorted({reason_kind(p) for p in x.split(";") if p.strip() and p != "nan"}))
    parts = kinds.explode().dropna()
    counts = parts.value_counts()
    return pd.DataFrame({"reason": counts.index.astype("str"), "customers": counts.to_numpy("int64")})


def _count_codes(codes: pd.Series, labels: Mapping[str, str]) -> pd.DataFrame:
    """Customers per code of ``;``-separated code strings (scoring's ``hold_codes`` / ``review_codes``),
    in the order of ``labels`` (code -> description), most customers first within it."""
    parts = codes.astype("str").str.split(";").explode().str.strip()
    counts = parts[parts.ne("") & parts.ne("nan")].value_counts()
    order = sorted(counts.index, key=lambda c: (-int(counts[c]), list(labels).index(c) if c in labels else len(labels)))
    return pd.DataFrame({"reason": [CODE_LABELS.get(c, labels.get(c, c)) for c in order], "code": order,
                         "customers": [int(counts[c]) for c in order]})


def _reason_counts(frame: pd.DataFrame, codes_col: str, text_col: str, labels: Mapping[str, str]) -> pd.DataFrame:
    """Counts per reason: from scoring's codes when the scores have them, else from the reason texts."""
    if codes_col in frame and frame[codes_col].astype("str").str.strip().ne("").any():
        return _count_codes(frame[codes_col], labels)
    out = _split_reasons(frame[text_col])
    return out.assign(code="")[["reason", "code", "customers"]]


def holds(scores: pd.DataFrame, exposure: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers on order hold, largest exposure first, and the count per hold reason."""
    from riskml.scoring.actions import HOLD_CODES

    s = scores.assign(exposure=exposure)
    h = s.loc[s["order_hold"]].sort_values(["exposure", "customer_id"], ascending=[False, True], kind="stable")
    cols = ["customer_id", "name", "grade", "pd", "exposure", "current_limit", "action", "hold_reason"]
    return h[[c for c in cols if c in h]].reset_index(drop=True), _reason_counts(h, "hold_codes", "hold_reason", HOLD_CODES)


def reviews(scores: pd.DataFrame, features: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers whose review is due, the oldest review first (months since the last review, from the
    features: onboarding counts as a review), and the count per review reason."""
    r = scores.loc[scores["review_due"]].copy()
    if features is not None and "months_since_review" in features:
        m = features.set_index(features["customer_id"].astype("str"))["months_since_review"]
        r["months_since_review"] = r["customer_id"].map(m).astype("float64")
    else:
        r["months_since_review"] = np.nan
    r = r.sort_values(["months_since_review", "customer_id"], ascending=[False, True], na_position="first",
                      kind="stable")
    cols = ["customer_id", "name", "grade", "pd", "months_since_review", "review_priority", "current_limit",
            "suggested_limit", "action", "review_reason"]
    from riskml.scoring.actions import REVIEW_CODES

    return (r[[c for c in cols if c in r]].reset_index(drop=True),
            _reason_counts(r, "review_codes", "review_reason", REVIEW_CODES))


def personas(scores: pd.DataFrame, exposure: pd.Series) -> pd.DataFrame:
    """Customers, exposure and average PD per persona, largest group first."""
    s = scores.assign(exposure=exposure, persona=scores["persona"].replace({"": "unassigned"}))
    g = s.groupby("persona").agg(customers=("customer_id", "size"), exposure=("exposure", "sum"),
                                 avg_pd=("pd", "mean"), holds=("order_hold", "sum"))
    g["share"] = g["customers"] / max(len(s), 1)
    return g.sort_values(["customers"], ascending=False, kind="stable").reset_index()


def score_stability(scores: pd.DataFrame, ref: BinnedReference | None) -> tuple[float, pd.DataFrame | None]:
    """PSI of the scored PDs against the training score distribution, and the shares per bin."""
    if ref is None:
        return float("nan"), None
    pds = scores.loc[scores["scored"], "pd"]
    value = reference_psi(ref, pds)
    cuts = list(ref.cuts)
    labels = ([f"<= {100 * cuts[0]:.2g}%"] if cuts else ["all"]) + [
        f"{100 * lo:.2g}-{100 * hi:.2g}%" for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)
    ] + ([f"> {100 * cuts[-1]:.2g}%"] if cuts else []) + ["missing"]
    dist = pd.DataFrame({"bin": labels, "training": ref.expected_shares(), "now": ref.actual_shares(pds)})
    return value, dist


def stability(scores: pd.DataFrame, features: pd.DataFrame | None, model: ModelSummary,
              moderate: float = MODERATE, drifted: float = DRIFTED,
              specs: Mapping[str, FeatureSpec] | None = None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The PSI table (score first, then every feature with a training reference, largest first), with
    each feature's family heading and description from ``specs`` (the feature registry)."""
    score_psi, dist = score_stability(scores, model.score_reference)
    rows = []
    if model.score_reference is not None:
        from riskml.reporting.psi import psi_label

        pds = scores.loc[scores["scored"], "pd"]
        rows.append(pd.DataFrame([{
            "variable": "score (PD)", "psi": score_psi, "status": psi_label(score_psi, moderate, drifted),
            "n": int(len(pds)), "missing_share_train": float(model.score_reference.expected_shares()[-1]),
            "missing_share_now": float(pds.isna().mean()) if len(pds) else float("nan"),
        }]))
    if model.feature_references:
        scored_ids = set(scores.loc[scores["scored"], "customer_id"])
        cur = features if features is not None else pd.DataFrame()
        if "customer_id" in cur:
            cur = cur.loc[cur["customer_id"].astype("str").isin(scored_ids)]
        rows.append(psi_table(model.feature_references, cur, moderate, drifted))
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["variable", "psi", "status", "n", "missing_share_train", "missing_share_now"])
    specs = specs or {}
    table["heading"] = [("Model score" if v == "score (PD)" else
                         FAMILIES.get(specs[v].family, specs[v].family) if v in specs else "") for v in table["variable"]]
    table["description"] = [("Probability of delinquency given by the model" if v == "score (PD)" else
                             specs[v].description if v in specs else "") for v in table["variable"]]
    return table, dist


def grade_moves(scores: pd.DataFrame, previous: pd.DataFrame, bands: pd.DataFrame) -> pd.DataFrame:
    """How many customers moved up, down or stayed, from the previous scoring to this one."""
    from riskml.scoring.grades import notches

    m = scores[["customer_id", "grade"]].merge(previous[["customer_id", "grade"]], on="customer_id",
                                               how="left", suffixes=("", "_then"))
    d = notches(m["grade_then"].fillna("").to_numpy(), m["grade"].to_numpy(), _scale_from_bands(bands))
    labels = np.where(np.isnan(d), "new or unscored", np.where(d > 0, "worse", np.where(d < 0, "better", "same")))
    counts = pd.Series(labels).value_counts()
    order = ["better", "same", "worse", "new or unscored"]
    return pd.DataFrame({"move": order, "customers": [int(counts.get(k, 0)) for k in order]})


def _scale_from_bands(bands: pd.DataFrame) -> list:
    from riskml.config import Grade

    return [Grade(grade=str(g), max_pd=float(m)) for g, m in zip(bands["grade"], bands["max_pd"], strict=True)]


def build_portfolio_report(
    scores: pd.DataFrame,
    bands: pd.DataFrame,
    model: ModelSummary,
    features: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    previous: tuple[pd.DataFrame, pd.Timestamp] | None = None,
    figures: bool = True,
    specs: Mapping[str, FeatureSpec] | None = None,
) -> PortfolioReport:
    """The portfolio report's content from prepared scores (:func:`~riskml.reporting.inputs.prepare_scores`)."""
    s = scores.copy()
    if customers is not None and "name" in customers:
        names = customers.set_index(customers["customer_id"].astype("str"))["name"]
        s["name"] = s["customer_id"].map(names).astype("object").where(lambda x: x.notna(), "").astype("str")
    exposure = _exposure(s, features)
    grade_tab = by_grade(s, bands, exposure)
    hold_tab, hold_reasons = holds(s, exposure)
    review_tab, review_reasons = reviews(s, features)
    stab, dist = stability(s, features, model, specs=specs)
    unscored = s.loc[~s["scored"], ["customer_id", "score_error"]].reset_index(drop=True)
    report = PortfolioReport(
        as_of=pd.Timestamp(s["as_of"].iloc[0]) if len(s) else pd.NaT,
        n_customers=int(len(s)),
        n_scored=int(s["scored"].sum()),
        total_exposure=float(exposure.sum()),
        by_grade=grade_tab,
        limit_changes=limit_changes(s),
        holds=hold_tab,
        hold_reasons=hold_reasons,
        reviews=review_tab,
        review_reasons=review_reasons,
        personas=personas(s, exposure),
        unscored=unscored,
        model=model,
        model_versions=sorted(set(s["model_version"]) - {""}),
        stability=stab,
        score_distribution=dist,
        data_fingerprints=sorted(set(s["data_fingerprint"]) - {""}),
    )
    if previous is not None:
        prev_scores, prev_as_of = previous
        report.previous_as_of = prev_as_of
        report.grade_moves = grade_moves(s, prev_scores, bands)
    if figures:
        from riskml.reporting.plots import distribution_png, grade_distribution_png

        g = grade_tab
        report.grade_png = grade_distribution_png(list(g["grade"]), list(g["customers"]), list(g["exposure"]))
        if dist is not None:
            report.score_png = distribution_png(list(dist["bin"]), list(dist["training"]), list(dist["now"]),
                                                f"PD distribution: {model.reference_label} vs now")
    return report
