"""UCI "Polish companies bankruptcy" (ARFF, one file per forecasting year) -> customers + labels.

The cold-start case: firms with 64 financial ratios from their statements and a bankruptcy outcome, but
no invoices or payments. Each firm becomes a customer whose ratios are declared numeric attributes
(``Attr1``..``Attr64``, ``?`` = missing); ``invoices.csv`` and ``payments.csv`` hold headers only.
The data carry no dates and no firm ids: see docs/real-data.md ("Polish") for the choices made.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from riskml.config import DataConfig, ExtraAttribute
from riskml.errors import DataError
from riskml.importers.common import (
    MAX_PROBLEMS,
    Converted,
    contract_frame,
    empty_contract_frame,
    labels_frame,
)

NAME = "polish"
TITLE = "UCI Polish companies bankruptcy"
KNOWN_SHA256 = {
    "1year.arff": "978ce71a4809e964dda43d46a368c27a1a36df1e0b6345f215473ec9c3b12add",
    "5year.arff": "cb3f6f250ac46bd8d18e9a222f489fe8ee3e396fcec18959f5a0ef8e8169b2fc",
}
# the data carry no dates: a nominal as-of at the end of the period the statements come from (2000-2013)
AS_OF = "2013-12-31"
TERMS_DAYS = 30  # nominal: no terms in the data
N_ATTRS = 64
CLASS = "class"
# years ahead at which the bankruptcy status was read, by forecasting-year file (UCI description)
HORIZON_YEARS = {1: 5, 2: 4, 3: 3, 4: 2, 5: 1}

# Attr number -> (meaning, economic direction toward bankruptcy risk). The rule for a direction:
# -1 when a good quantity (profit, equity, liquid or total assets) is divided by a quantity that cannot be
# negative (assets, sales, liabilities, costs); +1 when a liability or cost is divided by such a quantity;
# 0 for size, growth, turnover and days ratios and for ratios whose denominator can change sign.
# The directions are documented, not imposed: the ratios are declared unconstrained (monotone 0), because a
# near-zero denominator (a firm with almost no assets, sales or inventory left) sends a ratio to extreme
# values of either sign, where the rule no longer holds. Imposing them cost 0.016-0.033 test AUC on years
# 5 and 1 (docs/real-data.md); a user who wants them sets ``monotone`` in the written data.yaml.
ATTRIBUTES: dict[int, tuple[str, int]] = {
    1: ("net profit / total assets", -1),
    2: ("total liabilities / total assets", 1),
    3: ("working capital / total assets", -1),
    4: ("current assets / short-term liabilities", -1),
    5: ("(cash + short-term securities + receivables - short-term liabilities) / (operating expenses - "
        "depreciation) x 365", -1),
    6: ("retained earnings / total assets", -1),
    7: ("EBIT / total assets", -1),
    8: ("book value of equity / total liabilities", -1),
    9: ("sales / total assets", 0),
    10: ("equity / total assets", -1),
    11: ("(gross profit + extraordinary items + financial expenses) / total assets", -1),
    12: ("gross profit / short-term liabilities", -1),
    13: ("(gross profit + depreciation) / sales", -1),
    14: ("(gross profit + interest) / total assets", -1),
    15: ("(total liabilities x 365) / (gross profit + depreciation)", 0),
    16: ("(gross profit + depreciation) / total liabilities", -1),
    17: ("total assets / total liabilities", -1),
    18: ("gross profit / total assets", -1),
    19: ("gross profit / sales", -1),
    20: ("(inventory x 365) / sales", 0),
    21: ("sales (n) / sales (n-1)", 0),
    22: ("profit on operating activities / total assets", -1),
    23: ("net profit / sales", -1),
    24: ("gross profit (in 3 years) / total assets", -1),
    25: ("(equity - share capital) / total assets", -1),
    26: ("(net profit + depreciation) / total liabilities", -1),
    27: ("profit on operating activities / financial expenses", -1),
    28: ("working capital / fixed assets", -1),
    29: ("logarithm of total assets", 0),
    30: ("(total liabilities - cash) / sales", 1),
    31: ("(gross profit + interest) / sales", -1),
    32: ("(current liabilities x 365) / cost of products sold", 1),
    33: ("operating expenses / short-term liabilities", 0),
    34: ("operating expenses / total liabilities", 0),
    35: ("profit on sales / total assets", -1),
    36: ("total sales / total assets", 0),
    37: ("(current assets - inventories) / long-term liabilities", -1),
    38: ("constant capital / total assets", 0),
    39: ("profit on sales / sales", -1),
    40: ("(current assets - inventory - receivables) / short-term liabilities", -1),
    41: ("total liabilities / ((profit on operating activities + depreciation) x (12/365))", 0),
    42: ("profit on operating activities / sales", -1),
    43: ("rotation receivables + inventory turnover in days", 0),
    44: ("(receivables x 365) / sales", 0),
    45: ("net profit / inventory", -1),
    46: ("(current assets - inventory) / short-term liabilities", -1),
    47: ("(inventory x 365) / cost of products sold", 0),
    48: ("EBITDA (profit on operating activities - depreciation) / total assets", -1),
    49: ("EBITDA (profit on operating activities - depreciation) / sales", -1),
    50: ("current assets / total liabilities", -1),
    51: ("short-term liabilities / total assets", 1),
    52: ("(short-term liabilities x 365) / cost of products sold", 1),
    53: ("equity / fixed assets", -1),
    54: ("constant capital / fixed assets", 0),
    55: ("working capital", 0),
    56: ("(sales - cost of products sold) / sales", -1),
    57: ("(current assets - inventory - short-term liabilities) / (sales - gross profit - depreciation)", -1),
    58: ("total costs / total sales", 1),
    59: ("long-term liabilities / equity", 0),
    60: ("sales / inventory", 0),
    61: ("sales / receivables", 0),
    62: ("(short-term liabilities x 365) / sales", 1),
    63: ("sales / short-term liabilities", 0),
    64: ("sales / fixed assets", 0),
}
ATTR_COLUMNS = tuple(f"Attr{i}" for i in range(1, N_ATTRS + 1))


def read_arff(path: Path) -> tuple[str, pd.DataFrame]:
    """Parse a dense ARFF file: the relation name and a frame of its attributes.

    Numeric attributes become float64 (``?`` = missing); nominal ones stay text. Any malformed line is
    reported with its line number. Only what this data set uses is supported (no sparse rows, no
    string or date attributes)."""
    relation = ""
    names: list[str] = []
    kinds: list[str] = []
    rows: list[list[str]] = []
    problems: list[str] = []
    in_data = False
    with path.open(encoding="utf-8", errors="strict") as fh:
        try:
            lines = fh.read().splitlines()
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not a text ARFF file ({exc})") from None
    for no, line in enumerate(lines, start=1):
        s = line.strip()
        if not s or s.startswith("%"):
            continue
        if not in_data:
            low = s.lower()
            if low.startswith("@relation"):
                relation = s[len("@relation"):].strip().strip("'\"")
            elif low.startswith("@attribute"):
                m = re.match(r"@attribute\s+('[^']*'|\"[^\"]*\"|\S+)\s+(.+)$", s, flags=re.IGNORECASE)
                if not m:
                    raise DataError(f"{path}: line {no}: cannot read the @attribute declaration {s!r}")
                names.append(m.group(1).strip("'\""))
                kinds.append("numeric" if m.group(2).strip().lower() in ("numeric", "real", "integer") else "nominal")
            elif low.startswith("@data"):
                in_data = True
            else:
                raise DataError(f"{path}: line {no}: expected @relation, @attribute or @data; got {s[:40]!r}")
            continue
        if s.startswith("{"):
            raise DataError(f"{path}: line {no}: sparse ARFF rows are not supported")
        values = [v.strip() for v in s.split(",")]
        if len(values) != len(names):
            problems.append(f"{path}: line {no}: expected {len(names)} values; got {len(values)}")
            if len(problems) >= MAX_PROBLEMS:
                break
            continue
        rows.append(values)
    if not in_data:
        raise DataError(f"{path}: no @data section; is this an ARFF file?")
    if problems:
        raise DataError(problems)
    frame = pd.DataFrame(rows, columns=names, dtype="str")
    for name, kind in zip(names, kinds, strict=True):
        if kind != "numeric":
            frame[name] = frame[name].str.strip("'\"")
            continue
        raw = frame[name]
        num = pd.to_numeric(raw.where(raw != "?"), errors="coerce").astype("float64")
        bad = num.isna() & (raw != "?")
        for i in bad[bad].index[:MAX_PROBLEMS]:
            problems.append(f"{path}: data row {int(i) + 1}: attribute {name}: expected a number or ?; "
                            f"got {raw.loc[i]!r}")
        frame[name] = num
    if problems:
        raise DataError(problems)
    return relation, frame


def forecasting_year(path: Path, relation: str) -> int | None:
    """Which UCI file this is (1..5), from the file name or else the ``@relation`` name (``1year-...``)."""
    for text in (path.name, relation):
        m = re.search(r"([1-5])\s*(?:st|nd|rd|th)?\s*year", text, flags=re.IGNORECASE)
        if m:
            return int(m.group(1))
    return None


def read_polish(path: Path) -> tuple[pd.DataFrame, int | None]:
    """Read and check one Polish ARFF file: ``Attr1..Attr64`` as float, ``class`` as 0/1 int, plus the
    forecasting year (None when it cannot be told)."""
    relation, frame = read_arff(path)
    missing = [c for c in (*ATTR_COLUMNS, CLASS) if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing attribute(s) {missing}; found {list(frame.columns)}")
    cls = frame[CLASS]
    bad = ~cls.isin(["0", "1"])
    if bad.any():
        rows = [int(i) + 1 for i in bad[bad].index[:MAX_PROBLEMS]]
        raise DataError(f"{path}: attribute class must be 0 or 1; data rows {rows} are not")
    out = frame[list(ATTR_COLUMNS)].copy()
    out[CLASS] = cls.astype("int64")
    return out, forecasting_year(path, relation)


def polish_to_ledger(df: pd.DataFrame, year: int | None) -> Converted:
    """Map the Polish frame onto customers (ratios as declared attributes), empty invoices and payments,
    and labels (``class``) at the nominal :data:`AS_OF`.

    Ids are ``PL<year>Y-<row>`` (the data have no firm id; the same firm may appear in several files)."""
    prefix = f"PL{year}Y" if year else "PL"
    ids = pd.Series([f"{prefix}-{i:05d}" for i in range(1, len(df) + 1)], dtype="str")
    customers = pd.DataFrame({
        "customer_id": ids,
        "credit_limit": np.nan,
        "payment_terms_days": TERMS_DAYS,
        "onboarded_date": AS_OF,
    })
    customers = pd.concat([customers, df[list(ATTR_COLUMNS)].reset_index(drop=True)], axis=1)
    extras = {
        f"Attr{i}": ExtraAttribute(
            kind="numeric", monotone=0,
            description=f"Attr{i}: {meaning}" + (f" (economic direction: higher = {'riskier' if d > 0 else 'safer'}; "
                                                 "not imposed)" if d else ""),
            reason=f"{meaning[:1].upper()}{meaning[1:]} is {{value:,.3f}}",
        )
        for i, (meaning, d) in ATTRIBUTES.items()
    }
    cfg = DataConfig(as_of=AS_OF, extra_attributes=extras)
    labels = labels_frame(ids, AS_OF, df[CLASS])
    horizon = HORIZON_YEARS.get(year or 0)
    n_missing = int(df[list(ATTR_COLUMNS)].isna().sum().sum())
    notes = (
        f"{len(df):,} firms, {int(df[CLASS].sum()):,} bankrupt ({df[CLASS].mean():.2%}); "
        + (f"forecasting year {year}: bankruptcy status read {horizon} year(s) after the statements"
           if horizon else "forecasting year unknown (not in the file name or @relation)"),
        f"no invoices or payments (cold start); 64 ratios as numeric attributes, {n_missing:,} missing cells; "
        "no monotone constraints (extreme ratios break the economic directions; see docs/real-data.md)",
        f"the data carry no dates: customers are onboarded and labelled at the nominal date {AS_OF}",
    )
    return Converted(
        tables={
            "customers": contract_frame("customers", customers),
            "invoices": empty_contract_frame("invoices"),
            "payments": empty_contract_frame("payments"),
        },
        data_config=cfg,
        labels=labels,
        notes=notes,
    )
