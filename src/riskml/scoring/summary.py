"""The run summary of a scoring run as the terminal shows it: one table and a few lines, written once for
both engines (``riskml score`` and ``riskml score --engine spark`` print exactly this).

:func:`riskml.scoring.score.summarise` computes the figures; this module only words them.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table


def scale_warning(model: Any, scoring_config: Any) -> str | None:
    """A warning when the scoring config grades differently from the scale frozen with the model (the
    MLflow pyfunc grades with the model's)."""
    stored = model.metadata_.master_scale
    if not stored:
        return None
    if [(g.grade, g.max_pd) for g in stored] == [(g.grade, g.max_pd) for g in scoring_config.master_scale]:
        return None
    return ("the master scale of the scoring config differs from the one stored with the model at training; "
            "the scores use the config's, the served MLflow model grades with the model's")


def summary_table(summary: dict[str, Any]) -> Table:
    """Customers by grade, action, hold (reason and type), review (priority and reason), approval level."""
    table = Table(title="Run summary", show_header=True, header_style="bold")
    table.add_column("")
    table.add_column("customers", justify="right")
    for g, c in summary["by_grade"].items():
        table.add_row(f"grade {g}" if g else "not scored", f"{c:,}")
    table.add_section()
    for a, c in summary["by_action"].items():
        table.add_row(a, f"{c:,}")
    table.add_section()
    table.add_row("order hold", f"{summary['order_holds']:,}")
    for code, c in summary["holds_by_reason"].items():
        table.add_row(f"  {code}", f"{c:,}", style="dim")
    for kind, c in summary.get("holds_by_type", {}).items():
        table.add_row(f"  {kind} hold", f"{c:,}", style="dim")
    table.add_section()
    table.add_row("review due", f"{summary['reviews_due']:,}")
    for name, c in summary["reviews_by_priority"].items():
        table.add_row(f"  priority {name}", f"{c:,}")
    for code, c in summary["reviews_by_reason"].items():
        table.add_row(f"  {code}", f"{c:,}", style="dim")
    if summary.get("by_approval_level"):
        table.add_section()
        for level, c in summary["by_approval_level"].items():
            table.add_row(f"approval: {level}", f"{c:,}")
    return table


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The limit totals, the money totals and the unscored count, one line each (rich markup)."""
    # the change is suggested minus current, so it includes the first limits set for customers with none on
    # file (their own limit_change is empty)
    cur, new = summary["total_current_limit"], summary["total_suggested_limit"]
    line = f"limits: current {cur:,.0f} -> suggested {new:,.0f} (change {new - cur:+,.0f}"
    n_set = summary["by_action"].get("set", 0)
    if n_set:
        line += (f", of which {summary['total_limit_set']:+,.0f} first limits for the {n_set:,} customers with no "
                 "limit on file")
    line += ")"
    lines = [line]
    if "total_expected_loss" in summary:
        lines.append(f"money: expected loss {summary['total_expected_loss']:,.2f} (net of credit insurance); margin "
                     f"at risk from holds, cuts and revokes {summary['total_margin_at_risk']:,.2f}; held orders "
                     f"release on payment of {summary['total_release_amount']:,.2f}")
    if summary["not_scored"]:
        lines.append(f"[yellow]{summary['not_scored']:,} customers could not be scored[/] "
                     "(scored = false; the reason is in score_error)")
    return lines


# the decision rates of a scores file, in the order docs/scoring.md lists them
RATE_LABELS: dict[str, str] = {
    "customers": "customers",
    "holds_pct_customers": "order holds, % of customers",
    "holds_pct_sales": "order holds, % of monthly sales",
    "reviews_pct": "reviews due now, % of customers",
    "limits_changed_pct": "limits changed (increase, decrease, revoke), % of customers",
    "revokes": "revokes",
    "collections": "collections track",
    "increase_with_hold": "increase and hold together",
    "approval_queue": "decisions waiting for approval (approval_level set)",
    "approval_analyst": "  of which analyst",
    "approval_credit_manager": "  of which credit manager",
    "approval_finance_director": "  of which finance director",
    "total_limit_change": "total limit change",
    "total_expected_loss": "expected loss (net of insurance)",
    "total_margin_at_risk": "margin at risk (holds, cuts, revokes)",
}


def decision_rates(scores: Any, monthly_sales: Any) -> dict[str, float]:
    """The decision rates a credit team feels (see :data:`RATE_LABELS`) of a scores table; ``monthly_sales``
    per row of ``scores`` (e.g. ``sales_avg_3m``) weighs the holds. Money totals are left out when the
    scores have no money columns (scores of older riskml versions)."""
    import numpy as np

    n = len(scores)
    hold = scores["order_hold"].to_numpy(dtype=bool)
    action = scores["action"].astype("str").to_numpy()
    sales = np.nan_to_num(np.asarray(monthly_sales, dtype="float64"), nan=0.0)
    out: dict[str, float] = {
        "customers": n,
        "holds_pct_customers": round(100.0 * hold.mean(), 1) if n else 0.0,
        "holds_pct_sales": round(100.0 * sales[hold].sum() / sales.sum(), 1) if sales.sum() > 0 else 0.0,
        "reviews_pct": round(100.0 * scores["review_due"].to_numpy(dtype=bool).mean(), 1) if n else 0.0,
        "limits_changed_pct": round(100.0 * np.isin(action, ["increase", "decrease", "revoke"]).mean(), 1) if n else 0.0,
        "revokes": int((action == "revoke").sum()),
        "collections": int((action == "collections").sum()),
        "increase_with_hold": int(((action == "increase") & hold).sum()),
        "total_limit_change": round(float(np.nansum(scores["limit_change"].to_numpy("float64"))), 0),
    }
    if "approval_level" in scores:
        level = scores["approval_level"].fillna("").astype("str").to_numpy()
        out["approval_queue"] = int((level != "").sum())
        for name in sorted(set(level.tolist()) - {""}):
            out[f"approval_{name}"] = int((level == name).sum())
    for col in ("expected_loss", "margin_at_risk"):
        if col in scores:
            out[f"total_{col}"] = round(float(np.nansum(scores[col].to_numpy("float64"))), 0)
    return out


def rates_markdown(columns: dict[str, dict[str, float]]) -> str:
    """A markdown table: one row per rate of :data:`RATE_LABELS`, one column per scores file (name -> rates);
    a rate a file does not have shows as n/a."""
    names = list(columns)
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for key, label in RATE_LABELS.items():
        cells = []
        for name in names:
            v = columns[name].get(key)
            if v is None:
                cells.append("n/a")
            elif key.endswith("_pct") or key.endswith("_pct_customers") or key.endswith("_pct_sales"):
                cells.append(f"{v:.1f}%")
            else:
                cells.append(f"{v:,.0f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def review_order(scores: Any) -> Any:
    """The customers due for review in the order a credit team works them: by urgency (``review_priority``
    1 first), then by the money at stake (``expected_loss + margin_at_risk``, largest first), then by id."""
    due = scores.loc[scores["review_due"].astype(bool)].copy()
    stake = due.get("expected_loss", 0.0)
    stake = (stake if not hasattr(stake, "fillna") else stake.fillna(0.0)) + (
        due["margin_at_risk"].fillna(0.0) if "margin_at_risk" in due else 0.0)
    due["_stake"] = stake
    due = due.sort_values(["review_priority", "_stake", "customer_id"], ascending=[True, False, True], kind="stable")
    return due.drop(columns="_stake").reset_index(drop=True)
