"""Mapping an export onto the ledger contract, beyond renaming columns (``configs/data.yaml``).

* **One flat file** (``flat_file``): the usual AR export is one row per invoice with its customer, paid
  date and paid amount. :func:`split_flat` reads it as several tables: ``customers`` (one row per
  distinct customer id, the first seen), ``invoices`` (every row), ``payments`` (the rows with a payment
  date; an empty one is an unpaid invoice, not a payment), ``adjustments``/``orders`` (every row).
  Each keeps the file's line numbers, so a reject names the line of the flat file.
* **Constants and defaults** (:func:`apply_values`): a column given one value on every row
  (``payment_terms_days: 30``) or where the file leaves it empty.
* **One source column feeding two fields** is allowed by ``column_map`` itself (e.g. ``invoiceNumber``
  as both ``payments.invoice_id`` and ``payments.payment_id``); the validator copies the column.
* **Date formats** (:func:`guess_date_format`): the strftime format that reads a sample of dates, so that a
  column rejected as ``unparseable_date`` comes with the ``date_format`` to set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

# formats tried when guessing, most common exports first; ambiguous day/month orders are reported as such
DATE_FORMATS = (
    "%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%m-%d-%Y", "%Y%m%d",
    "%d/%m/%y", "%m/%d/%y", "%d.%m.%y", "%d-%b-%Y", "%d %b %Y", "%b %d, %Y", "%d-%b-%y",
    "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M",
)
SAMPLE = 2000


def _text(values: pd.Series) -> pd.Series:
    s = values.astype("object").where(values.notna(), None)
    s = s.map(lambda v: None if v is None else str(v).strip())
    return s.where(s.notna() & (s != ""), None).dropna()


def date_format_candidates(values: pd.Series | Sequence[object], min_share: float = 0.95) -> list[str]:
    """The formats of :data:`DATE_FORMATS` that read the most of ``values`` (a sample of at most
    :data:`SAMPLE` distinct non-empty cells), when that is at least ``min_share`` of them; several when
    they tie (e.g. ``%m/%d/%Y`` and ``%d/%m/%Y`` when every day is 12 or less)."""
    text = pd.Series(_text(pd.Series(values)).unique()[:SAMPLE], dtype="object")
    if text.empty:
        return []
    shares = {}
    for fmt in DATE_FORMATS:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        shares[fmt] = float(parsed.notna().mean())
    best = max(shares.values())
    if best < min_share:
        return []
    return [f for f, v in shares.items() if v == best]


def guess_date_format(values: pd.Series | Sequence[object]) -> str | None:
    """The one format that reads the dates (``None`` when none does, or when the day/month order is
    ambiguous: see :func:`date_format_candidates`)."""
    found = date_format_candidates(values)
    return found[0] if len(found) == 1 else None


def date_hint(columns: dict[str, pd.Series], table: str, declared: str | None) -> str:
    """One sentence suggesting ``date_format`` for the date cells of ``table`` that did not parse
    (``columns``: column name -> those cells); empty when no format reads them."""
    found: dict[tuple[str, ...], list[str]] = {}
    example = {}
    for column, values in columns.items():
        fmts = tuple(f for f in date_format_candidates(values) if f != declared)
        if fmts:
            found.setdefault(fmts, []).append(column)
            example.setdefault(fmts, str(_text(values).iloc[0]))
    now = f"date_format {declared!r}" if declared else "ISO dates (YYYY-MM-DD)"
    out = []
    for fmts, cols in found.items():
        where = f"{table}." + ", ".join(cols)
        if len(fmts) == 1:
            out.append(f"{where}: the dates (e.g. {example[fmts]!r}) are not {now} but read as {fmts[0]!r}: set "
                       f"date_format: {{{table}: '{fmts[0]}'}} (or '*' for every table) in the data config")
        else:
            out.append(f"{where}: the dates (e.g. {example[fmts]!r}) are not {now}; they read as any of "
                       f"{', '.join(repr(f) for f in fmts)} (no day above 12 in the sample): set the right one as "
                       "date_format in the data config")
    return "; ".join(out)


def value_text(v: object) -> str | None:
    """A constant or default of the data config as the text a CSV cell would hold (``None``: empty)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def apply_values(frame: pd.DataFrame, constants: Mapping[str, object], defaults: Mapping[str, object]
                 ) -> pd.DataFrame:
    """``frame`` with each constant column set on every row and each default filling empty cells (or
    the whole column when absent); values as the text a CSV cell would hold (``None``: empty)."""
    if not constants and not defaults:
        return frame
    out = frame.copy(deep=False)
    n = len(out)
    cell = value_text
    for col, value in constants.items():
        out[col] = pd.Series([cell(value)] * n, dtype="object", index=out.index)
    for col, value in defaults.items():
        if col not in out.columns:
            out[col] = pd.Series([cell(value)] * n, dtype="object", index=out.index)
            continue
        cur = out[col].astype("object")
        empty = cur.isna() | cur.map(lambda v: isinstance(v, str) and not v.strip())
        out[col] = cur.where(~empty, cell(value))
    return out


def _source(mapping: dict[str, str], ours: str, columns: Sequence[str]) -> str | None:
    """The file column feeding ``ours`` (mapped, else the column of that name), or None."""
    theirs = mapping.get(ours, ours)
    if theirs in columns:
        return theirs
    return ours if ours in columns else None


def split_flat(frame: pd.DataFrame, lines: np.ndarray, tables: Sequence[str],
               column_map: dict[str, dict[str, str]]) -> dict[str, tuple[pd.DataFrame, np.ndarray, str]]:
    """Per table of ``tables``: (rows of the flat ``frame`` it takes, their line numbers, a note or "").

    ``customers`` take the first row of each distinct customer id, ``payments`` the rows with a payment
    date, the other tables every row."""
    out: dict[str, tuple[pd.DataFrame, np.ndarray, str]] = {}
    columns = [str(c) for c in frame.columns]
    for name in tables:
        mapping = column_map.get(name, {})
        keep = np.ones(len(frame), dtype=bool)
        note = ""
        if name == "customers":
            col = _source(mapping, "customer_id", columns)
            if col is not None:
                ids = frame[col].astype("object").map(lambda v: v.strip() if isinstance(v, str) else v)
                keep = ~ids.duplicated(keep="first").to_numpy()
        elif name == "payments":
            col = _source(mapping, "payment_date", columns)
            if col is not None:
                cells = frame[col].astype("object")
                empty = (cells.isna() | cells.map(lambda v: isinstance(v, str) and not v.strip())).to_numpy()
                keep = ~empty
                if empty.any():
                    note = (f"{int(empty.sum()):,} rows without a payment date ({col}) are unpaid invoices: no "
                            "payment read from them")
        out[name] = (frame.loc[keep].reset_index(drop=True), lines[keep], note)
    return out


# ------------------------------------------------------------------------------------ suggest a mapping
# normalised column names (lower case, letters and digits only) that usually hold each of our fields
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "customer_id": ("customerid", "customer", "custid", "cust", "custno", "customerno", "customernumber", "customercode", "kunnr",
                        "accountid", "account", "accountnumber", "clientid", "client", "debtor", "debtorid", "buyerid"),
        "name": ("name", "customername", "custname", "accountname", "clientname", "debtorname", "companyname"),
        "country": ("country", "countrycode", "land1", "countryid"),
        "industry": ("industry", "sector", "segment", "naics", "sic"),
        "credit_limit": ("creditlimit", "limit", "klimk", "creditline"),
        "payment_terms_days": ("paymenttermsdays", "paymentterms", "termsdays", "terms", "netdays"),
    },
    "invoices": {
        "invoice_id": ("invoiceid", "invoicenumber", "invoiceno", "invoice", "docno", "documentnumber", "belnr",
                       "invnumber", "invno", "billingdocument", "doc", "docnumber"),
        "customer_id": (),  # as customers
        "invoice_date": ("invoicedate", "docdate", "documentdate", "bldat", "billingdate", "invdate", "postingdate"),
        "due_date": ("duedate", "netduedate", "netdue", "paymentdue", "dueon"),
        "amount": ("invoiceamount", "amount", "grossamount", "invoicetotal", "total", "dmbtr", "wrbtr", "invamount"),
        "disputed": ("disputed", "dispute", "indispute", "isdisputed"),
        "dispute_date": ("disputedate", "disputedon", "disputeddate"),
        "currency": ("currency", "curr", "waers", "currencycode"),
    },
    "payments": {
        "payment_id": ("paymentid", "paymentnumber", "receiptid", "receiptno", "augbl"),
        "customer_id": (),
        "invoice_id": (),  # as invoices
        "payment_date": ("paymentdate", "settleddate", "paiddate", "clearingdate", "augdt", "datepaid",
                         "settlementdate", "receiptdate", "cleareddate", "paidon", "settledon", "clearedon",
                         "receivedon"),
        "amount": ("paidamount", "amountpaid", "settledamount", "paymentamount", "receivedamount"),
    },
}
SYNONYMS["invoices"]["customer_id"] = SYNONYMS["customers"]["customer_id"]
SYNONYMS["payments"]["customer_id"] = SYNONYMS["customers"]["customer_id"]
SYNONYMS["payments"]["invoice_id"] = SYNONYMS["invoices"]["invoice_id"]
DATE_FIELDS = {"invoice_date", "due_date", "dispute_date", "payment_date", "onboarded_date", "last_review_date"}


def _norm(name: str) -> str:
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def _match(columns: Sequence[str], names: Sequence[str], taken: set[str] | None = None) -> str | None:
    """The first column whose normalised name is in ``names`` (in the order of ``names``)."""
    by_norm = {}
    for c in columns:
        by_norm.setdefault(_norm(c), c)
    for n in names:
        c = by_norm.get(n)
        if c is not None and (taken is None or c not in taken):
            return c
    return None


def _yaml_value(v: str) -> str:
    import yaml

    return yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("...").strip()


def suggest_mapping(sample: pd.DataFrame, file_name: str, n_rows: int | None = None) -> str:
    """A starting ``data.yaml`` (text, with comments) for one flat export, from its header and a sample of
    its rows (cells as text): which column feeds each of our fields, the date format, the constants the
    data imply (30-day terms when due - invoice is always 30 days) and the columns left unused."""
    columns = [str(c) for c in sample.columns]
    mapping: dict[str, dict[str, str]] = {}
    for table, fields in SYNONYMS.items():
        taken: set[str] = set()
        for ours, names in fields.items():
            col = _match(columns, names, taken)
            if col is not None:
                mapping.setdefault(table, {})[ours] = col
                taken.add(col)
    inv, pay = mapping.get("invoices", {}), mapping.setdefault("payments", {})
    notes: list[str] = []
    tables = ["customers", "invoices"]
    if "payment_date" in pay:
        tables.append("payments")
        pay.setdefault("invoice_id", inv.get("invoice_id", ""))
        pay.setdefault("customer_id", inv.get("customer_id", ""))
        if "payment_id" not in pay and "invoice_id" in inv:
            pay["payment_id"] = inv["invoice_id"]
            notes.append(f"payments.payment_id: no payment id column; {inv['invoice_id']} (one payment per invoice)")
        if "amount" not in pay and "amount" in inv:
            pay["amount"] = inv["amount"]
            notes.append(f"payments.amount: no paid-amount column; the invoice amount ({inv['amount']}): each paid "
                         "invoice paid in full")
        pay = {k: v for k, v in pay.items() if v}
        mapping["payments"] = pay
    else:
        mapping.pop("payments", None)
    for table in ("customers",):
        if "customer_id" not in mapping.get(table, {}) and "customer_id" in inv:
            mapping.setdefault(table, {})["customer_id"] = inv["customer_id"]
    # dates: one format for every date column when one reads them all
    formats: dict[str, list[str]] = {}
    for fields in mapping.values():
        for ours, col in fields.items():
            if ours in DATE_FIELDS:
                formats.setdefault(col, date_format_candidates(sample[col]))
    found = {tuple(v) for v in formats.values() if v}
    date_format = None
    if len(found) == 1:
        fmts = next(iter(found))
        date_format = fmts[0]
        if len(fmts) > 1:
            notes.append(f"date_format: the sample reads as any of {', '.join(fmts)}; check the day/month order")
    elif found:
        notes.append("date_format: the date columns use different formats; set one per table")
    constants: dict[str, dict[str, object]] = {}
    cust = mapping.get("customers", {})
    if "payment_terms_days" not in cust:
        terms = None
        if "invoice_date" in inv and "due_date" in inv and date_format:
            days = (pd.to_datetime(sample[inv["due_date"]], format=date_format, errors="coerce")
                    - pd.to_datetime(sample[inv["invoice_date"]], format=date_format, errors="coerce")).dt.days.dropna()
            if len(days) and (days == days.iloc[0]).all() and days.iloc[0] > 0:
                terms = int(days.iloc[0])
                notes.append(f"customers.payment_terms_days: due date - invoice date is {terms} days on every row "
                             "sampled")
        constants.setdefault("customers", {})["payment_terms_days"] = terms if terms is not None else 30
        if terms is None:
            notes.append("customers.payment_terms_days: not in the file; 30 assumed: set your terms")
    if "credit_limit" not in cust:
        constants.setdefault("customers", {})["credit_limit"] = None
        notes.append("customers.credit_limit: not in the file; empty (no limit on record)")
    if "disputed" in inv and "dispute_date" not in inv:
        notes.append("invoices.dispute_date: no column; a disputed invoice counts as disputed from its invoice date "
                     "(label.exclude_disputed): map the date the dispute was raised if the export has one")
    latest = None
    if date_format:
        dated = [pd.to_datetime(sample[c], format=date_format, errors="coerce").max() for c in formats]
        dated = [d for d in dated if pd.notna(d)]
        latest = max(dated).date().isoformat() if dated else None
    used = {c for fields in mapping.values() for c in fields.values()}
    unused = [c for c in columns if c not in used]

    lines = [f"# A starting data.yaml for {file_name}, suggested by `riskml validate --suggest-mapping` from its header",
             f"# and {n_rows if n_rows is not None else len(sample):,} sampled rows. Check every line, save it as "
             "DATA/data.yaml and run `riskml validate`.",
             "flat_file:", f"  file: {_yaml_value(file_name)}", f"  tables: [{', '.join(tables)}]",
             "column_map:"]
    for table in ("customers", "invoices", "payments"):
        if mapping.get(table):
            body = ", ".join(f"{k}: {_yaml_value(v)}" for k, v in mapping[table].items())
            lines.append(f"  {table}: {{{body}}}")
    if constants:
        lines.append("constants:")
        for table, cols in constants.items():
            body = ", ".join(f"{k}: {'null' if v is None else v}" for k, v in cols.items())
            lines.append(f"  {table}: {{{body}}}")
    lines.append(f"date_format: {{'*': {_yaml_value(date_format)}}}" if date_format else "date_format: {}")
    lines.append("# the export date (events after it are rejected): set it"
                 + (f"; the latest date in the sample is {latest}" if latest else ", e.g. as_of: '2026-09-30'"))
    lines.append("as_of: null")
    if notes:
        lines += ["# notes:"] + [f"#   {n}" for n in notes]
    if unused:
        lines.append(f"# columns not used: {', '.join(unused)} (declare one under extra_attributes to use it as a "
                     "feature of the customer)")
    return "\n".join(lines) + "\n"


def read_sample(path, delimiter: str = ",", encoding: str = "utf-8", rows: int = 5000) -> pd.DataFrame:
    """The header and the first ``rows`` rows of a CSV or Parquet export, every cell as text."""
    from pathlib import Path

    from riskml.errors import DataError

    path = Path(path)
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(path)
            batch = next(pf.iter_batches(batch_size=rows), None)
            frame = batch.to_pandas() if batch is not None else pf.schema_arrow.empty_table().to_pandas()
            return frame.astype("str").where(frame.notna(), "")
        return pd.read_csv(path, dtype="str", nrows=rows, keep_default_na=False, sep=delimiter,
                           encoding="utf-8-sig" if encoding.lower().replace("-", "") == "utf8" else encoding)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: cannot be read for a mapping suggestion ({exc})") from None
