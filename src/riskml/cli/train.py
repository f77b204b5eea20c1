"""``riskml train``: labels, out-of-time training, calibration, MLflow tracking, registration and the
promotion gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from riskml.cli.common import console, err_console, user_errors
from riskml.errors import RiskmlError

# short names, so that the table fits an 80-column terminal; the caption says what they are
SHORT_LABELS = {"lightgbm": "LightGBM", "logistic": "Logistic", "rule": "Rule"}


def _metrics_table(outcome: Any, rule_feature: str) -> Table:
    title = ("Out-of-time test window" if outcome.result.split.kind == "oot"
             else "Test customers (grouped split: the labels have a single as-of date)")
    table = Table(title=title, header_style="bold",
                  caption=f"LightGBM = this model; Logistic = the benchmark on binned features; Rule = "
                          f"{rule_feature} as the score")
    for col in ("model", "ROC-AUC", "Gini", "KS", "PR-AUC", "Brier", "log loss", "top-10% capture"):
        table.add_column(col, justify="left" if col == "model" else "right", no_wrap=col == "model")
    for name, m in outcome.result.test_metrics.items():
        label = SHORT_LABELS.get(name, name)
        table.add_row(label, *(f"{m[k]:.4f}" for k in ("auc", "gini", "ks", "pr_auc", "brier", "log_loss")),
                      f"{m['capture_top10']:.1%}")
    return table


def _calibration_table(outcome: Any) -> Table:
    ct = outcome.result.calibration_table
    table = Table(title=f"Calibration by decile of predicted PD ({outcome.result.model.calibration_method_})",
                  header_style="bold")
    for col in ("decile", "rows", "events", "mean predicted PD", "observed rate"):
        table.add_column(col, justify="right")
    for _, r in ct.iterrows():
        table.add_row(str(int(r["decile"])), f"{int(r['rows']):,}", f"{int(r['events']):,}",
                      f"{r['mean_pd']:.2%}", f"{r['observed_rate']:.2%}")
    return table


def _persona_table(outcome: Any) -> Table | None:
    pc = outcome.result.persona_calibration
    if pc is None or not len(pc):
        return None
    from riskml.modeling.metrics import wilson_interval

    table = Table(title="Calibration by persona (test window; within = gap at most 3 points, or the mean PD inside "
                        "the observed rate's 95% interval)", header_style="bold",
                  caption="PD = mean predicted PD; obs. = observed rate; gap in points")
    for col in ("persona", "rows", "evts", "PD", "obs.", "95% CI", "gap", "within"):
        table.add_column(col, justify="left" if col == "persona" else "right", no_wrap=True)
    lo, hi = wilson_interval(pc["events"], pc["rows"])
    for i, (_, r) in enumerate(pc.iterrows()):
        gap = r["mean_pd"] - r["observed_rate"]
        within = abs(gap) <= 0.03 + 1e-12 or lo[i] <= r["mean_pd"] <= hi[i]
        # a Text cell: the consoles print strings as they are (no markup), so the style is not written inline
        table.add_row(str(r["group"]), f"{int(r['rows']):,}", f"{int(r['events']):,}", f"{r['mean_pd']:.1%}",
                      f"{r['observed_rate']:.1%}", f"{lo[i] * 100:.1f}-{hi[i] * 100:.1f}",
                      Text(f"{gap * 100:+.1f}", style="" if abs(gap) <= 0.03 else "yellow"),
                      Text("yes" if within else "no", style="" if within else "yellow"))
    return table


def persona_segmenter(scoring_config: Any) -> Any:
    """The collector personas of ``riskml.scoring.personas`` as a training segmenter (test rows, PD -> persona)."""
    from riskml.scoring.personas import assign_personas, thin_file_mask

    def segment(rows: Any, p: Any) -> Any:
        return assign_personas(rows, p, scoring_config.personas, thin_file_mask(rows, scoring_config.thin_file))

    return segment


DEFAULT_TRAIN_CONFIG = "configs/train.yaml"


def name_config_file(message: str, config: Path | None) -> str:
    """``message`` with the training config actually in use in place of ``configs/train.yaml``: the
    file given with --config, else configs/train.yaml when it exists here, else a note that the defaults
    shipped with riskml are in use (and where to put a file of one's own)."""
    from riskml.config import CONFIG_DIR

    if config is not None:
        shown = str(config)
    elif (CONFIG_DIR / "train.yaml").exists():
        return message
    else:
        shown = (f"a training config of your own (none at {DEFAULT_TRAIN_CONFIG} here: the built-in defaults shipped "
                 "with riskml are in use; pass a file with --config)")
    return message.replace(DEFAULT_TRAIN_CONFIG, shown)


@user_errors
def train(
    data: Path = typer.Option(..., "--data", "-d", help="Ledger directory (customers, invoices, payments, ...)."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Training config (default configs/train.yaml)."),
    labels: Path | None = typer.Option(
        None, "--labels", "-l", help="Your own outcomes (.csv/.parquet: customer_id, as_of, label) instead of the "
        "label definition."),
    out_model: Path | None = typer.Option(
        None, "--out-model", "-o", help="Also export the model directory to OUT_MODEL/<name>-v<version>/."),
    data_config: Path | None = typer.Option(None, "--data-config", help="Data config (column mapping etc.)."),
    features_config: Path | None = typer.Option(
        None, "--features-config", help="Feature config (default configs/features.yaml)."),
    scoring_config_file: Path | None = typer.Option(
        None, "--scoring-config", help="Scoring config whose master scale the model freezes and whose personas "
        "split the calibration table (default configs/scoring.yaml); score with the same scale."),
) -> None:
    """Train the delinquency model out of time, calibrate it, compare it with a logistic benchmark and a
    DBT rule, log everything to MLflow and register it (champion only if it passes the promotion gate).

    MLflow store: MLFLOW_TRACKING_URI if set, else sqlite:///mlflow.db.

    Example: riskml train --data data/demo --config configs/train.yaml --scoring-config configs/scoring.yaml --out-model models
    """
    import warnings

    # MLflow imports pyspark when it is installed; its pandas-version notice is not the user's concern
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    from riskml.cli.ledger import load_ledger_for_cli
    from riskml.config import load_config
    from riskml.data.validate import resolve_data_config
    from riskml.modeling.card import comparison_text
    from riskml.modeling.gate import CHAMPION
    from riskml.modeling.pipeline import run_training
    from riskml.modeling.tracking import ui_command
    from riskml.modeling.train import read_labels_file
    from riskml.scoring.personas import PERSONAS
    from riskml.serving.pyfunc import log_pyfunc

    if out_model is not None:
        from riskml.io import guard_output

        guard_output(out_model, "--out-model", {"--data": data, "--config": config, "--labels": labels,
                                                "--data-config": data_config, "--features-config": features_config,
                                                "--scoring-config": scoring_config_file},
                     (data,))
    train_config = load_config("train", config)
    feature_config = load_config("features", features_config)
    scoring_config = load_config("scoring", scoring_config_file)
    user_labels = read_labels_file(labels) if labels is not None else None
    ledger = load_ledger_for_cli(data, data_config)
    extra = resolve_data_config(data, data_config).extra_attributes

    try:
        outcome = run_training(
            ledger, train_config, feature_config, extra, user_labels, str(labels) if labels else "",
            out_model, scoring_config, echo=lambda msg: console.print(msg),
            segmenter=persona_segmenter(scoring_config), segment_order=list(PERSONAS), log_model=log_pyfunc,
        )
    except RiskmlError as exc:  # the modeling messages say configs/train.yaml: name the file in use
        raise RiskmlError(name_config_file(str(exc), config)) from None
    for note in outcome.result.data.notes:
        err_console.print(f"warning: {note}")
    console.print(_metrics_table(outcome, train_config.rule_feature))
    console.print(comparison_text(outcome.result, train_config.rule_feature))
    console.print(_calibration_table(outcome))
    if (persona_table := _persona_table(outcome)) is not None:
        console.print(persona_table)
        pb = outcome.result.persona_calibration_before
        if len(pb):
            console.print("before the calibration by persona (the model's calibrator alone): " + "; ".join(
                f"{r['group']} {r['mean_pd']:.1%} vs {r['observed_rate']:.1%}" for _, r in pb.iterrows())
                + f" (largest gap {pb['gap'].abs().max() * 100:.1f} points)")
    d = outcome.decision
    word = f"[bold green]{CHAMPION}[/]" if d.promote else "[bold yellow]challenger[/]"
    console.print(f"registered {escape(train_config.model_name)} version {d.model_version} as {word}: "
                  f"{escape(d.reason)}", markup=True)
    if outcome.exported is not None:
        console.print(f"model exported to {outcome.exported}")
    console.print(f"MLflow run {outcome.run_id}; look at it with: {ui_command(outcome.tracking_uri)}")


def register(app: typer.Typer) -> None:
    app.command("train", no_args_is_help=True)(train)
