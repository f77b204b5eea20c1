"""Property tests of the validator: for random injections into a valid ledger, accepted + rejected = read
per table, every rejected row is listed at its own line, and no valid row is rejected (the rows
accepted are exactly those an independent cascade of the rules predicts)."""

from __future__ import annotations

import csv
import functools
import io
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskml.config import DataConfig
from riskml.data.contract import TABLES
from riskml.data.validate import LedgerUnusable, load_ledger
from tests.data.conftest import TINY, assert_counts_add_up, tiny_frames, validate_frames

pytestmark = pytest.mark.slow

ID_COLUMNS = ("customer_id", "invoice_id", "payment_id", "adjustment_id", "order_id")
# per table: (column, value) corruptions that each reject the row they are put in, or "dup" (the key of
# an earlier valid row)
CORRUPTIONS = {
    "customers": [("customer_id", ""), ("payment_terms_days", "x"), ("credit_limit", "-1"),
                  ("onboarded_date", "2024-13-01"), ("payment_terms_days", "0"), "dup"],
    "invoices": [("amount", "0"), ("due_date", "2000-01-01"), ("disputed", "maybe"), ("customer_id", "CZ"),
                 ("invoice_date", ""), ("amount", "1e999"), "dup"],
    "payments": [("invoice_id", "IZ"), ("amount", "-1"), ("customer_id", ""), ("payment_date", "x"), "dup"],
    "adjustments": [("kind", "bad"), ("amount", "0"), ("date", ""), "dup"],
    "orders": [("amount", "0"), ("customer_id", "CZ"), ("closed_date", "2024-02-30"), "dup"],
}


@functools.cache
def _tiny() -> dict[str, pd.DataFrame]:
    return tiny_frames()


def replicated(k: int) -> dict[str, pd.DataFrame]:
    """``k`` disjoint copies of the tiny ledger (ids suffixed with the copy number)."""
    parts = {name: [] for name in TINY}
    for i in range(k):
        for name, df in _tiny().items():
            df = df.copy()
            for col in ID_COLUMNS:
                if col in df:
                    df[col] = df[col].where(df[col] == "", df[col] + f"_{i}")
            parts[name].append(df)
    return {name: pd.concat(dfs, ignore_index=True) for name, dfs in parts.items()}


@st.composite
def corrupted_ledgers(draw):
    frames = replicated(draw(st.integers(1, 3)))
    corrupted: dict[str, set[int]] = {}
    for name in TINY:
        df = frames[name]
        df = df.iloc[draw(st.permutations(range(len(df))))].reset_index(drop=True)
        rows = draw(st.lists(st.integers(0, len(df) - 1), unique=True, max_size=len(df)))
        key = TABLES[name].key
        done: set[int] = set()
        for r in sorted(rows):
            kind = draw(st.sampled_from(CORRUPTIONS[name]))
            earlier = [i for i in range(r) if i not in rows]
            if kind == "dup" and earlier:
                df.loc[r, key] = df.loc[draw(st.sampled_from(earlier)), key]
            else:
                column, value = CORRUPTIONS[name][0] if kind == "dup" else kind
                df.loc[r, column] = value
            done.add(r)
        frames[name], corrupted[name] = df, done
    return frames, corrupted


def expected_accepted(frames: dict[str, pd.DataFrame], corrupted: dict[str, set[int]]) -> dict[str, set[int]]:
    """The rows that must be accepted: not corrupted, and every reference to an accepted row."""
    def clean(name: str) -> pd.DataFrame:
        df = frames[name]
        return df.loc[[i for i in range(len(df)) if i not in corrupted[name]]]

    cust = set(clean("customers")["customer_id"])
    inv = clean("invoices")
    inv = inv[inv["customer_id"].isin(cust)]
    inv_ids = set(inv["invoice_id"])
    out = {"customers": set(clean("customers").index), "invoices": set(inv.index)}
    for name in ("payments", "adjustments"):
        df = clean(name)
        ok = df["customer_id"].isin(cust) & (df["invoice_id"].isin(inv_ids) | (df["invoice_id"] == ""))
        out[name] = set(df.index[ok])
    orders = clean("orders")
    out["orders"] = set(orders.index[orders["customer_id"].isin(cust)])
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(corrupted_ledgers())
def test_random_injections_reject_exactly_the_bad_rows_and_what_depends_on_them(case):
    frames, corrupted = case
    expected = expected_accepted(frames, corrupted)
    try:
        ledger, report = validate_frames(frames)
    except LedgerUnusable as exc:  # a required table lost every row: the report still says why
        assert any(not expected[n] for n in ("customers", "invoices", "payments"))
        ledger, report = None, exc.report
    assert_counts_add_up(report)
    summary = report.summary.set_index("table")
    for name, df in frames.items():
        key = TABLES[name].key
        assert summary.loc[name, "read"] == len(df)
        rejected_lines = set(report.rejects.loc[report.rejects["table"] == name, "line"])
        assert rejected_lines == {i + 2 for i in range(len(df))} - {i + 2 for i in expected[name]}, name
        if ledger is not None:
            assert sorted(ledger.tables()[name][key]) == sorted(df.loc[sorted(expected[name]), key]), name
        # each reject names the key of the row on its line
        mine = report.rejects[report.rejects["table"] == name]
        for line, rid in zip(mine["line"], mine["id"], strict=True):
            raw = df[key].iloc[line - 2].strip()
            assert (rid == raw) if raw else pd.isna(rid)


NAMES = ["Plain GmbH", "Two\nLines AG", 'A "quoted" name', "Comma, Inc", "Three\nline\nSARL", "  padded  "]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_csv_line_numbers_follow_the_file_with_line_breaks_and_blank_lines(data):
    n = data.draw(st.integers(1, 12))
    names = data.draw(st.lists(st.sampled_from(NAMES), min_size=n, max_size=n))
    bad = data.draw(st.sets(st.integers(0, n - 1)))
    blanks_before = data.draw(st.lists(st.integers(0, 2), min_size=n + 1, max_size=n + 1))
    crlf = data.draw(st.booleans())
    header = TINY["customers"].splitlines()[0]
    text, starts = header + "\n", []
    for i in range(n):
        text += "\n" * blanks_before[i]
        starts.append(text.count("\n") + 1)
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(
            [f"K{i}", "1000", "x" if i in bad else "30", names[i], "retail", "DE", "2024-01-01", "2024-01-01"])
        text += buf.getvalue()
    text += "\n" * blanks_before[n]
    if crlf:
        text = text.replace("\n", "\r\n")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "customers.csv").write_bytes(text.encode("utf-8"))
        for name in ("invoices", "payments"):
            (d / f"{name}.csv").write_text(TINY[name].splitlines()[0] + "\n")
        if len(bad) == n:
            return  # nothing usable: covered elsewhere
        ledger, report = load_ledger(d, DataConfig())
    assert_counts_add_up(report)
    assert sorted(report.rejects["line"]) == sorted(starts[i] for i in bad)
    got = ledger.customers.set_index("customer_id")["name"]
    for i in set(range(n)) - bad:
        assert got[f"K{i}"] == names[i].strip().replace("\n", "\r\n" if crlf else "\n")
