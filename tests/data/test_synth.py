"""The demo-ledger generator: determinism, contract conformance, ledger invariants, persona behaviour,
event rate, the writer and the ``riskml synth`` command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from riskml.cli.main import app
from riskml.data.contract import ADJUSTMENT_KINDS, TABLES
from riskml.data.ledger import Ledger, empty_table
from riskml.data.synth import (
    MIXES,
    PERSONA_NAMES,
    PERSONAS,
    SyntheticLedger,
    fixed_width_ids,
    generate_ledger,
    resolve_mix,
)
from riskml.data.writer import write_ledger
from riskml.errors import ConfigError

pytestmark = pytest.mark.slow

END = pd.Timestamp("2026-09-30")
DAY = pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def big() -> SyntheticLedger:
    """3,000 customers x 36 months: enough customers per persona for stable behaviour statistics."""
    return generate_ledger(n_customers=3000, months=36, seed=3, end=END)


# ------------------------------------------------------------------------------------------- helpers
def applied_payments(synth: SyntheticLedger) -> pd.DataFrame:
    """Payments applied to invoices with the invoice's dates, days beyond terms and the truth."""
    led = synth.ledger
    pay = led.payments[led.payments["invoice_id"].notna()]
    out = pay.merge(led.invoices[["invoice_id", "invoice_date", "due_date", "disputed"]], on="invoice_id")
    out["dbt"] = (out["payment_date"] - out["due_date"]).dt.days
    return out.merge(synth.truth, on="customer_id")


def weighted_dbt(df: pd.DataFrame) -> float:
    return float(np.average(df["dbt"], weights=df["amount"]))


def open_at_ninety(synth: SyntheticLedger) -> pd.DataFrame:
    """Invoices with an amount still open 90 days after their due date (when that is before the end)."""
    led = synth.ledger
    settle = pd.concat([
        led.payments.loc[led.payments["invoice_id"].notna(), ["invoice_id", "payment_date", "amount"]]
        .rename(columns={"payment_date": "d"}),
        led.adjustments[["invoice_id", "date", "amount"]].rename(columns={"date": "d"}),
    ])
    inv = led.invoices
    settle = settle.merge(inv[["invoice_id", "due_date"]], on="invoice_id")
    settled = settle[settle["d"] <= settle["due_date"] + 90 * DAY].groupby("invoice_id")["amount"].sum()
    open_amt = inv["amount"] - inv["invoice_id"].map(settled).fillna(0.0)
    end = synth.ledger.date_range()[1]
    return inv[(open_amt > 0.005) & (inv["due_date"] + 90 * DAY <= end)]


def rank_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count half)."""
    ranks = pd.Series(score).rank().to_numpy()
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def check_invariants(synth: SyntheticLedger, end: pd.Timestamp) -> None:
    """Everything a generated ledger promises, whatever the arguments."""
    led = synth.ledger
    for name, df in led.tables().items():
        assert list(df.columns) == TABLES[name].column_names, name
        assert df.dtypes.equals(empty_table(name).dtypes), (name, df.dtypes)
        key = TABLES[name].key
        assert df[key].notna().all() and df[key].is_unique, name
        if "amount" in df:
            assert (df["amount"] > 0).all(), name
            assert np.allclose(df["amount"], df["amount"].round(2), rtol=0, atol=1e-9), name
        if "currency" in df:
            assert (df["currency"] == "EUR").all(), name
        if name != "customers":
            assert df["customer_id"].isin(led.customers["customer_id"]).all(), name
            for col in TABLES[name].date_columns:
                if col != "due_date":  # invoices issued shortly before the end fall due after it
                    assert not (df[col] > end).any(), (name, col)

    cust, inv, pay, adj, orders = led.customers, led.invoices, led.payments, led.adjustments, led.orders
    assert (cust["payment_terms_days"].isin([30, 45, 60])).all()
    assert (cust["credit_limit"].dropna() >= 0).all()
    assert (cust["last_review_date"] >= cust["onboarded_date"]).all()

    assert (inv["due_date"] >= inv["invoice_date"]).all()
    onboarded = inv["customer_id"].map(cust.set_index("customer_id")["onboarded_date"])
    assert (inv["invoice_date"] >= onboarded).all()
    assert (inv["disputed"] == inv["dispute_date"].notna()).all()
    assert (inv.loc[inv["disputed"], "dispute_date"] >= inv.loc[inv["disputed"], "invoice_date"]).all()

    applied = pay[pay["invoice_id"].notna()]
    inv_cols = inv[["invoice_id", "customer_id", "invoice_date", "amount"]]
    for df, date_col in ((applied, "payment_date"), (adj, "date")):
        m = df.merge(inv_cols, on="invoice_id", how="left", suffixes=("", "_inv"), validate="many_to_one")
        assert m["invoice_date"].notna().all()  # every applied item belongs to a known invoice
        assert (m[date_col] >= m["invoice_date"]).all()
        assert (m["customer_id"] == m["customer_id_inv"]).all()
    assert adj["kind"].isin(ADJUSTMENT_KINDS).all()
    # payments and credits never settle more than the invoice
    settled = pd.concat([applied[["invoice_id", "amount"]], adj[["invoice_id", "amount"]]])
    total = settled.groupby("invoice_id", as_index=False)["amount"].sum().merge(
        inv_cols, on="invoice_id", suffixes=("", "_inv"))
    assert (total["amount"] <= total["amount_inv"] + 1e-6).all()

    assert (orders["closed_date"].isna() | (orders["closed_date"] >= orders["order_date"])).all()

    truth = synth.truth
    assert list(truth.columns) == ["customer_id", "persona", "default_date", "scheduled_default_date",
                                   "stress_at_end"]
    # the scheduled default is the default when it falls by the end, and may fall after it
    by_end = truth["scheduled_default_date"] <= end
    assert truth["default_date"].isna().eq(~by_end).all()
    assert (truth.loc[by_end, "default_date"] == truth.loc[by_end, "scheduled_default_date"]).all()
    assert truth["stress_at_end"].between(0, 1).all()
    assert truth["customer_id"].equals(cust["customer_id"])
    assert truth["persona"].isin(PERSONA_NAMES).all()
    assert not (truth["default_date"] > end).any()
    wo_customers = adj.loc[adj["kind"] == "write_off", "customer_id"]
    assert wo_customers.isin(truth.loc[truth["default_date"].notna(), "customer_id"]).all()


# --------------------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_frames():
    a = generate_ledger(n_customers=150, months=12, seed=5, end="2025-06-30")
    b = generate_ledger(n_customers=150, months=12, seed=5, end="2025-06-30")
    for name, df in a.ledger.tables().items():
        pd.testing.assert_frame_equal(df, b.ledger.tables()[name])
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert a.ledger.fingerprint() == b.ledger.fingerprint()


def test_different_seed_gives_different_frames():
    a = generate_ledger(n_customers=150, months=12, seed=5, end="2025-06-30")
    b = generate_ledger(n_customers=150, months=12, seed=6, end="2025-06-30")
    assert a.ledger.fingerprint() != b.ledger.fingerprint()
    assert not a.ledger.invoices["amount"].head(50).equals(b.ledger.invoices["amount"].head(50))
    assert not a.truth["persona"].equals(b.truth["persona"])


# ---------------------------------------------------------------------------------- contract and ids
def test_small_ledger_conforms_to_contract(small_synth):
    check_invariants(small_synth, END)
    assert isinstance(small_synth.ledger, Ledger)
    assert all(n > 0 for n in small_synth.ledger.row_counts().values())


@pytest.mark.parametrize("table,prefix", [
    ("customers", "C"), ("invoices", "INV"), ("payments", "PAY"), ("adjustments", "ADJ"), ("orders", "ORD"),
])
def test_ids_are_prefixed_numbered_strings(small_ledger, table, prefix):
    ids = small_ledger.tables()[table][TABLES[table].key]
    assert ids.str.fullmatch(prefix + r"\d{6,}").all()
    numbers = ids.str.slice(len(prefix)).astype(int)
    assert numbers.min() == 1 and numbers.max() == len(ids)


def test_invoice_numbers_follow_time(small_ledger):
    inv = small_ledger.invoices
    assert inv["invoice_date"].is_monotonic_increasing


def test_fixed_width_ids_pads_and_marks_missing():
    s = fixed_width_ids("INV", np.array([1, 42, -1, 12345678]), 8)
    assert s.dtype == "str"
    assert s.iloc[0] == "INV00000001" and s.iloc[1] == "INV00000042" and s.iloc[3] == "INV12345678"
    assert pd.isna(s.iloc[2])
    assert len(fixed_width_ids("C", np.array([], dtype=np.int64), 6)) == 0


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 40),
    months=st.integers(1, 15),
    seed=st.integers(0, 2**32 - 1),
    end=st.dates(min_value=pd.Timestamp("2019-01-01").date(), max_value=pd.Timestamp("2031-12-31").date()),
)
def test_invariants_hold_for_any_arguments(n, months, seed, end):
    synth = generate_ledger(n_customers=n, months=months, seed=seed, end=end)
    check_invariants(synth, pd.Timestamp(end))
    assert len(synth.ledger.customers) == n
    window_start = (pd.Timestamp(end).to_period("M") - (months - 1)).to_timestamp()
    assert not (synth.ledger.invoices["invoice_date"] < window_start).any()


@pytest.mark.parametrize("kwargs,match", [
    ({"n_customers": 0}, "customers must be >= 1"),
    ({"months": 0}, "months must be between"),
    ({"seed": -1}, "seed must be >= 0"),
    ({"end": "not a date"}, "end must be a date"),
])
def test_impossible_arguments_are_user_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        generate_ledger(**{"n_customers": 10, "months": 6, "seed": 1, "end": "2025-06-30", **kwargs})


# ------------------------------------------------------------------------------------------ personas
def test_persona_shares_match_the_spec(big):
    shares = big.truth["persona"].value_counts(normalize=True)
    total = sum(p.share for p in PERSONAS)
    for p in PERSONAS:
        assert abs(shares[p.name] - p.share / total) < 0.03, p.name


def test_distressed_dbt_rises_before_default(big):
    ap = applied_payments(big)
    d = ap[(ap["persona"] == "distressed") & ap["default_date"].notna()]
    before = (d["default_date"] - d["payment_date"]).dt.days
    last6 = d[(before > 0) & (before <= 182)]
    prior = d[(before > 182) & (before <= 365)]
    assert len(last6) > 100 and len(prior) > 100
    assert weighted_dbt(last6) > weighted_dbt(prior) + 8


def test_signals_precede_defaults(big):
    """Partial payments rise and sales fall over the 6 months before a ramped default."""
    led, truth = big.ledger, big.truth
    ramped = truth[truth["persona"].isin(["distressed", "deteriorating"]) & truth["default_date"].notna()]
    inv = led.invoices.merge(ramped, on="customer_id")
    before = (inv["default_date"] - inv["invoice_date"]).dt.days
    # customers with a full 12 months of history before their default
    start = led.invoices["invoice_date"].min()
    full = inv["default_date"] - pd.DateOffset(months=12) >= start
    sales_last6 = inv.loc[full & (before > 0) & (before <= 182), "amount"].sum()
    sales_prior = inv.loc[full & (before > 182) & (before <= 365), "amount"].sum()
    assert sales_last6 < 0.85 * sales_prior

    pay = led.payments[led.payments["invoice_id"].notna()]
    pieces = pay.groupby("invoice_id").size()
    inv["pieces"] = inv["invoice_id"].map(pieces).fillna(0)
    paid = inv[inv["pieces"] > 0]
    b = (paid["default_date"] - paid["invoice_date"]).dt.days
    late_share = (paid.loc[(b > 30) & (b <= 210), "pieces"] > 1).mean()
    early_share = (paid.loc[(b > 210) & (b <= 395), "pieces"] > 1).mean()
    assert late_share > early_share + 0.05


def test_prompt_payers_pay_on_time(big):
    ap = applied_payments(big)
    prompt = ap[(ap["persona"] == "prompt") & ap["default_date"].isna()]
    assert abs(weighted_dbt(prompt)) < 4
    assert (prompt["dbt"] <= 0).mean() > 0.8
    assert np.average(prompt["dbt"].clip(lower=0), weights=prompt["amount"]) < 3


def test_stretchers_are_consistently_late_but_rarely_default(big):
    ap = applied_payments(big)
    s = ap[(ap["persona"] == "stretcher") & ap["default_date"].isna() & ~ap["disputed"]]
    assert 15 <= weighted_dbt(s) <= 45
    per_customer = s.groupby("customer_id").apply(weighted_dbt, include_groups=False)
    assert (per_customer.between(8, 55)).mean() > 0.9
    truth = big.truth
    stretchers = truth[truth["persona"] == "stretcher"]
    assert stretchers["default_date"].notna().mean() < 0.03
    # they are the large customers
    size = big.ledger.invoices.merge(truth, on="customer_id").groupby("persona")["amount"].median()
    assert size["stretcher"] > 2 * size["prompt"]


def test_disputing_customers_dispute_deduct_and_rarely_default(big):
    led, truth = big.ledger, big.truth
    inv = led.invoices.merge(truth, on="customer_id")
    share = inv.groupby("persona")["disputed"].mean()
    assert share["disputing"] > 0.08 and share["disputing"] > 5 * share["prompt"]
    adj = led.adjustments.merge(truth, on="customer_id")
    ded = adj[adj["kind"] == "deduction"]["persona"].value_counts(normalize=True)
    assert ded["disputing"] > 0.4
    disputers = truth[truth["persona"] == "disputing"]
    assert disputers["default_date"].notna().mean() < 0.05
    # label noise: some disputed items of customers that never default reach 90+ days past due
    late = open_at_ninety(big).merge(truth, on="customer_id")
    noisy = late[(late["persona"] == "disputing") & late["default_date"].isna()]
    assert noisy["disputed"].sum() > 5


def test_new_customers_have_a_thin_history(big):
    led, truth = big.ledger, big.truth
    new_ids = truth.loc[truth["persona"] == "new", "customer_id"]
    onboarded = led.customers.set_index("customer_id").loc[new_ids, "onboarded_date"]
    assert (onboarded >= END - pd.DateOffset(months=6) - DAY).all()
    counts = led.invoices["customer_id"].value_counts()
    assert counts.reindex(new_ids).fillna(0).median() < counts.median() / 3


def test_default_rate_is_realistic(big):
    assert 0.08 <= big.truth["default_date"].notna().mean() <= 0.12


def test_defaulters_stop_paying_and_go_ninety_days_past_due(big):
    led, truth = big.ledger, big.truth
    defaulted = truth[truth["default_date"].notna()].set_index("customer_id")["default_date"]
    pay = led.payments[led.payments["customer_id"].isin(defaulted.index)]
    assert (pay["payment_date"] < pay["customer_id"].map(defaulted)).all()
    late = open_at_ninety(big)
    early = defaulted[defaulted <= END - pd.DateOffset(months=6)]
    assert late["customer_id"].isin(early.index).groupby(late["customer_id"]).any().sum() > 0.9 * len(early)

    wo = led.adjustments[led.adjustments["kind"] == "write_off"]
    assert len(wo) > 0
    due = wo["invoice_id"].map(led.invoices.set_index("invoice_id")["due_date"])
    lag = (wo["date"] - due).dt.days
    assert lag.min() >= 30 and lag.median() >= 120
    assert (wo["date"] > wo["customer_id"].map(defaulted)).all()


def test_the_event_is_predictable_but_not_trivially(big):
    """Past-due behaviour a year before separates future 90+ DPD customers, but far from perfectly."""
    led = big.ledger
    as_of = pd.Timestamp("2025-03-31")
    inv = led.invoices[led.invoices["invoice_date"] <= as_of]
    pay = led.payments[(led.payments["payment_date"] <= as_of) & led.payments["invoice_id"].notna()]
    adj = led.adjustments[led.adjustments["date"] <= as_of]
    paid = pd.concat([pay[["invoice_id", "amount"]], adj[["invoice_id", "amount"]]]).groupby("invoice_id")["amount"].sum()
    open_amt = inv["amount"] - inv["invoice_id"].map(paid).fillna(0.0)
    past_due = (open_amt > 0.005) & (inv["due_date"] < as_of)
    score = (open_amt.where(past_due, 0).groupby(inv["customer_id"]).sum()
             / open_amt.groupby(inv["customer_id"]).sum().clip(lower=1.0))
    defaulted_before = big.truth.set_index("customer_id")["default_date"] <= as_of
    score = score[~defaulted_before.reindex(score.index).to_numpy()]
    late = open_at_ninety(big)
    event = late[(late["due_date"] + 90 * DAY > as_of) & (late["due_date"] + 90 * DAY <= as_of + pd.DateOffset(months=12))]
    y = score.index.isin(event["customer_id"])
    assert 0.03 < y.mean() < 0.2
    auc = rank_auc(y, score.to_numpy())
    assert 0.6 < auc < 0.95


def test_credit_limits_onboarding_and_reviews(big):
    cust = big.ledger.customers
    assert 0 < cust["credit_limit"].isna().mean() < 0.08
    assert ((cust["credit_limit"].dropna() % 1000) == 0).all()
    not_reviewed = cust["last_review_date"] == cust["onboarded_date"]
    assert 0.5 < not_reviewed.mean() < 0.9
    assert (cust["last_review_date"] < END - pd.DateOffset(months=24)).mean() > 0.2
    window_start = big.ledger.invoices["invoice_date"].min()
    before = cust["onboarded_date"] < window_start
    assert 0.4 < before.mean() < 0.8


def test_unapplied_cash_and_open_orders(big):
    led = big.ledger
    unapplied = led.payments[led.payments["invoice_id"].isna()]
    assert 0 < len(unapplied) < 0.05 * len(led.payments)
    orders = led.orders
    open_orders = orders[orders["closed_date"].isna()]
    assert len(open_orders) > 0 and (open_orders["order_date"] >= END - pd.DateOffset(months=3)).mean() > 0.9
    # orders are invoiced on their closed date, in every month of the window
    assert orders["order_date"].dt.to_period("M").nunique() == 36


def test_sales_are_seasonal(big):
    inv = big.ledger.invoices.merge(big.ledger.customers[["customer_id", "industry"]], on="customer_id")
    retail = inv[inv["industry"] == "retail"]
    by_month = retail.groupby(retail["invoice_date"].dt.month)["amount"].sum()
    assert by_month.loc[[10, 11, 12]].mean() > 1.3 * by_month.loc[[4, 5, 6]].mean()


def test_end_in_mid_month_leaves_later_orders_open():
    synth = generate_ledger(n_customers=200, months=6, seed=2, end="2025-03-15")
    check_invariants(synth, pd.Timestamp("2025-03-15"))
    orders = synth.ledger.orders
    assert orders["closed_date"].isna().sum() > 0
    assert synth.ledger.date_range()[1] <= pd.Timestamp("2025-03-15")


# -------------------------------------------------------------------------------------------- writer
def test_write_ledger_round_trips_parquet_and_cleans_stale_files(small_ledger, tmp_path):
    (tmp_path / "customers.csv").write_text("stale")
    (tmp_path / "notes.txt").write_text("mine")
    paths = write_ledger(small_ledger, tmp_path, "parquet")
    assert set(paths) == set(TABLES)
    assert not (tmp_path / "customers.csv").exists() and (tmp_path / "notes.txt").exists()
    for name, path in paths.items():
        back = pd.read_parquet(path)
        pd.testing.assert_frame_equal(back, small_ledger.tables()[name], check_dtype=False)
        assert list(back.columns) == TABLES[name].column_names


def test_write_ledger_skips_empty_tables_and_keeps_extra_columns(small_ledger, tmp_path):
    customers = small_ledger.customers.assign(segment="A")[["segment", *TABLES["customers"].column_names]]
    led = Ledger(customers=customers, invoices=small_ledger.invoices, payments=small_ledger.payments)
    (tmp_path / "orders.csv").write_text("stale")
    paths = write_ledger(led, tmp_path, "csv")
    assert set(paths) == {"customers", "invoices", "payments"}
    assert not (tmp_path / "orders.csv").exists()
    header = (tmp_path / "customers.csv").read_text().splitlines()[0].split(",")
    assert header == [*TABLES["customers"].column_names, "segment"]


def test_write_ledger_rejects_an_unknown_format(small_ledger, tmp_path):
    with pytest.raises(ConfigError, match="format must be one of csv, parquet; got 'xlsx'"):
        write_ledger(small_ledger, tmp_path, "xlsx")  # type: ignore[arg-type]


def test_small_ledger_dir_holds_csv_tables_and_truth(small_ledger_dir: Path, small_synth):
    assert sorted(p.name for p in small_ledger_dir.glob("*.csv")) == sorted(f"{t}.csv" for t in TABLES)
    truth = pd.read_csv(small_ledger_dir / "_truth" / "personas.csv")
    assert truth["customer_id"].tolist() == small_synth.truth["customer_id"].tolist()
    inv = pd.read_csv(small_ledger_dir / "invoices.csv")
    assert inv["invoice_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


# ----------------------------------------------------------------------------------------------- CLI
def test_cli_synth_writes_tables_truth_and_a_summary(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["synth", "--out", str(out), "--customers", "120", "--months", "12",
                                      "--seed", "4", "--end", "2025-12-31", "--format", "parquet"])
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "customers 120" in result.output and "default by 2025-12-31" in result.output
    for name in ("customers", "invoices", "payments"):
        assert (out / f"{name}.parquet").exists()
    expected = generate_ledger(n_customers=120, months=12, seed=4, end="2025-12-31")
    back = pd.read_parquet(out / "invoices.parquet")
    pd.testing.assert_frame_equal(back, expected.ledger.invoices, check_dtype=False)
    truth = pd.read_csv(out / "_truth" / "personas.csv")
    assert truth["persona"].tolist() == expected.truth["persona"].tolist()


@pytest.mark.parametrize("args,message", [
    (["--format", "xlsx"], "format must be one of csv, parquet"),
    (["--end", "2025-13-01"], "--end must be a date"),
    (["--customers", "0"], "customers must be >= 1"),
])
def test_cli_synth_bad_input_exits_1_with_a_message(tmp_path, args, message):
    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path / "x"), *args])
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert not (tmp_path / "x").exists()


def test_cli_synth_without_arguments_shows_help():
    result = CliRunner().invoke(app, ["synth"])
    assert "Example: riskml synth" in result.output


# ------------------------------------------------------------------------------------------- mixes
def test_default_mix_is_the_demo_mix_unchanged():
    a = generate_ledger(n_customers=150, months=12, seed=5, end="2025-06-30")
    b = generate_ledger(n_customers=150, months=12, seed=5, end="2025-06-30", mix="demo")
    pd.testing.assert_frame_equal(a.ledger.invoices, b.ledger.invoices)
    pd.testing.assert_frame_equal(a.truth, b.truth)


def test_resolve_mix_reads_names_dicts_and_share_strings():
    shares, downturn = resolve_mix("prompt=3,stretcher=1,downturn=0.25")
    assert shares.tolist() == [0.75, 0.25, 0.0, 0.0, 0.0, 0.0] and downturn == 0.25
    shares, downturn = resolve_mix({"disputing": 2.0})
    assert shares[PERSONA_NAMES.index("disputing")] == 1.0 and downturn == 0.0
    assert resolve_mix("harsh")[1] == MIXES["harsh"]["downturn"]


@pytest.mark.parametrize("mix,match", [
    ("nope", "mix must be one of"), ("prompt=x", "must be a number"), ("ghost=1", "unknown persona"),
    ("prompt=-1,stretcher=2", "shares must be >= 0"), ("prompt=1,downturn=2", "downturn must be between"),
])
def test_bad_mixes_are_config_errors(mix, match):
    with pytest.raises(ConfigError, match=match):
        resolve_mix(mix)


def test_harsh_mix_has_more_weak_customers_and_defaults_after_the_end():
    end = pd.Timestamp("2025-12-31")
    demo = generate_ledger(n_customers=3000, months=24, seed=9, end=end).truth
    harsh = generate_ledger(n_customers=3000, months=24, seed=9, end=end, mix="harsh").truth

    def ahead(t):
        d = t["scheduled_default_date"]
        alive = t["default_date"].isna()
        return ((d > end) & (d <= end + pd.DateOffset(months=12))).sum() / alive.sum()

    share = harsh["persona"].value_counts(normalize=True)
    assert abs(share["deteriorating"] - 0.20) < 0.03 and abs(share["disputing"] - 0.18) < 0.03
    assert ahead(harsh) >= 0.10 > ahead(demo)
    # the downturn's defaulters are stressed at the end already (the ramp ends on the default day)
    soon = (harsh["scheduled_default_date"] > end) & (harsh["scheduled_default_date"] <= end + pd.Timedelta(days=90))
    assert harsh.loc[soon & harsh["persona"].isin(["distressed", "deteriorating"]), "stress_at_end"].median() > 0.3


def test_cli_synth_mix_option(tmp_path):
    out = tmp_path / "harsh"
    result = CliRunner().invoke(app, ["synth", "--out", str(out), "--customers", "120", "--months", "12",
                                      "--seed", "4", "--end", "2025-12-31", "--mix", "harsh"])
    assert result.exit_code == 0, result.output
    assert "in the 12 months after" in result.output
    expected = generate_ledger(n_customers=120, months=12, seed=4, end="2025-12-31", mix="harsh")
    truth = pd.read_csv(out / "_truth" / "personas.csv")
    assert truth["persona"].tolist() == expected.truth["persona"].tolist()
    bad = CliRunner().invoke(app, ["synth", "--out", str(tmp_path / "x"), "--mix", "ghost=1"])
    assert bad.exit_code == 1 and "unknown persona" in bad.stderr and not (tmp_path / "x").exists()
