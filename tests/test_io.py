"""Outputs are written atomically: a failing write leaves the previous file (or none), never a half file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from riskml.errors import RiskmlError
from riskml.io import atomic_path, read_table, write_table, write_text


def test_round_trip_csv_and_parquet(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    for name in ("t.csv", "t.parquet"):
        write_table(df, tmp_path / "sub" / name)
        pd.testing.assert_frame_equal(read_table(tmp_path / "sub" / name), df, check_dtype=False)


def test_failure_keeps_the_previous_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_text("old", target)
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("killed")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_output_gets_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = write_text("x", tmp_path / "perm.txt")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_unknown_suffix_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(RiskmlError, match=r"\.parquet or \.csv"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.xlsx")
    with pytest.raises(RiskmlError, match="file not found"):
        read_table(tmp_path / "missing.csv")
