"""CSV cells that a spreadsheet would run as a formula, neutralised.

A text cell opening with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel, LibreOffice
and Google Sheets as a formula (CSV injection). Such cells get a leading apostrophe, which spreadsheets show as
text. Numbers stay numbers: number columns are not touched, and a text cell that is a plain number (a
customer id ``-42``) is left as it is. Parquet files keep the raw values.

(A local copy: ``riskml.io`` is getting the project-wide one; this module will then use it.)
"""

from __future__ import annotations

import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise_cell(value: object) -> object:
    """``value`` with a leading apostrophe when it is text a spreadsheet would evaluate."""
    if not isinstance(value, str) or not value or not value.startswith(FORMULA_START):
        return value
    if _NUMBER.match(value.strip()):
        return value
    return "'" + value


def neutralise_csv_cells(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells cannot run as spreadsheet formulas (module docstring)."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            out[col] = s.map(neutralise_cell).astype(s.dtype if s.dtype != object else object)
    return out
