"""``--as-of`` (issue 18): ISO dates only, one parser for every command, and a date inside the ledger's
range (its first invoice to its export date) unless ``--allow-future``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskml.cli.common import check_in_ledger, parse_date, valid_dates
from riskml.cli.main import app
from riskml.errors import RiskmlError

runner = CliRunner()


@pytest.mark.parametrize("value", ["10/09/2026", "30/09/2026", "2026-09", "today", "TODAY", "now", "2026-02-30",
                                   "2026-9-30", "20260930", "2026-09-30T12:00", " ", "30.09.2026"])
def test_only_iso_dates(value: str) -> None:
    with pytest.raises(RiskmlError, match="--as-of must be a date like 2026-09-30"):
        parse_date(value)


def test_today_says_nothing_reads_the_clock() -> None:
    with pytest.raises(RiskmlError, match="never reads the clock"):
        parse_date("today")


def test_iso_date_accepted() -> None:
    assert parse_date("2026-09-30") == pd.Timestamp("2026-09-30")
    assert parse_date(" 2024-02-29 ", "--previous") == pd.Timestamp("2024-02-29")


def test_range_of_a_ledger(small_ledger) -> None:
    first, last = valid_dates(small_ledger)
    assert first == small_ledger.invoices["invoice_date"].min().normalize()
    assert last == max(small_ledger.invoices["invoice_date"].max(), small_ledger.payments["payment_date"].max(),
                       small_ledger.orders["order_date"].max(), small_ledger.adjustments["date"].max()).normalize()
    check_in_ledger(first, small_ledger, export_as_of=None)
    check_in_ledger(last, small_ledger)
    with pytest.raises(RiskmlError, match=f"before the ledger's first invoice .*valid dates are {first.date()} to "
                                          f"{last.date()}"):
        check_in_ledger(first - pd.Timedelta(days=1), small_ledger)
    with pytest.raises(RiskmlError, match=f"after the ledger's export date {last.date()}.*--allow-future"):
        check_in_ledger(last + pd.Timedelta(days=1), small_ledger)
    check_in_ledger(pd.Timestamp("2030-01-01"), small_ledger, allow_future=True)
    # the data config's export date wins over the last event
    check_in_ledger(last + pd.Timedelta(days=10), small_ledger, export_as_of=str((last + pd.Timedelta(days=10)).date()))


@pytest.mark.slow
def test_features_command_refuses_dates_outside_the_ledger(small_ledger_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.parquet"
    for as_of, text in (("1999-01-01", "before the ledger's first invoice"), ("2030-01-01", "--allow-future"),
                        ("10/09/2026", "YYYY-MM-DD")):
        res = runner.invoke(app, ["features", "--data", str(small_ledger_dir), "--as-of", as_of, "--out", str(out)])
        assert res.exit_code == 1 and text in res.output, res.output
        assert not out.exists()
    res = runner.invoke(app, ["features", "--data", str(small_ledger_dir), "--as-of", "2030-01-01", "--allow-future",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
