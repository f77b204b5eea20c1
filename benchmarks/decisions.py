"""`make decisions`: judge the decisions against the generator's truth, on the demo ledger and on a
harsher one.

For each ledger (the demo: ``riskml synth`` defaults, seed 7; the harsh one: ``--mix harsh``, seed 11) it
generates the ledger, trains with ``riskml train`` (its own MLflow sqlite store under the output folder),
scores every customer as of the ledger's end with ``riskml score``, and compares the scores with the truth
the generator wrote beside the ledger (``_truth/personas.csv``, which the pipeline never reads): which
customers are strong late payers (the generator's ``stretcher``), and which default in the 12 months after
the as-of date. The figures go to a markdown table in ``docs/scoring.md`` (between the ``decisions``
markers) and to ``OUT/decisions.md``; numbers in the docs therefore come from a run.

    python benchmarks/decisions.py [--out .bench/decisions] [--customers 2000] [--months 36] [--no-docs] [--reuse]

:func:`evaluate_decisions` is the pure part (scores + truth + features -> figures); tests check it on a
hand-made book.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "scoring.md"
BEGIN, END_MARK = "<!-- decisions:begin -->", "<!-- decisions:end -->"
AS_OF = "2026-09-30"
HORIZON_MONTHS = 12
STRONG_TRUTH = "stretcher"  # the generator's strong customers who stretch terms
RESTRICTING_ACTIONS = ("decrease", "revoke")


@dataclass(frozen=True)
class LedgerSpec:
    name: str
    mix: str
    seed: int


LEDGERS = (LedgerSpec("demo", "demo", 7), LedgerSpec("harsh", "harsh", 11))

# (figure key, label, target text, check) in table order; check(value) -> bool or None (no target)
ROWS: tuple[tuple[str, str, str], ...] = (
    ("customers", "customers in the book", ""),
    ("alive", "not defaulted at the as-of date", ""),
    ("default_rate_12m", "of those, default in the next 12 months (truth)", ""),
    ("test_auc", "model: out-of-time test AUC (training)", ""),
    ("auc_vs_truth", "model: AUC against the true 12-month defaults", ""),
    ("persona_max_gap", "model: largest absolute persona calibration gap, test window (points)", "<= 3"),
    ("strong_gap", "model: strong late payers' calibration gap, test window (points)", "<= 3"),
    ("persona_outside", "model: personas outside the target (gap > 3 points and mean PD outside the observed "
     "rate's 95% Wilson interval)", "0"),
    ("strong_recall", "strong stretchers recognised (recall)", ">= 80%"),
    ("strong_precision", "strong late payer persona: precision", ">= 80%"),
    ("strong_revoked", "strong stretchers revoked", "0"),
    ("strong_held", "strong stretchers with an order hold", ""),
    ("nondefault_revoked", "non-defaulters revoked", "<= 5%"),
    ("nondefault_restricted", "non-defaulters restricted (hold, revoke or decrease)", "<= 15%"),
    ("default_restricted", "defaulters restricted before they default", ">= 80%"),
    ("holds_customers", "order holds, share of customers", "<= 10%"),
    ("holds_sales", "order holds, share of monthly sales", "<= 15%"),
    ("reviews_due", "reviews due now, share of customers", "<= 15%"),
    ("increase_and_hold", "customers with an increase and a hold", "0"),
    ("limits_changed", "limits changed, share of customers with a limit", ""),
)
TARGETS = {
    "persona_max_gap": lambda v: abs(v) <= 3, "strong_gap": lambda v: abs(v) <= 3,
    "persona_outside": lambda v: v == 0,
    "strong_recall": lambda v: v >= 0.8, "strong_precision": lambda v: v >= 0.8, "strong_revoked": lambda v: v == 0,
    "nondefault_revoked": lambda v: v <= 0.05, "nondefault_restricted": lambda v: v <= 0.15,
    "default_restricted": lambda v: v >= 0.8, "holds_customers": lambda v: v <= 0.10,
    "holds_sales": lambda v: v <= 0.15, "reviews_due": lambda v: v <= 0.15, "increase_and_hold": lambda v: v == 0,
}
SHARES = {"default_rate_12m", "strong_recall", "strong_precision", "nondefault_revoked", "nondefault_restricted",
          "default_restricted", "holds_customers", "holds_sales", "reviews_due", "limits_changed"}
COUNTS = {"customers", "alive", "strong_revoked", "strong_held", "increase_and_hold", "persona_outside"}


def _share(mask: np.ndarray, base: np.ndarray) -> float:
    n = int(base.sum())
    return float((mask & base).sum() / n) if n else float("nan")


def evaluate_decisions(scores: pd.DataFrame, truth: pd.DataFrame, features: pd.DataFrame, as_of: str,
                       horizon_months: int = HORIZON_MONTHS) -> dict[str, float]:
    """The decision figures of one scored book against the generator's truth.

    ``scores``: the ``riskml score`` output (customer_id, pd, action, order_hold, review_due, persona,
    current_limit, suggested_limit); ``truth``: customer_id, persona (the generator's), default_date (by
    the as-of date), scheduled_default_date (also after it); ``features``: customer_id, sales_avg_3m.
    Outcome figures are over the customers not defaulted at the as-of date; workload figures (holds,
    reviews, limit changes) over the whole book, as a credit team sees it."""
    as_of_ts = pd.Timestamp(as_of)
    horizon_end = as_of_ts + pd.DateOffset(months=horizon_months)
    t = truth.assign(customer_id=truth["customer_id"].astype("str"))
    f = features.assign(customer_id=features["customer_id"].astype("str"))[["customer_id", "sales_avg_3m"]]
    s = scores.assign(customer_id=scores["customer_id"].astype("str")).merge(
        t, on="customer_id", how="left", suffixes=("", "_truth"), validate="one_to_one").merge(
        f, on="customer_id", how="left", validate="one_to_one")
    truth_persona = s["persona_truth"].astype("str").to_numpy()
    default_by = pd.to_datetime(s["default_date"])
    scheduled = pd.to_datetime(s["scheduled_default_date"])
    alive = (default_by.isna() | (default_by > as_of_ts)).to_numpy()
    defaults = ((scheduled > as_of_ts) & (scheduled <= horizon_end)).to_numpy() & alive
    survivors = alive & ~defaults
    action = s["action"].astype("str").to_numpy()
    hold = s["order_hold"].fillna(False).astype(bool).to_numpy()
    revoked = action == "revoke"
    restricted = hold | np.isin(action, RESTRICTING_ACTIONS)
    strong_truth = (truth_persona == STRONG_TRUTH) & alive
    strong_pred = (s["persona"].astype("str").to_numpy() == "strong_late_payer") & alive
    sales = pd.to_numeric(s["sales_avg_3m"], errors="coerce").fillna(0.0).clip(lower=0.0).to_numpy()
    has_limit = pd.to_numeric(s["current_limit"], errors="coerce").notna().to_numpy()
    changed = has_limit & ~np.isclose(pd.to_numeric(s["suggested_limit"], errors="coerce").to_numpy(),
                                      pd.to_numeric(s["current_limit"], errors="coerce").to_numpy())
    p = pd.to_numeric(s["pd"], errors="coerce").to_numpy()
    scored = np.isfinite(p) & alive
    auc = float("nan")
    if scored.any() and 0 < defaults[scored].sum() < scored.sum():
        from sklearn.metrics import roc_auc_score

        auc = float(roc_auc_score(defaults[scored], p[scored]))
    everyone = np.ones(len(s), dtype=bool)
    return {
        "customers": float(len(s)),
        "alive": float(alive.sum()),
        "default_rate_12m": _share(defaults, alive),
        "auc_vs_truth": auc,
        "strong_recall": _share(strong_pred, strong_truth),
        "strong_precision": _share(strong_truth, strong_pred),
        "strong_revoked": float((strong_truth & revoked).sum()),
        "strong_held": float((strong_truth & hold).sum()),
        "nondefault_revoked": _share(revoked, survivors),
        "nondefault_restricted": _share(restricted, survivors),
        "default_restricted": _share(restricted, defaults),
        "holds_customers": _share(hold, everyone),
        "holds_sales": float(sales[hold].sum() / sales.sum()) if sales.sum() > 0 else float("nan"),
        "reviews_due": _share(s["review_due"].fillna(False).astype(bool).to_numpy(), everyone),
        "increase_and_hold": float(((action == "increase") & hold).sum()),
        "limits_changed": _share(changed, has_limit),
    }


# ------------------------------------------------------------------------------------------ the runs
def _run(cmd: list[str], env: dict[str, str], log: Path) -> None:
    t0 = time.time()
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    log.write_text(res.stdout + res.stderr, encoding="utf-8")
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {res.returncode}); see {log}:\n{res.stderr[-2000:]}")
    print(f"  {' '.join(cmd[2:4])}: {time.time() - t0:.0f} s", flush=True)


def _generate_train_score(spec: LedgerSpec, folder: Path, customers: int, months: int) -> None:
    """``riskml synth`` (in process) into a fresh ``folder``, then ``riskml train`` and ``riskml score`` as
    subprocesses, with an MLflow sqlite store of their own in ``folder``."""
    from riskml.data.synth import generate_ledger, write_synthetic

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    ledger_dir = folder / "ledger"
    print(f"{spec.name}: {customers} customers x {months} months, mix {spec.mix}, seed {spec.seed}", flush=True)
    write_synthetic(generate_ledger(customers, months, spec.seed, AS_OF, mix=spec.mix), ledger_dir)
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}"}
    riskml = [sys.executable, "-m", "riskml.cli.main"]
    configs = ROOT / "configs"
    _run([*riskml, "train", "--data", str(ledger_dir), "--config", str(configs / "train.yaml"),
          "--features-config", str(configs / "features.yaml"), "--out-model", str(folder / "models")],
         env, folder / "train.log")
    model_dir = next((folder / "models").iterdir())
    _run([*riskml, "score", "--data", str(ledger_dir), "--as-of", AS_OF, "--out", str(folder / "scores.parquet"),
          "--model", str(model_dir), "--config", str(configs / "scoring.yaml")], env, folder / "score.log")


def run_ledger(spec: LedgerSpec, out: Path, customers: int, months: int, reuse: bool = False) -> dict[str, float]:
    """Generate, train, score and evaluate one ledger in ``out/<name>`` (a fresh folder each time; with
    ``reuse``, evaluate the scores a previous run left there)."""
    from riskml.data.synth import TRUTH_PATH
    from riskml.data.validate import load_ledger, resolve_data_config
    from riskml.features import build_features

    folder = out / spec.name
    ledger_dir = folder / "ledger"
    scores_path = folder / "scores.parquet"
    if not (reuse and scores_path.exists()):
        _generate_train_score(spec, folder, customers, months)
    scores = pd.read_parquet(scores_path)
    truth = pd.read_csv(ledger_dir / TRUTH_PATH, dtype={"customer_id": "str"},
                        parse_dates=["default_date", "scheduled_default_date"])
    ledger, _ = load_ledger(ledger_dir, resolve_data_config(ledger_dir, None))
    features = build_features(ledger, AS_OF)
    figures = evaluate_decisions(scores, truth, features, AS_OF)
    figures.update(_training_figures(folder))
    return figures


def _training_figures(folder: Path) -> dict[str, float]:
    """Test AUC and the persona calibration gaps of the training run (its MLflow tables)."""
    out: dict[str, float] = {}
    metrics = next(folder.glob("mlartifacts/**/tables/test_metrics.csv"), None)
    if metrics is not None:
        m = pd.read_csv(metrics, index_col=0)
        out["test_auc"] = float(m.loc["lightgbm", "auc"])
    pc_path = next(folder.glob("mlartifacts/**/tables/persona_calibration.csv"), None)
    if pc_path is not None:
        pc = pd.read_csv(pc_path).set_index("group")
        out["persona_max_gap"] = float(pc["gap"].abs().max() * 100)
        if "within_target" in pc:
            out["persona_outside"] = float((~pc["within_target"].astype(bool)).sum())
        if "strong_late_payer" in pc.index:
            out["strong_gap"] = float(pc.loc["strong_late_payer", "gap"] * 100)
        out["_persona_table"] = pc  # type: ignore[assignment]
    return out


# ------------------------------------------------------------------------------------------ the table
def _fmt(key: str, v: float) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "n/a"
    if key in SHARES:
        return f"{v:.1%}"
    if key in COUNTS:
        return f"{int(v):,}"
    if key == "persona_max_gap":
        return f"{v:.1f}"
    if key.endswith("_gap"):
        return f"{v:+.1f}"
    return f"{v:.3f}"


def markdown(results: dict[str, dict[str, float]], customers: int, months: int) -> str:
    names = list(results)
    lines = [f"| figure | {' | '.join(names)} | target |", "|---|" + "---|" * len(names) + "---|"]
    for key, label, target in ROWS:
        cells = []
        for n in names:
            v = results[n].get(key, float("nan"))
            ok = TARGETS.get(key)
            mark = ""
            if ok is not None and isinstance(v, float) and np.isfinite(v):
                mark = "" if ok(v) else " ✗"
            cells.append(_fmt(key, v) + mark)
        lines.append(f"| {label} | {' | '.join(cells)} | {target} |")
    cmd = (f"python benchmarks/decisions.py --customers {customers} --months {months}" if (customers, months)
           != (2000, 36) else "make decisions")
    head = (f"Measured by `{cmd}` ({customers:,} customers x {months} months each, scored as of {AS_OF}; "
            "demo = `riskml synth` defaults, seed 7; harsh = `--mix harsh`, seed 11). ✗ = target missed. "
            "Outcome figures count the customers not defaulted at the as-of date; \"default\" = the generator's "
            f"default in the {HORIZON_MONTHS} months after it.")
    persona = []
    for n in names:
        pc = results[n].get("_persona_table")
        if isinstance(pc, pd.DataFrame):
            row = " ".join(f"{g} {r['mean_pd']:.1%} vs {r['observed_rate']:.1%};" for g, r in pc.iterrows())
            persona.append(f"- {n}: {row.rstrip(';')}")
    tail = ("Calibration per persona on the training run's out-of-time test window (mean PD vs observed rate):\n"
            + "\n".join(persona)) if persona else ""
    return "\n\n".join(x for x in (head, "\n".join(lines), tail) if x) + "\n"


def write_doc(table: str, doc: Path = DOC) -> None:
    """Put ``table`` between the decisions markers of ``doc`` (appending a section if they are absent)."""
    text = doc.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{table.strip()}\n{END_MARK}"
    if BEGIN in text and END_MARK in text:
        start, stop = text.index(BEGIN), text.index(END_MARK) + len(END_MARK)
        text = text[:start] + block + text[stop:]
    else:
        text = text.rstrip("\n") + "\n\n## Decisions against the generator's truth\n\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / ".bench" / "decisions")
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--only", default="", help="comma-separated ledger names (demo, harsh)")
    ap.add_argument("--no-docs", action="store_true", help="do not rewrite docs/scoring.md")
    ap.add_argument("--reuse", action="store_true", help="evaluate the scores a previous run left in --out")
    args = ap.parse_args(argv)
    only = {x for x in args.only.split(",") if x}
    results = {}
    for spec in LEDGERS:
        if only and spec.name not in only:
            continue
        results[spec.name] = run_ledger(spec, args.out, args.customers, args.months, args.reuse)
    table = markdown(results, args.customers, args.months)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "decisions.md").write_text(table, encoding="utf-8")
    print(table)
    if not args.no_docs:
        write_doc(table)
        print(f"wrote the table into {DOC}")


if __name__ == "__main__":
    main()
