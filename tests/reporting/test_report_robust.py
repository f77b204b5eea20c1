"""The report set's robustness (issues 14 and 18): inline SVG charts from the numbers, unique file
names, a set swapped in whole, bidi-safe names, categorical values on the waterfall, the --top order,
one failing customer not stopping the others, and arguments checked before the heavy work."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from riskml.errors import RiskmlError
from riskml.features.registry import FeatureSpec
from riskml.reporting.customer import add_figures, display_text, waterfall_inputs, with_attributes
from riskml.reporting.history import AGING_COLUMNS, HISTORY_COLUMNS
from riskml.reporting.html import safe_filename
from riskml.reporting.run import check_output_dir, customer_files, staged_directory, top_customers
from riskml.reporting.svg import history_svg, nice_ticks, waterfall_svg

SVG = "{http://www.w3.org/2000/svg}"


def _history(n: int = 24, **overrides: object) -> pd.DataFrame:
    months = pd.date_range(end="2026-09-30", periods=n, freq="ME")
    h = pd.DataFrame({c: np.zeros(n) for c in HISTORY_COLUMNS if c not in ("customer_id", "month")})
    h.insert(0, "month", months)
    h.insert(0, "customer_id", "C1")
    h["sales"] = 1000.0
    h["paid_amount"] = 900.0
    h["dbt"] = np.linspace(2, 14, n)
    h["open_balance"] = 500.0
    h[AGING_COLUMNS[0]] = 500.0
    h["credit_limit"] = 2000.0
    for k, v in overrides.items():
        h[k] = v
    return h


# ------------------------------------------------------------------------------------------- charts
def test_waterfall_svg_is_wellformed_and_adds_up() -> None:
    vals = np.array([0.5, -0.25, 0.125, 0.0625])
    svg = waterfall_svg(vals, -3.0, ["12 days", "<b>&", "yes", "1"], ["dbt", "name <x>", "flag", "other"],
                        max_display=3)
    root = ET.fromstring(svg)  # escaped, well-formed XML
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "<b>& = name <x>" in texts  # the text survives, escaped in the markup
    assert "2 other features" in texts  # the two smallest summed in one row
    assert f"f(x) = {-3.0 + vals.sum():.3f}" in texts and "E[f(X)] = -3.000" in texts
    assert len(list(root.iter(f"{SVG}polygon"))) == 3
    assert waterfall_svg(vals, -3.0, ["a"] * 4, ["b"] * 4) == waterfall_svg(vals, -3.0, ["a"] * 4, ["b"] * 4)


def test_history_svg_ignores_infinite_amounts() -> None:
    sales = np.full(24, 1000.0)
    sales[5] = np.inf
    svg = history_svg(_history(sales=sales, dbt=np.r_[np.full(23, 3.0), np.nan]), None)
    root = ET.fromstring(svg)
    numbers = [float(v) for el in root.iter(f"{SVG}rect") for v in (el.get("y"), el.get("height"))]
    assert all(np.isfinite(numbers)) and max(numbers) < 1000  # no bar scaled to 1.8e308
    assert "inf" not in svg.lower() and "nan" not in svg.lower()


def test_nice_ticks() -> None:
    assert nice_ticks(0, 100, 5) == [0, 25, 50, 75, 100]
    assert nice_ticks(0, 7, 5) == [0, 2, 4, 6]
    assert nice_ticks(-4.6, -2.9, 6)[0] >= -4.6


def test_add_figures_notes_non_finite_contributions_instead_of_failing() -> None:
    from riskml.reporting.customer import CustomerReport

    report = CustomerReport(row={"customer_id": "C1"}, name="X", industry="", country="", terms_days=30.0, band=None,
                            reasons=[], factors=[], base_value=-3.0, raw_score=np.nan, statement=None, change=None)
    contrib = pd.DataFrame({"customer_id": "C1", "feature": ["a", "b"], "value": [1.0, 2.0],
                            "contribution": [np.inf, 0.1]})
    add_figures(report, contrib, {}, _history())
    assert report.waterfall_svg == "" and "not finite" in report.waterfall_note
    assert report.history_svg.startswith("<svg")


# -------------------------------------------------------------------------------------- categoricals
def test_waterfall_labels_a_categorical_with_the_customers_value() -> None:
    specs = {"industry": FeatureSpec(name="industry", family="attributes", description="Industry",
                                     unit="", window="", monotone=0, reason="industry {industry}", kind="categorical")}
    contrib = pd.DataFrame({"customer_id": "C1", "feature": ["industry"], "value": [np.nan], "contribution": [0.2]})
    _, data, names = waterfall_inputs(contrib, specs, {"industry": "Retail"})
    assert [f"{d} = {n}" for d, n in zip(data, names, strict=True)] == ["Retail = industry"]
    assert with_attributes(contrib, specs, {})["value"].isna().all()  # nothing known: still n/a


# ------------------------------------------------------------------------------------------- names
def test_display_text_strips_bidi_controls_and_zero_width() -> None:
    assert display_text("ACME\u202eLTD\u200b\u2066x\u2069\ufeff") == "ACMELTDx"
    assert display_text("Müller & Söhne") == "Müller & Söhne"


def test_file_names_unique_per_id() -> None:
    a, b = "X" * 130 + "a", "X" * 130 + "b"  # long ids sharing a 120-character prefix
    assert safe_filename(a) != safe_filename(b)
    assert safe_filename("a/b") != safe_filename("a_b") and safe_filename("a_b") == "a_b.html"
    assert safe_filename("C000017") == "C000017.html"
    for cid in (a, "a/b", "..", "con"):
        name = safe_filename(cid)
        assert len(name) <= 120 and "/" not in name and name not in (".html", "..html")
    # an id equal to another id's sanitised form cannot share its file: the run fails
    with pytest.raises(RiskmlError, match="would share the report file"):
        customer_files(["a/b", safe_filename("a/b").removesuffix(".html")])
    with pytest.raises(RiskmlError, match="would share"):
        customer_files(["Acme", "ACME"])  # one file on a case-insensitive file system


# --------------------------------------------------------------------------------------- the set
def test_staged_directory_swaps_in_whole_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    with staged_directory(out) as stage:
        (stage / "portfolio.html").write_text("one")
    assert (out / "portfolio.html").read_text() == "one"
    with pytest.raises(KeyboardInterrupt), staged_directory(out) as stage:
        (stage / "portfolio.html").write_text("two")
        raise KeyboardInterrupt
    assert (out / "portfolio.html").read_text() == "one"  # untouched by the interrupted run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]  # no temporary left
    with staged_directory(out) as stage:
        (stage / "portfolio.html").write_text("three")
    assert (out / "portfolio.html").read_text() == "three"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]


def test_output_dir_with_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "scores.parquet").write_text("x")
    with pytest.raises(RiskmlError, match="holds other files than a report set"):
        check_output_dir(tmp_path)
    check_output_dir(tmp_path / "new")


def test_top_customers_by_priority_then_exposure() -> None:
    scores = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e"],
                           "review_due": [True, True, True, False, True],
                           "review_priority": [3, 1, 1, 0, 2]})
    exposure = pd.Series({"a": 9e6, "b": 10.0, "c": 500.0, "d": 1e9, "e": 0.0})
    assert top_customers(scores, 3, exposure) == ["c", "b", "e"]
    assert top_customers(scores, 10, exposure) == ["c", "b", "e", "a"]


# ----------------------------------------------------------------------------------------- the CLI
def test_unknown_customer_fails_before_the_ledger_is_read(tmp_path: Path) -> None:
    from riskml.cli.main import app

    scores = tmp_path / "scores.parquet"
    pd.DataFrame({"customer_id": ["C1", "C2"]}).to_parquet(scores)
    pd.DataFrame({"customer_id": ["C1"]}).to_parquet(tmp_path / "scores.contributions.parquet")
    # --data does not exist: the customer check must come first
    res = CliRunner().invoke(app, ["report", "--data", str(tmp_path / "no-ledger"), "--as-of", "2026-09-30",
                                   "--scores", str(scores), "--out", str(tmp_path / "r"),
                                   "--customer", "C1", "--customer", "NOPE,C2"])
    assert res.exit_code == 1 and "--customer: not in the scores: 'NOPE,C2'" in res.output, res.output


def test_report_help_reads_at_80_columns() -> None:
    from riskml.cli.main import app

    res = CliRunner().invoke(app, ["report", "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert res.exit_code == 0
    lines = res.output.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert "…" not in res.output  # nothing cut
    for opt in ("--customer", "--top", "--allow-future", "--no-ecoa-notice", "--features-config"):
        assert opt in res.output
    assert len(lines) < 75  # not one word per line


# ------------------------------------------------------------------------------- population stability
def test_rebased_reference_keeps_the_bins() -> None:
    from riskml.reporting.psi import BinnedReference

    ref = BinnedReference("x", (0.3, 0.3, 0.3, 0.1), cuts=(1.0, 2.0))
    new = ref.rebased([0.0, 1.5, 1.5, np.nan])
    assert new.cuts == (1.0, 2.0) and new.shares == (0.25, 0.5, 0.0, 0.25)
    cat = BinnedReference("c", (0.5, 0.5, 0.0), categories=("a", "b"))
    assert cat.rebased(["a", "a", "z", None]).shares == pytest.approx((2 / 3, 0.0, 1 / 3))  # unseen "z" left out
    assert ref.rebased([]) is None


@pytest.mark.slow
def test_portfolio_says_what_stability_compares_against(demo_run) -> None:
    from .pages import Page

    page = Page(demo_run.portfolio_page.read_text(encoding="utf-8"))
    # the demo run passes --previous: the reference is that scoring, not the two-year-old training data
    assert page["stability-reference"].get("data-value") == "the previous scoring as of 2026-06-30"
    assert "against the previous scoring as of 2026-06-30" in page.text


def test_work_lists_carry_no_float_noise() -> None:
    from riskml.reporting.run import list_table

    t = pd.DataFrame({"customer_id": ["a"], "pd": [0.10397439707877762], "exposure": [3787067.1500000004],
                      "months_since_review": [155.564681724846], "review_priority": [3.0]})
    out = list_table(t)
    assert out.to_csv(index=False).splitlines()[1] == "a,0.10397439707877762,3787067.15,155.6,3"


@pytest.mark.slow
def test_one_failing_customer_does_not_stop_the_others(demo_run, tmp_path: Path, monkeypatch) -> None:
    import riskml.reporting.run as run
    from riskml.cli.ledger import load_ledger_for_cli
    from riskml.io import read_table
    from riskml.modeling.registry import load_model
    from riskml.reporting.inputs import model_summary

    model, info = load_model(str(demo_run.model_dir))
    ledger = load_ledger_for_cli(demo_run.ledger_dir, None)
    scores = read_table(demo_run.scores_path)
    ids = scores["customer_id"].astype("str").tolist()[:3]
    real = run.build_customer_report

    def broken(row, *args, **kwargs):
        if str(row["customer_id"]) == ids[1]:
            raise OverflowError("amounts sum to inf")
        return real(row, *args, **kwargs)

    monkeypatch.setattr(run, "build_customer_report", broken)
    data = run.ReportData.from_frames(ledger, "2026-09-30", scores, demo_run.contributions, model_summary(model, info))
    files = run.write_reports(data, tmp_path / "r", ids)
    assert sorted(files.customers) == sorted([ids[0], ids[2]])
    assert files.failed == {ids[1]: "OverflowError: amounts sum to inf"}
    assert files.portfolio.exists() and (tmp_path / "r" / "customers" / f"{ids[2]}.html").exists()


def test_pages_show_names_without_bidi_controls() -> None:
    from riskml.reporting.html import environment

    tpl = environment().from_string("{{ name | display }}")
    assert tpl.render(name="Evil\u202eCorp\u200d") == "EvilCorp"
