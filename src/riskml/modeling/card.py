"""The model card: one markdown page per model version (SR 11-7 style documentation of purpose, data,
label, performance against simpler models, calibration, limitations and the promotion decision)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from riskml.config import TrainConfig
from riskml.modeling.labels import STATUS_WORDS
from riskml.modeling.results import TrainResult

MODEL_LABELS = {"lightgbm": "LightGBM (this model)", "logistic": "Logistic benchmark", "rule": "Rule"}


def _fmt(v: Any, digits: int = 4) -> str:
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        if not np.isfinite(v):
            return "n/a"
        return f"{v:,.0f}" if float(v).is_integer() and abs(v) >= 1 else f"{v:.{digits}f}"
    if isinstance(v, pd.Timestamp):
        return str(v.date())
    return str(v).replace("|", "/")


def markdown_table(df: pd.DataFrame, digits: int = 4) -> str:
    """A pipe table (no extra dependency); integers without decimals, NaN as n/a."""
    cols = [str(c).replace("|", "/") for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    columns = [df[c].tolist() for c in df.columns]
    for row in zip(*columns, strict=True):
        lines.append("| " + " | ".join(_fmt(v, digits) for v in row) + " |")
    return "\n".join(lines)


def metrics_frame(result: TrainResult, rule_feature: str) -> pd.DataFrame:
    rows = []
    for name, m in result.test_metrics.items():
        label = MODEL_LABELS[name] + (f" ({rule_feature} as the score)" if name == "rule" else "")
        rows.append({"model": label, "ROC-AUC": m["auc"], "Gini": m["gini"], "KS": m["ks"], "PR-AUC": m["pr_auc"],
                     "Brier": m["brier"], "log loss": m["log_loss"], "capture top 10%": m["capture_top10"],
                     "lift top 10%": m["lift_top10"]})
    return pd.DataFrame(rows)


def history_caveat(result: TrainResult) -> str:
    """A limitation line: how much ledger history the training snapshots had, against the test window's."""
    first = pd.Timestamp(result.data.ledger_window[0])
    if not result.split.train_dates or not result.split.oot_dates or pd.isna(first):
        return ""

    def months(d: pd.Timestamp) -> int:
        return round((d - first).days / 30.4375)

    lo, hi = months(result.split.train_dates[0]), months(result.split.train_dates[-1])
    oot = months(result.split.oot_dates[-1])
    if oot <= hi:
        return ""
    return (f"- The ledger starts on {first.date()}: training snapshots see {lo} to {hi} months of it, the test "
            f"window up to {oot} and scoring at the ledger's end more. Features that count all history "
            "(history_months, invoices_total) are then beyond their training range, and 12-month windows were "
            "partly empty in training.\n")


def comparison_text(result: TrainResult, rule_feature: str) -> str:
    """One sentence per yardstick: the AUC gain and its customer-bootstrap interval."""
    if not result.comparisons:
        return "AUC differences were not bootstrapped (auc_bootstrap = 0)."
    names = {"logistic": "the logistic benchmark", "rule": f"the rule ({rule_feature})"}
    parts = []
    for other, c in result.comparisons.items():
        parts.append(f"over {names.get(other, other)} {c['diff']:+.4f} (95% interval {c['lo']:+.4f} to "
                     f"{c['hi']:+.4f}; not better in {c['share_not_better']:.1%} of {int(c['n_boot'])} replicates)")
    return ("AUC gain of this model on the same test rows, customers resampled with replacement: "
            + "; ".join(parts) + ".")


# the issue's target for the calibration per persona: mean PD within this of the observed rate
PERSONA_GAP_TARGET = 0.03


def persona_calibration_text(result: TrainResult) -> str:
    """The calibration per persona of the test window as a markdown table with a one-line verdict
    ("" when it was not computed). A persona is within the target when its gap is at most 3 points **or**
    its mean PD lies inside the 95% Wilson interval of its observed rate (a small group's gap can be
    chance); the raw gap is always shown."""
    pc = result.persona_calibration
    if pc is None or not len(pc):
        return ""
    from riskml.modeling.metrics import wilson_interval

    lo, hi = wilson_interval(pc["events"], pc["rows"])
    within = (pc["gap"].abs() <= PERSONA_GAP_TARGET + 1e-12) | ((pc["mean_pd"] >= lo) & (pc["mean_pd"] <= hi))
    table = pc.assign(**{"observed 95% interval": [f"{a:.2%} to {b:.2%}" for a, b in zip(lo, hi, strict=True)],
                         "within target": within})
    table = table.drop(columns=[c for c in ("observed_lo", "observed_hi", "within_target") if c in table])
    table = table.rename(columns={
        "group": "persona", "mean_pd": "mean PD",
        "observed_rate": "observed", "gap": "gap (PD - observed)", "gap_se": "binomial SE"})
    worst = pc.loc[pc["gap"].abs().idxmax()]
    seg = getattr(result.model, "segment_calibrator_", None)
    how = ("" if seg is None else " The PD includes the calibration by persona fitted on the validation window "
           "(log-odds shifts: " + ", ".join(f"{k} {v:+.2f}" for k, v in seg.offsets.items()) + ").")
    return (f"By collector persona (the scoring rules applied to the test rows; target: mean PD within "
            f"{PERSONA_GAP_TARGET * 100:.0f} points of the observed rate, or inside the 95% Wilson interval of the "
            f"observed rate where the group is too small for 3 points to be measurable). {int(within.sum())} of "
            f"{len(pc)} personas within the target. Largest gap: {worst['group']} "
            f"({worst['mean_pd']:.2%} predicted vs {worst['observed_rate']:.2%} observed on {int(worst['rows']):,} "
            f"rows).{how}\n\n" + markdown_table(table) + _before_text(result))


def _before_text(result: TrainResult) -> str:
    """One line per persona before the calibration by persona ("" when there is none)."""
    pb = getattr(result, "persona_calibration_before", None)
    if pb is None or not len(pb):
        return ""
    parts = [f"{r['group']} {r['mean_pd']:.1%} vs {r['observed_rate']:.1%} ({int(r['rows']):,} rows, "
             f"{'within' if r['within_target'] else 'outside'})" for _, r in pb.iterrows()]
    return ("\n\nBefore the calibration by persona (the model's own calibrator alone, personas from that PD; "
            f"largest gap {pb['gap'].abs().max() * 100:.1f} points): " + "; ".join(parts) + ".")


def model_card(result: TrainResult, config: TrainConfig, context: dict[str, Any]) -> str:
    """Markdown model card. ``context`` carries what is known only at logging time: ``model_name``,
    ``model_version``, ``run_id``, ``fingerprint``, ``row_counts``, ``decision`` and ``decision_reason``."""
    m = result.test_metrics["lightgbm"]
    model = result.model
    cal = result.calibration_on_test
    counts = context.get("row_counts", {})
    excluded = ", ".join(f"{v:,} {STATUS_WORDS.get(k, k)}" for k, v in result.data.status_counts.items()
                         if k != "labeled") or "none"
    top = result.importance.head(10)
    sections = [
        f"# Model card: {context.get('model_name', config.model_name)} version {context.get('model_version', '?')}",
        f"MLflow run `{context.get('run_id', '?')}`; ledger fingerprint `{context.get('fingerprint', '?')}` "
        f"({', '.join(f'{k} {v:,}' for k, v in counts.items() if v)}); ledger dates "
        f"{result.data.ledger_window[0]} to {result.data.ledger_window[1]}.",
        "## Intended use",
        f"Probability that an existing B2B trade-credit customer becomes seriously delinquent within the next "
        f"{config.label.horizon_months} months (definition below), as of a month end, from the company's own "
        "accounts-receivable ledger. It feeds risk grades on the PD master scale, suggested credit limits, order "
        "holds, review priorities and collector personas, always with reason codes, for a credit manager who "
        "takes the decision.",
        "## Out-of-scope use",
        "- Consumer credit, or any decision that must rest on a validated bureau score alone.\n"
        "- Customers already delinquent at the as-of date (excluded from training: that is a collections "
        "decision, not a prediction).\n"
        "- New customers with no payment history: the model sees only a thin file; use outside data.\n"
        "- Another company's ledger, another horizon or another delinquency definition without retraining.\n"
        "- Automatic adverse action without the reason codes and a human review (Regulation B requires "
        "specific reasons).",
        "## Label definition",
        result.data.label_definition,
        f"Labels from: {result.data.label_source}. Snapshots not labeled: {excluded}.",
        "## Data and split",
        result.split.description,
        markdown_table(result.split_summary),
        f"Features: {len(model.feature_names_)} ({len(result.data.monotone)} with a monotone constraint from the "
        f"feature registry, all verified after training on {result.monotone_checked} features); best iteration "
        f"{model.best_iteration_}.",
        "Most influential features on the test window (mean absolute SHAP value, log-odds):",
        markdown_table(pd.DataFrame({"feature": top.index, "mean abs SHAP": top.to_numpy()})),
        "## Performance on the out-of-time test window",
        markdown_table(metrics_frame(result, config.rule_feature)),
        f"Test window: {int(m['rows']):,} snapshots, {int(m['events']):,} delinquent "
        f"(event rate {m['event_rate']:.2%}); AUC standard error about {m['auc_se']:.3f} (Hanley-McNeil).",
        comparison_text(result, config.rule_feature),
        "## Calibration",
        f"Method: **{model.calibration_method_}**, chosen on the validation window by out-of-fold log loss "
        + ("(" + "; ".join(f"{k}: log loss {v['log_loss']:.4f}, Brier {v['brier']:.4f}"
                           for k, v in model.calibration_scores_.items()) + ")" if model.calibration_scores_ else "")
        + ". On the test window: "
        + "; ".join(f"{k}: log loss {v['log_loss']:.4f}, Brier {v['brier']:.4f}" for k, v in cal.items()) + ".",
        f"Mean predicted PD {m['mean_pd']:.2%} vs observed {m['event_rate']:.2%}. By decile of predicted PD:",
        markdown_table(result.calibration_table),
        *([text] if (text := persona_calibration_text(result)) else []),
        "## Lift",
        markdown_table(result.lift_table, 3),
        "## Promotion",
        f"Gate: test AUC >= {config.promotion.min_auc}, Brier <= {config.promotion.max_brier}, and not more than "
        f"{config.promotion.auc_tolerance} AUC below the current champion re-scored on this test window. "
        f"Decision: **{context.get('decision', 'not evaluated')}**. {context.get('decision_reason', '')}",
        "## Limitations",
        "- The test window is the latest labeled months only; performance in another economic period may differ "
        "(monitor PSI of features and scores against the reference stored with the model).\n"
        "- Validation and test share the same period (different customers): the calibrator is fit on the most "
        "recent labeled period, so drift after it is not measured here.\n"
        "- Snapshots in the gap between training and the out-of-time window are not used, to keep label windows "
        "apart; the most recent months have no label yet (censored).\n"
        + history_caveat(result) +
        "- Monotone directions are declared in the feature registry and verified on a sample grid, not proven.\n"
        "- Reason codes are TreeSHAP contributions in log-odds relative to the average prediction, grouped by "
        "family; they explain the model, not causation.\n"
        "- Strategic late payers (strong customers stretching terms) are hard cases for any DBT-based view.",
    ]
    return "\n\n".join(sections) + "\n"


# ----------------------------------------------------------------------------- docs/model.md from a run
# docs/model.md holds these sections of a run's model card between the markers, refreshed by
# `python -m riskml.modeling.card CARD docs/model.md` (make model-doc), so its figures cannot drift
DOC_SECTIONS = ("Data and split", "Performance on the out-of-time test window", "Calibration")
DOC_BEGIN = "<!-- model-card:begin (generated from a run's model_card.md by `make model-doc`; do not edit) -->"
DOC_END = "<!-- model-card:end -->"


def card_sections(card: str, names: tuple[str, ...] = DOC_SECTIONS) -> str:
    """The ``## NAME`` sections of a model card, in card order, as ``###`` sections of a document."""
    parts = re.split(r"^## ", card, flags=re.M)
    found = {}
    for part in parts[1:]:
        title, _, body = part.partition("\n")
        if title.strip() in names:
            found[title.strip()] = body.strip()
    missing = [n for n in names if n not in found]
    if missing:
        raise ValueError(f"the model card has no section(s) {missing}; is it a riskml model card?")
    return "\n\n".join(f"### {n}\n\n{found[n]}" for n in names)


def refresh_doc(doc: str, card: str, source: str = "") -> str:
    """``doc`` with the text between :data:`DOC_BEGIN` and :data:`DOC_END` replaced by the card's sections
    (``source`` names the card, for the reader)."""
    if doc.count(DOC_BEGIN) != 1 or doc.count(DOC_END) != 1 or doc.index(DOC_BEGIN) > doc.index(DOC_END):
        raise ValueError("the document must hold the model-card markers once each, begin before end")
    head, rest = doc.split(DOC_BEGIN)
    _, tail = rest.split(DOC_END)
    first = card.splitlines()[0].lstrip("# ").strip() if card.strip() else ""
    note = f"_From {first}" + (f" ({source})" if source else "") + "._\n\n" if first else ""
    return f"{head}{DOC_BEGIN}\n{note}{card_sections(card)}\n{DOC_END}{tail}"


def main(argv: list[str] | None = None) -> None:
    """``python -m riskml.modeling.card CARD [DOC]``: refresh DOC (default docs/model.md) from CARD."""
    import sys
    from pathlib import Path

    from riskml.io import write_text

    args = sys.argv[1:] if argv is None else argv
    if not args or len(args) > 2:
        raise SystemExit("usage: python -m riskml.modeling.card MODEL_CARD.md [docs/model.md]")
    card, doc = Path(args[0]), Path(args[1] if len(args) > 1 else "docs/model.md")
    write_text(refresh_doc(doc.read_text(encoding="utf-8"), card.read_text(encoding="utf-8")), doc)
    print(f"wrote {doc} from {card}")


if __name__ == "__main__":
    main()
