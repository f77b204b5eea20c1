"""Issue 14, items 1 and 3: ids stay text through every CSV riskml writes and reads back, and no CSV
cell can run as a spreadsheet formula (OWASP), while Parquet is written as it is."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskml.cli.main import app
from riskml.io import FORMULA_STARTS, neutralise_formulas, read_table, restore_formulas, write_table
from riskml.modeling.train import read_labels_file
from riskml.scoring.score import load_previous
from tests.hardening.conftest import HOSTILE_IDS, formula_cells

runner = CliRunner()
IDS = ["00000000123", "NA", "nan", "NULL", "", "=1+2", "'x", "-7", "C1"]


def test_csv_ids_round_trip_as_text(tmp_path: Path) -> None:
    df = pd.DataFrame({"customer_id": IDS, "invoice_id": IDS[::-1], "grade": ["3"] * len(IDS),
                       "pd": [0.1] * len(IDS)})
    write_table(df, tmp_path / "t.csv")
    back = read_table(tmp_path / "t.csv")
    assert back["customer_id"].tolist()[:4] == ["00000000123", "NA", "nan", "NULL"]
    assert pd.isna(back["customer_id"].iloc[4])  # only the empty cell is missing
    assert back["customer_id"].tolist()[5:] == ["=1+2", "'x", "-7", "C1"]
    assert back["invoice_id"].iloc[0] == "C1" and back["pd"].dtype == "float64"


def test_parquet_ids_written_as_numbers_are_read_as_text(tmp_path: Path) -> None:
    pd.DataFrame({"customer_id": [123, 7]}).to_parquet(tmp_path / "t.parquet")
    assert read_table(tmp_path / "t.parquet")["customer_id"].tolist() == ["123", "7"]


def test_previous_scores_keep_their_ids(tmp_path: Path) -> None:
    pd.DataFrame({"customer_id": ["00000000123", "NA"], "grade": ["3", "4"]}).to_csv(tmp_path / "p.csv", index=False)
    prev = load_previous(tmp_path / "p.csv")
    assert prev["customer_id"].tolist() == ["00000000123", "NA"]
    assert prev["grade"].tolist() == ["3", "4"]


def test_labels_file_keeps_its_ids(tmp_path: Path) -> None:
    pd.DataFrame({"customer_id": ["00000000123", "NA", "nan"], "as_of": ["2025-06-30"] * 3,
                  "label": [0, 1, 0]}).to_csv(tmp_path / "l.csv", index=False)
    assert read_labels_file(tmp_path / "l.csv")["customer_id"].tolist() == ["00000000123", "NA", "nan"]


# ----------------------------------------------------------------------------------- formula injection
def test_neutralise_formulas_owasp_rule() -> None:
    df = pd.DataFrame({
        "name": ["=cmd|' /C calc'!A0", "+A1", "-1+1", "@SUM(1)", "\tx", "\rx", "'x", "plain", "-12.5", "+3", None],
        "amount": [-12.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    })
    out = neutralise_formulas(df)
    assert out["name"].tolist()[:8] == ["'=cmd|' /C calc'!A0", "'+A1", "'-1+1", "'@SUM(1)", "'\tx", "'\rx", "''x",
                                        "plain"]
    assert out["name"].tolist()[8:10] == ["-12.5", "+3"]  # plain numbers cannot run
    assert pd.isna(out["name"].iloc[10])
    assert out["amount"].tolist() == df["amount"].tolist()  # numeric columns untouched
    assert df["name"].iloc[0] == "=cmd|' /C calc'!A0"  # the input frame is not changed
    assert restore_formulas(out.copy())["name"].tolist()[:10] == df["name"].tolist()[:10]
    assert set(FORMULA_STARTS) == {"=", "+", "-", "@", "\t", "\r"}




def test_csv_exports_are_neutralised_parquet_untouched(hostile_ids_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    for f in hostile_ids_dir.glob("*.csv"):
        (tmp_path / "bad" / f.name).write_bytes(f.read_bytes())
    inv = pd.read_csv(tmp_path / "bad" / "invoices.csv", dtype="str", keep_default_na=False)
    inv.loc[0, "amount"] = "=1+2"
    inv.loc[1, ["invoice_id", "amount"]] = ["@evil", "0"]
    inv.loc[2, "amount"] = "-12.5"
    inv.to_csv(tmp_path / "bad" / "invoices.csv", index=False)
    res = runner.invoke(app, ["validate", "--data", str(tmp_path / "bad"), "--rejects", str(tmp_path / "r.csv")])
    assert res.exit_code == 0, res.output
    assert formula_cells(tmp_path / "r.csv") == []
    rejects = read_table(tmp_path / "r.csv")
    assert {"=1+2", "-12.5"} <= set(rejects["value"].dropna())  # read back as they were
    assert "@evil" in set(rejects["id"])


@pytest.mark.slow
def test_score_previous_csv_finds_the_moves_parquet_finds(hostile_ids_dir: Path, tiny_model_dir: Path,
                                                          tmp_path: Path) -> None:
    def score(as_of: str, out: Path, *extra: str) -> pd.DataFrame:
        res = runner.invoke(app, ["score", "--data", str(hostile_ids_dir), "--as-of", as_of, "--out", str(out),
                                  "--model", str(tiny_model_dir), *extra])
        assert res.exit_code == 0, res.output
        return read_table(out)

    prev_csv = score("2026-03-31", tmp_path / "prev.csv")
    prev_pq = score("2026-03-31", tmp_path / "prev.parquet")
    master = pd.read_csv(hostile_ids_dir / "customers.csv", dtype="str", keep_default_na=False)
    assert sorted(prev_csv["customer_id"]) == sorted(master["customer_id"]) == sorted(prev_pq["customer_id"])
    assert set(HOSTILE_IDS) <= set(prev_csv["customer_id"])
    assert formula_cells(tmp_path / "prev.csv") == []
    now_csv = score("2026-09-30", tmp_path / "now_csv.parquet", "--previous", str(tmp_path / "prev.csv"))
    now_pq = score("2026-09-30", tmp_path / "now_pq.parquet", "--previous", str(tmp_path / "prev.parquet"))
    moves = now_pq["review_codes"].fillna("").str.contains("grade_")
    assert moves.sum() > 0
    pd.testing.assert_series_equal(now_csv["review_codes"], now_pq["review_codes"])
    # the parquet file is written as it is (no escape)
    assert "=1+2" not in set(prev_pq["customer_id"]) and HOSTILE_IDS[2] in set(prev_pq["customer_id"])
