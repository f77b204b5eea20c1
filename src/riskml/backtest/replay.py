"""The replay: at each replay date, point-in-time features, the model's PD, every policy's decisions on
the same scores, and their figures against what the ledger shows happened next.

:func:`run_backtest` is pure apart from the echo callback: a ledger, policies and configs in, a
:class:`BacktestResult` out (no files, no MLflow). Features come from one pass of the snapshot engine
over every month end needed (training snapshots and replay dates alike); each is computed from rows
dated on or before its own date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskml.backtest.dates import month_end_before, replay_dates, retrain_schedule
from riskml.backtest.frontier import pareto_front
from riskml.backtest.metrics import date_figures, restrictions, summarise
from riskml.backtest.models import FittedModel, first_trainable, given_model, train_walk_forward
from riskml.backtest.outcomes import outcome_table
from riskml.backtest.policies import Policy
from riskml.config import BacktestConfig, ExtraAttribute, FeatureConfig, TrainConfig
from riskml.data.ledger import Ledger
from riskml.errors import RiskmlError
from riskml.features import build_snapshots, month_ends
from riskml.modeling.labels import ledger_end, shift_months
from riskml.modeling.model import RiskModel
from riskml.scoring.approvals import required_levels
from riskml.scoring.policy import PREVIOUS_FEATURES, apply_policy

Echo = Callable[[str], None]

ASSUMPTIONS = (
    "Decisions are replayed at each replay date T on features built only from rows dated on or before T; "
    "the customer master (credit limit, terms, onboarding and review dates) is the one of the export, as "
    "the feature engine reads it.",
    "A decision governs the period up to the next replay date: a revoke blocks every invoice the customer was "
    "issued in that period, an order hold those of its duration (backtest.hold_days; the whole period unless "
    "set) and, after it, what a cut would block; a cut (decrease, revoke, or a first limit below the exposure) blocks "
    "the invoices that would take the exposure (exposure at T plus the period's invoices minus its cash and "
    "credits) over the new limit. Increases and keeps block nothing: the ledger shows only the demand that "
    "was served.",
    "A blocked invoice is counted as lost at its full gross margin (limits.gross_margin, or a segment margin "
    "where the config has one), although a held customer may have paid cash in advance or ordered later; "
    "blocking it removes its realised loss with it. A customer held may have paid anyway: its blocked "
    "invoices count as sales lost if it did not go delinquent.",
    "Bad debt: a customer is bad at T when it reaches the label definition's event (an invoice open at due "
    "date + dpd_threshold, or a write-off) within the label horizon after T, as far as the ledger reaches. "
    "Caught = held, revoked or cut at T. Customers already delinquent at T are counted apart (collections), "
    "dormant ones are outside the population, as in the label definition.",
    "Realised loss of an invoice: amounts written off, plus what is still open at the ledger's end at "
    "dpd_threshold or more days past due (not disputed). Expected loss: PD x LGD x the invoices the policy "
    "lets through. Net = margin kept on customers who did not go delinquent - realised (or expected) loss.",
    "The decisions at T do not change the ledger after T: the customers' later behaviour, the next replay "
    "date's features and the collections process are those of history, not of the policy.",
)


@dataclass
class BacktestResult:
    frame: pd.DataFrame  # one row per policy x replay date
    summary: pd.DataFrame  # one row per policy
    dates: list[pd.Timestamp]
    models: list[FittedModel]
    policies: list[Policy]
    assumptions: tuple[str, ...] = ASSUMPTIONS
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # (policy, date) -> the decisions (with customer_id and pd), when run_backtest(keep_decisions=True)
    decisions: dict[tuple[str, pd.Timestamp], pd.DataFrame] = field(default_factory=dict)


def _quiet(_: str) -> None:
    return None


def approval_levels(decisions: pd.DataFrame, policy: Policy) -> np.ndarray:
    """The approval level each decision needs: the decisions' own ``approval_level`` when the policy
    gives one, else :func:`riskml.scoring.approvals.required_levels`."""
    if "approval_level" in decisions:
        return decisions["approval_level"].fillna("").astype("str").to_numpy(dtype=object)
    return required_levels(decisions["action"].to_numpy(dtype=object), decisions["current_limit"].to_numpy(),
                           decisions["suggested_limit"].to_numpy(), decisions["grade"].to_numpy(dtype=object),
                           policy.config.approvals, policy.config.master_scale,
                           decisions["hold_type"].to_numpy(dtype=object) if "hold_type" in decisions else None)


def choose_dates(ledger: Ledger, train_config: TrainConfig, backtest: BacktestConfig, every_months: int,
                 start: pd.Timestamp | None, end: pd.Timestamp | None, walk_forward: bool) -> list[pd.Timestamp]:
    """The replay dates: ``start``..``end`` every ``every_months``; by default from the first month end a
    walk-forward model can be trained to the last one followed by a full replay step in the ledger.
    Clear errors for too little history and for dates without outcomes."""
    lo, hi = ledger.date_range()
    last = ledger_end(ledger)
    latest = month_end_before(shift_months(last, -every_months))
    for option, day in (("--from", start), ("--to", end)):
        if day is not None and pd.Timestamp(day) >= last:
            raise RiskmlError(f"{option} {pd.Timestamp(day).date()}: the ledger ends {last.date()}, so nothing is "
                              "known of what happened after that date (no outcomes yet in the window); choose a date "
                              f"before {last.date()} (the default --to is {latest.date()}, the last month end a full "
                              "replay step before the ledger's end)")
    stop = pd.Timestamp(end) if end is not None else latest
    if start is None:
        candidates = month_ends(lo, stop)
        first = (first_trainable(ledger, train_config, backtest, candidates) if walk_forward
                 else (candidates[0] if candidates else None))
        if first is None:
            need = train_config.split.warmup_months + train_config.label.horizon_months + backtest.min_train_dates
            raise RiskmlError(
                f"too little history for even one replay date: the ledger runs from {lo.date()} to {hi.date()}, "
                f"and a walk-forward model needs about {need} months before its first replay date "
                f"({train_config.split.warmup_months}-month warm-up, a {train_config.label.horizon_months}-month "
                f"label horizon, {backtest.min_train_dates} labeled month ends) plus a replay step of outcomes "
                "after it. Use a longer ledger, or lower backtest.min_train_dates / split.warmup_months")
        start = first
    dates = replay_dates(pd.Timestamp(start), stop, every_months)
    if not dates:
        raise RiskmlError(f"no replay date between {pd.Timestamp(start).date()} and {stop.date()} (month ends, "
                          f"every {every_months} month(s)); the ledger runs from {lo.date()} to {hi.date()}")
    return dates


def run_backtest(ledger: Ledger, policies: list[Policy], train_config: TrainConfig | None = None,
                 feature_config: FeatureConfig | None = None, backtest: BacktestConfig | None = None,
                 start: pd.Timestamp | None = None, end: pd.Timestamp | None = None,
                 every_months: int | None = None, retrain_months: int | None = None,
                 model: RiskModel | None = None, model_uri: str = "", extra: dict[str, ExtraAttribute] | None = None,
                 keep_decisions: bool = False, echo: Echo = _quiet) -> BacktestResult:
    """Replay every policy at every replay date (see the module docstring); ``keep_decisions`` keeps every
    decision frame in the result (tests, audits)."""
    import time

    train_config = train_config or TrainConfig()
    feature_config = feature_config or FeatureConfig()
    backtest = backtest or BacktestConfig()
    every = every_months or backtest.every_months
    retrain = retrain_months or backtest.retrain_months
    if not policies:
        raise RiskmlError("no policy to backtest")
    timings: dict[str, float] = {}
    dates = choose_dates(ledger, train_config, backtest, every, start, end, walk_forward=model is None)
    echo(f"replay dates: {len(dates)} from {dates[0].date()} to {dates[-1].date()} every {every} month(s); "
         f"{len(policies)} policies")

    t0 = time.perf_counter()
    lo = ledger.date_range()[0]
    snap_dates = sorted(set(month_ends(lo, dates[-1])) | set(dates))
    snaps = build_snapshots(ledger, snap_dates, feature_config)
    timings["features"] = time.perf_counter() - t0
    echo(f"features: one pass for {len(snap_dates)} month ends ({len(snaps):,} customer rows) "
         f"in {timings['features']:.1f} s")

    t0 = time.perf_counter()
    outcomes = outcome_table(ledger, dates, every, train_config.label, feature_config.settled_share,
                             backtest.hold_days)
    timings["outcomes"] = time.perf_counter() - t0

    models: list[FittedModel] = []
    model_at: dict[pd.Timestamp, FittedModel] = {}
    t0 = time.perf_counter()
    if model is not None:
        fitted = given_model(model, model_uri or "the given model", dates)
        models.append(fitted)
        model_at = dict.fromkeys(dates, fitted)
    else:
        schedule = retrain_schedule(dates, retrain)
        for r in sorted(set(schedule.values())):
            fm = train_walk_forward(ledger, snaps, r, train_config, backtest, feature_config, extra)
            echo(f"walk-forward model at {r.date()}: {fm.rows:,} labeled snapshots ({fm.positives:,} positives) "
                 f"from {len(fm.train_dates)} month ends; test AUC {fm.test_auc:.3f}")
            models.append(fm)
        by_date = {m.trained_at: m for m in models}
        model_at = {d: by_date[schedule[d]] for d in dates}
    timings["training"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    prev_decisions: dict[str, pd.DataFrame | None] = {p.name: None for p in policies}
    prev_held: dict[str, pd.Series | None] = {p.name: None for p in policies}
    prev_levels: dict[str, pd.Series | None] = {p.name: None for p in policies}
    kept: dict[tuple[str, pd.Timestamp], pd.DataFrame] = {}
    out_by_date = {d: g for d, g in outcomes.groupby("as_of", sort=True)}
    for d in dates:
        feats = snaps.loc[snaps["as_of"] == d].reset_index(drop=True)
        fm = model_at[d]
        p = fm.model.predict_pd(feats[fm.model.feature_names_]) if len(feats) else np.zeros(0)
        oc = out_by_date[d].set_index("customer_id").reindex(feats["customer_id"].to_numpy()).reset_index()
        for pol in policies:
            dec = apply_policy(feats, p, pol.config, previous=prev_decisions[pol.name])
            levels = approval_levels(dec, pol)
            if keep_decisions:
                kept[(pol.name, d)] = dec.assign(customer_id=feats["customer_id"].to_numpy(), pd=p)
            ids = feats["customer_id"].to_numpy()
            ph, pl = prev_held[pol.name], prev_levels[pol.name]
            prev_flags = None if ph is None else ph.reindex(ids).fillna(False).to_numpy(bool)
            prev_lv = None if pl is None else pl.reindex(ids).fillna("").to_numpy(dtype=object)
            figs = date_figures(dec, feats, p, oc, pol.config, prev_flags, levels, prev_lv)
            rows.append({"policy": pol.name, "as_of": d, "period_end": oc["period_end"].iloc[0] if len(oc) else d,
                         "outcome_months": float(oc["outcome_months"].iloc[0]) if len(oc) else 0.0,
                         "model": "walk-forward " + str(fm.trained_at.date()) if fm.trained_at is not None
                         else fm.source, **figs})
            prev_decisions[pol.name] = pd.DataFrame({
                "customer_id": feats["customer_id"].to_numpy(), "grade": dec["grade"].to_numpy(dtype=object),
                "as_of": d, **{c: feats[c].to_numpy("float64") for c in PREVIOUS_FEATURES}})
            prev_held[pol.name] = pd.Series(restrictions(dec, feats)["held"], index=ids)
            prev_levels[pol.name] = pd.Series(levels, index=ids, dtype=object)
    timings["decisions"] = time.perf_counter() - t0
    frame = pd.DataFrame(rows)
    frame["as_of"] = pd.to_datetime(frame["as_of"]).astype("datetime64[ns]")
    frame["period_end"] = pd.to_datetime(frame["period_end"]).astype("datetime64[ns]")
    summary = summarise(frame)
    summary.insert(1, "source", [next(p.source for p in policies if p.name == n) for n in summary["policy"]])
    summary["on_frontier"] = pareto_front(summary["margin_lost"].to_numpy(), summary["bad_debt_avoided"].to_numpy())
    notes = []
    partial = frame.loc[frame["outcome_months"] < train_config.label.horizon_months - 0.05, "as_of"].unique()
    if len(partial):
        notes.append(f"{len(partial)} replay date(s) from {pd.Timestamp(partial.min()).date()} have fewer than "
                     f"{train_config.label.horizon_months} months of outcomes in the ledger: customers who go "
                     "delinquent after its end count as good there")
    return BacktestResult(frame=frame, summary=summary, dates=dates, models=models, policies=policies,
                          notes=notes, timings=timings, decisions=kept)
