"""The inputs of the worklist besides the ledger, read and checked: the scores of ``riskml score``, the
collectors (a count or a file), the previous assignment and the optional promises to pay.

Every problem is one :class:`~riskml.errors.RiskmlError` line naming the file, the row, the column and the
rule; valid rows are never dropped silently.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from riskml.config import ScoringConfig
from riskml.errors import RiskmlError
from riskml.io import read_table

# the persona codes of the decisions contract (i11a): old codes map to the new ones here, and only here
PERSONA_ALIASES: dict[str, str] = {
    "stretching": "strong_late_payer",
    "deteriorating": "weak_late_payer",
    "disputing": "disorganised",
}
PERSONA_CODES = ("thin_file", "distressed", "disorganised", "weak_late_payer", "strong_late_payer", "prompt_payer",
                 "regular")
SCORE_COLUMNS = ("customer_id", "pd", "grade", "persona", "order_hold", "hold_codes", "action")
# decision columns added by the decisions branches; used when present, derived when absent
OPTIONAL_SCORE_COLUMNS = ("expected_loss", "release_amount", "hold_type", "treatment", "collections_track")
PROMISE_KINDS = ("promise", "plan")


def canonical_persona(code: object) -> str:
    """The persona code of the decisions contract (``stretching`` -> ``strong_late_payer``, ...)."""
    s = "" if code is None or (isinstance(code, float) and math.isnan(code)) else str(code).strip()
    s = PERSONA_ALIASES.get(s, s)
    return s or "regular"


def _text(col: pd.Series) -> pd.Series:
    return col.astype("str").where(col.notna(), "").replace({"nan": "", "<NA>": "", "None": ""})


def _flag(col: pd.Series, path: Path, name: str) -> pd.Series:
    if col.dtype == bool:
        return col
    text = _text(col).str.strip().str.lower()
    ok = text.isin(["true", "false", "1", "0", "1.0", "0.0", ""])
    if not ok.all():
        i = int(np.flatnonzero(~ok.to_numpy())[0])
        raise RiskmlError(f"{path}: row {i + 2}, column {name}: must be true or false; got {col.iloc[i]!r}")
    return text.isin(["true", "1", "1.0"])


def _grade(col: pd.Series) -> pd.Series:
    if col.dtype.kind == "f":  # a CSV round trip turns grades "1".."10" into numbers and "" into NaN
        return pd.Series([("" if pd.isna(g) else str(int(g)) if float(g).is_integer() else str(g)) for g in col],
                         index=col.index, dtype=object)
    return _text(col)


def prepare_scores(scores: pd.DataFrame, path: str | Path = "--scores", as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """The scores of ``riskml score`` (Parquet or a CSV round trip) with typed columns, persona codes of the
    decisions contract and the optional decision columns present (NaN / empty when the file lacks them)."""
    path = Path(path)
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise RiskmlError(f"{path}: scores need columns {list(SCORE_COLUMNS)} (the output of `riskml score`); "
                          f"missing {missing}")
    s = scores.copy()
    s["customer_id"] = s["customer_id"].astype("str")
    dup = s["customer_id"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise RiskmlError(f"{path}: row {i + 2}, column customer_id: duplicate customer {s['customer_id'].iloc[i]!r}")
    if as_of is not None and "as_of" in s.columns:
        dates = pd.to_datetime(s["as_of"], errors="coerce").dropna().dt.normalize().unique()
        if len(dates) and any(pd.Timestamp(d) != as_of for d in dates):
            raise RiskmlError(f"{path}: scores are as of {', '.join(str(pd.Timestamp(d).date()) for d in dates[:3])}, "
                              f"not --as-of {as_of.date()}; score the ledger as of that date first")
    p = pd.to_numeric(s["pd"], errors="coerce")
    bad = p.notna() & ((p < 0) | (p > 1))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise RiskmlError(f"{path}: row {i + 2}, column pd: must lie in [0, 1]; got {s['pd'].iloc[i]!r}")
    s["pd"] = p.astype("float64")
    s["grade"] = _grade(s["grade"])
    s["persona"] = [canonical_persona(v) for v in s["persona"]]
    s["order_hold"] = _flag(s["order_hold"], path, "order_hold")
    for col in ("hold_codes", "action"):
        s[col] = _text(s[col])
    for col in ("expected_loss", "release_amount"):
        s[col] = pd.to_numeric(s[col], errors="coerce").astype("float64") if col in s.columns else np.nan
    for col in ("hold_type", "treatment"):
        s[col] = _text(s[col]) if col in s.columns else ""
    s["collections_track"] = (_flag(s["collections_track"], path, "collections_track") if "collections_track" in s.columns
                              else False)
    s["decision_columns"] = ",".join(c for c in OPTIONAL_SCORE_COLUMNS if c in scores.columns)
    return s


def collectors_from_count(n: int) -> pd.DataFrame:
    """``n`` collectors named collector-1 .. collector-n, equal capacity, no portfolio."""
    if n < 1:
        raise RiskmlError(f"--collectors must be at least 1; got {n}")
    width = len(str(n))
    return pd.DataFrame({"collector": [f"collector-{i + 1:0{width}d}" for i in range(n)],
                         "capacity": np.full(n, np.inf), "portfolio": [""] * n})


def read_collectors(path: str | Path) -> pd.DataFrame:
    """The collectors file: ``name`` (or ``collector``), ``capacity`` (accounts; empty = no cap, the average
    capacity of the others sets its share) and optionally ``portfolio`` (a value of the customer-master column
    ``collections.portfolio_column``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise RiskmlError(f"--collectors-file {path}: must end in .csv or .parquet")
    if not path.exists():
        raise RiskmlError(f"--collectors-file {path}: file not found")
    try:
        raw = (pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig") if suffix == ".csv"
               else read_table(path))
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise RiskmlError(f"{path}: cannot be read as a table ({exc})") from None
    name_col = "name" if "name" in raw.columns else "collector" if "collector" in raw.columns else None
    if name_col is None:
        raise RiskmlError(f"{path}: needs a column name (the collector); got columns {list(raw.columns)}")
    if not len(raw):
        raise RiskmlError(f"{path}: no collectors listed")
    names = _text(raw[name_col]).str.strip()
    for i, n in enumerate(names):
        if not n:
            raise RiskmlError(f"{path}: row {i + 2}, column {name_col}: a collector needs a name")
    dup = names.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise RiskmlError(f"{path}: row {i + 2}, column {name_col}: collector {names.iloc[i]!r} listed twice")
    cap = np.full(len(raw), np.inf)
    if "capacity" in raw.columns:
        text = _text(raw["capacity"]).str.strip()
        for i, v in enumerate(text):
            if v == "":
                continue
            try:
                c = float(v)
            except ValueError:
                c = float("nan")
            if not (c >= 1 and math.isfinite(c)) or not float(c).is_integer():
                raise RiskmlError(f"{path}: row {i + 2}, column capacity: must be a whole number of accounts >= 1 "
                                  f"(or empty for no cap); got {v!r}")
            cap[i] = c
    portfolio = (_text(raw["portfolio"]).str.strip() if "portfolio" in raw.columns
                 else pd.Series([""] * len(raw)))
    return pd.DataFrame({"collector": names.to_numpy(dtype=object), "capacity": cap,
                         "portfolio": portfolio.to_numpy(dtype=object)})


def read_previous_assignment(path: str | Path) -> pd.DataFrame:
    """The ``assignment.csv`` of the previous run: ``customer_id`` and ``collector`` (empty = unassigned)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        if not path.exists():
            raise RiskmlError(f"--previous-assignment {path}: file not found")
        prev = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    else:
        prev = read_table(path)
    missing = [c for c in ("customer_id", "collector") if c not in prev.columns]
    if missing:
        raise RiskmlError(f"{path}: a previous assignment needs columns customer_id and collector; missing {missing}")
    out = pd.DataFrame({"customer_id": prev["customer_id"].astype("str").str.strip(),
                        "collector": _text(prev["collector"]).str.strip()})
    # a neutralised CSV cell starts with "'" when the name began with a formula character
    out["collector"] = out["collector"].where(~out["collector"].str.match(r"^'[=+\-@\t\r]"),
                                              out["collector"].str[1:])
    dup = out["customer_id"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise RiskmlError(f"{path}: row {i + 2}, column customer_id: customer {out['customer_id'].iloc[i]!r} "
                          "assigned twice")
    return out.loc[out["collector"] != ""].reset_index(drop=True)


def read_promises(path: str | Path) -> pd.DataFrame:
    """Promises to pay and payment-plan instalments the collectors recorded: ``customer_id``, ``made_date``
    (when the promise or plan was agreed), ``promised_date``, ``amount`` (> 0), optionally ``kind``
    (``promise`` or ``plan``; default promise) and ``plan_id`` (instalments of one plan share it; default: the
    customer, kind and made_date)."""
    path = Path(path)
    if not path.exists():
        raise RiskmlError(f"--promises {path}: file not found")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig") if path.suffix.lower() == ".csv" else read_table(path)
    need = ("customer_id", "made_date", "promised_date", "amount")
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise RiskmlError(f"{path}: promises need columns {list(need)}; missing {missing}")
    n = len(raw)
    out = pd.DataFrame({"customer_id": _text(raw["customer_id"]).str.strip()})
    for i, c in enumerate(out["customer_id"]):
        if not c:
            raise RiskmlError(f"{path}: row {i + 2}, column customer_id: must not be empty")
    for col in ("made_date", "promised_date"):
        vals = pd.to_datetime(_text(raw[col]).str.strip(), errors="coerce", format="ISO8601")
        bad = vals.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise RiskmlError(f"{path}: row {i + 2}, column {col}: must be a date like 2026-09-30; "
                              f"got {raw[col].iloc[i]!r}")
        out[col] = vals.dt.normalize()
    amt = pd.to_numeric(_text(raw["amount"]).str.strip(), errors="coerce")
    bad = ~(amt > 0) | ~np.isfinite(amt.fillna(np.nan).to_numpy("float64"))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise RiskmlError(f"{path}: row {i + 2}, column amount: must be a number > 0; got {raw['amount'].iloc[i]!r}")
    out["amount"] = amt.astype("float64")
    before = out["promised_date"] < out["made_date"]
    if before.any():
        i = int(np.flatnonzero(before.to_numpy())[0])
        raise RiskmlError(f"{path}: row {i + 2}, column promised_date: must be on or after made_date")
    kind = (_text(raw["kind"]).str.strip().str.lower() if "kind" in raw.columns else pd.Series(["promise"] * n))
    kind = kind.where(kind != "", "promise")
    bad = ~kind.isin(PROMISE_KINDS)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise RiskmlError(f"{path}: row {i + 2}, column kind: must be one of {list(PROMISE_KINDS)}; "
                          f"got {raw['kind'].iloc[i]!r}")
    out["kind"] = kind.to_numpy(dtype=object)
    plan = _text(raw["plan_id"]).str.strip() if "plan_id" in raw.columns else pd.Series([""] * n)
    default = out["customer_id"] + "|" + out["kind"] + "|" + out["made_date"].dt.strftime("%Y-%m-%d")
    out["plan_id"] = plan.where(plan != "", default).to_numpy(dtype=object)
    return out


def scoring_lgd(config: ScoringConfig) -> float:
    """Loss given default of the scoring config (the expected-loss fallback)."""
    return float(config.limits.lgd)
