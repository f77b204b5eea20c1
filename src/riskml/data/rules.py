"""Every validation rule of the ledger, declared once for both engines (pandas and Spark).

* :data:`RULES`: each rule's name and what it rejects (the ``rule`` and ``message`` of a reject).
* :data:`CHECKS`: the value rules as a table (rule, table, column, operation, argument), generated from
  the contract (:mod:`riskml.data.contract`). :mod:`riskml.data.schemas` compiles them to pandera
  checks, :mod:`riskml.spark.tables` to Spark column expressions; both read :data:`OPERATIONS`.
  An argument may be a :class:`Param`, a value of the data config known when validation starts
  (:func:`rule_params`); a check whose parameter is not set is not applied.
* :func:`resolve_columns`: which column of a file feeds each column of the contract (``column_map``).
* :func:`overpaid`: the greedy overpayment cap.
* :func:`ledger_verdict`: whether the validated ledger is usable, and its warnings.

The rules that need the cells as text (parsing, ``missing_value``, ``malformed_row``) or other tables
(references) are carried out by each engine in its own way; their names and messages are here.
Nothing here imports Spark: ``tests/data/test_rules.py`` runs in the fast tier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from riskml.data.contract import ADJUSTMENT_KINDS, TABLES
from riskml.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    from riskml.config import DataConfig

# the largest amount or credit limit accepted (in the file's units): above any real invoice in any currency,
# and small enough that the feature engine's exact running sums (int64 in units of 1/10,000) hold 922 rows
# of this size per customer; beyond that the engine falls back to exact big-integer sums (no wrong figure)
MAX_AMOUNT = 1e12
# applied amounts are compared with an invoice's cap with this slack (float sums of cents)
EPS = 1e-6
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "0.0"})
# dates outside this range are reported as unparseable (typing errors such as 0202-01-05 or 20240-01-05)
DATE_MIN, DATE_MAX = pd.Timestamp("1900-01-01"), pd.Timestamp("2199-12-31")
# date columns not checked against the data's as-of (they lie in the future by nature)
NOT_AS_OF_CHECKED = frozenset({"due_date", "insurance_expiry"})
# the rule of a cell of each column type that cannot be parsed
PARSE_RULE = {"number": "not_a_number", "integer": "not_a_number", "date": "unparseable_date", "bool": "not_a_boolean"}
# the order in which tables are validated: references point only to tables validated before
TABLE_ORDER = ("customers", "invoices", "payments", "adjustments", "orders")

# rule name -> what it rejects (the rejects file and docs/data-contract.md use these names)
RULES: dict[str, str] = {
    "malformed_row": "a CSV line with more or fewer fields than the header",
    "missing_value": "a required value is empty",
    "unparseable_date": "a date that is not ISO 8601 (YYYY-MM-DD) or the declared date_format, or lies "
    "outside 1900-2199",
    "not_a_number": "an amount, limit, term or numeric attribute that is not a finite number",
    "not_a_boolean": "a disputed flag that is not one of true/false, yes/no, y/n, 1/0",
    "amount_not_positive": "an amount that is zero or negative",
    "amount_too_large": "an amount or credit limit above 1,000,000,000,000 (MAX_AMOUNT; check the unit)",
    "negative_credit_limit": "a credit limit below zero",
    "negative_insured_limit": "an insured limit below zero",
    "invalid_payment_terms": "payment terms that are not a whole number of days above zero",
    "unknown_kind": f"an adjustment kind other than {', '.join(ADJUSTMENT_KINDS)}",
    "duplicate_id": "a second (third, ...) row with the same key; the first occurrence is kept",
    "due_before_invoice": "an invoice due before it was issued",
    "currency_without_rate": "a currency that is neither base_currency nor in fx_rates (checked when "
    "base_currency is set)",
    "future_date": "an event dated after the data's as-of date",
    "unknown_customer": "a customer_id that is not in the customer master",
    "customer_rejected": "a customer_id whose customer-master row was rejected",
    "unknown_invoice": "a payment or adjustment applied to an invoice_id not in the invoices",
    "invoice_rejected": "a payment or adjustment applied to an invoice that was rejected",
    "customer_mismatch": "a payment or adjustment whose customer_id differs from its invoice's",
    "payment_before_invoice": "a payment or adjustment dated before its invoice",
    "overpayment": "a payment or adjustment that takes the amount applied to an invoice above "
    "amount x (1 + overpayment_tolerance_pct) + overpayment_tolerance_abs",
}


# ------------------------------------------------------------------------------------ the value rules
Operation = Literal["unique", "gt", "ge", "le", "whole_gt", "isin", "not_before", "not_after"]

# operation -> the values that pass (an empty value passes every check: it is missing_value's business)
OPERATIONS: dict[str, str] = {
    "unique": "no earlier row (in reading order) holds the same value",
    "gt": "value > argument",
    "ge": "value >= argument",
    "le": "value <= argument",
    "whole_gt": "a whole number > argument",
    "isin": "one of the argument's values",
    "not_before": "not before the value of the argument's column in the same row",
    "not_after": "not after the argument (a date)",
}


@dataclass(frozen=True)
class Param:
    """An argument taken from the data config when validation starts (see :func:`rule_params`)."""

    name: Literal["as_of", "currencies"]


@dataclass(frozen=True)
class Check:
    """One value rule: rows of ``table`` whose ``column`` fails ``op`` with ``arg`` break ``rule``."""

    rule: str
    table: str
    column: str
    op: Operation
    arg: Any = None

    @property
    def message(self) -> str:
        return RULES[self.rule]


def _declare() -> tuple[Check, ...]:
    out: list[Check] = []
    for t in TABLES.values():
        names = t.column_names
        out.append(Check("duplicate_id", t.name, t.key, "unique"))
        if "amount" in names:
            out += [Check("amount_not_positive", t.name, "amount", "gt", 0.0),
                    Check("amount_too_large", t.name, "amount", "le", MAX_AMOUNT)]
        if t.name == "customers":
            out += [Check("negative_credit_limit", t.name, "credit_limit", "ge", 0.0),
                    Check("amount_too_large", t.name, "credit_limit", "le", MAX_AMOUNT),
                    Check("negative_insured_limit", t.name, "insured_limit", "ge", 0.0),
                    Check("invalid_payment_terms", t.name, "payment_terms_days", "whole_gt", 0.0)]
        if t.name == "invoices":
            out.append(Check("due_before_invoice", t.name, "due_date", "not_before", "invoice_date"))
        if t.name == "adjustments":
            out.append(Check("unknown_kind", t.name, "kind", "isin", ADJUSTMENT_KINDS))
        if "currency" in names:
            out.append(Check("currency_without_rate", t.name, "currency", "isin", Param("currencies")))
        out += [Check("future_date", t.name, c, "not_after", Param("as_of"))
                for c in t.date_columns if c not in NOT_AS_OF_CHECKED]
    return tuple(out)


CHECKS: tuple[Check, ...] = _declare()


def checks_of(table: str, params: Mapping[str, Any] | None = None) -> list[tuple[Check, Any]]:
    """(check, argument) of ``table``'s value rules that apply with ``params`` (a :class:`Param`
    argument resolved; a check whose parameter is None left out)."""
    out = []
    for c in CHECKS:
        if c.table != table:
            continue
        arg = c.arg
        if isinstance(arg, Param):
            arg = (params or {}).get(arg.name)
            if arg is None:
                continue
        out.append((c, arg))
    return out


def data_as_of(cfg: DataConfig) -> pd.Timestamp | None:
    """The data's own as-of (export date) from the config, as a midnight Timestamp; None when not set."""
    if cfg.as_of is None or str(cfg.as_of).strip() == "":
        return None
    try:
        ts = pd.Timestamp(cfg.as_of)
    except (ValueError, TypeError):
        ts = pd.NaT
    if ts is pd.NaT or pd.isna(ts):
        raise DataError(f"as_of in the data config must be a date like 2026-09-30; got {cfg.as_of!r}")
    return ts.tz_localize(None).normalize() if ts.tz is not None else ts.normalize()


def base_and_rates(cfg: DataConfig) -> tuple[str | None, dict[str, float]]:
    """The configured base currency (upper case; None when not set) and fx rates keyed by upper-case code."""
    base = cfg.base_currency.strip().upper() if cfg.base_currency else None
    return base, {k.strip().upper(): float(v) for k, v in cfg.fx_rates.items()}


def several_currencies(currencies: Iterable[str]) -> str:
    """The problem of a ledger in several currencies without a base currency."""
    return (f"the ledger holds several currencies ({', '.join(sorted(currencies))}) and no base_currency is set: "
            "set base_currency and fx_rates (units of base currency per unit) in the data config")


def rule_params(cfg: DataConfig) -> dict[str, Any]:
    """The :class:`Param` values of ``cfg``: ``as_of`` (None: not set) and ``currencies`` (the base and
    the currencies with a rate; None without a base currency, when the rule cannot fail)."""
    base, rates = base_and_rates(cfg)
    return {"as_of": data_as_of(cfg), "currencies": (base, *sorted(rates)) if base is not None else None}


# -------------------------------------------------------------------------------------- the overpayment
def overpayment_cap(invoice_amount: Any, cfg: DataConfig) -> Any:
    """What may be applied to an invoice of ``invoice_amount`` (array or Spark column, base currency)."""
    return invoice_amount * (1 + cfg.overpayment_tolerance_pct) + cfg.overpayment_tolerance_abs


def overpaid(invoice: np.ndarray, day: np.ndarray, src: np.ndarray, row: np.ndarray, amount: np.ndarray,
             cap: np.ndarray) -> np.ndarray:
    """Which payments and adjustments break ``overpayment`` (a mask in the order given).

    One event per row: the ``invoice`` it settles, its ``day`` (any sortable number), its ``src``
    (0 payments, 1 adjustments), its ``row`` in its table (reading order), its ``amount`` and the
    ``cap`` of its invoice (:func:`overpayment_cap`). The events of an invoice are taken by date,
    payments before adjustments on the same day, then in reading order; an event that would take the
    amount applied above the cap is rejected and not counted, so that a later correct payment still
    fits. Only invoices whose total goes over their cap are walked one event at a time."""
    invoice, amount, cap = np.asarray(invoice), np.asarray(amount, dtype="float64"), np.asarray(cap, dtype="float64")
    out = np.zeros(len(invoice), dtype=bool)
    if not len(invoice):
        return out
    if invoice.dtype.kind in "iu" and invoice.min() >= 0:  # row positions of the invoices: counted directly
        inv = invoice.astype(np.int64)
    else:
        inv = np.unique(invoice, return_inverse=True)[1].reshape(-1)
    total = np.bincount(inv, weights=amount)
    walk = np.flatnonzero(total[inv] > cap + EPS)
    if not len(walk):
        return out
    order = walk[np.lexsort((np.asarray(row)[walk], np.asarray(src)[walk], np.asarray(day)[walk], inv[walk]))]
    current, applied = -1, 0.0
    for k, gi, ai, ci in zip(order.tolist(), inv[order].tolist(), amount[order].tolist(), cap[order].tolist(),
                             strict=True):
        if gi != current:
            current, applied = gi, 0.0
        if applied + ai > ci + EPS:
            out[k] = True
        else:
            applied += ai
    return out


# ----------------------------------------------------------------------------------- the column mapping
@dataclass
class Columns:
    """How a table's columns are found (:func:`resolve_columns`).

    ``source``: our column -> the file column it is read from (two of ours may read one column);
    ``problems`` make the table unusable; ``warnings`` do not."""

    source: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _delimiter_hint(columns: Sequence[str], delimiter: str | None) -> str:
    if delimiter is not None and len(columns) == 1:
        for d in (";", "\t", "|", ","):
            if d != delimiter and d in columns[0]:
                return f" (the header holds {d!r}: is the delimiter {d!r}? set delimiter in the data config)"
    return ""


def resolve_columns(header: Sequence[str], mapping: Mapping[str, str], *, table: str, where: str,
                    extras: Iterable[str] = (), provided: Iterable[str] = (), also_used: Iterable[str] = (),
                    delimiter: str | None = None) -> Columns:
    """Which column of a file (``header``) feeds each contract column of ``table`` and each declared
    extra attribute, given the data config's ``column_map`` entry (``mapping``: ours -> theirs).

    * a mapped column feeds its field; one file column may feed two fields;
    * a mapped column that is not in the file: its own column is used, with a warning naming file
      and column, when the file has one (one data.yaml for the ERP export and the demo ledger); else
      a problem;
    * an unmapped field reads the column of its name, unless column_map takes that column for
      another field; a column of our name that gives way to the column mapped to it is ignored, with
      a warning;
    * a required column or a declared extra attribute without a source is a problem, unless the
      config ``provided`` it (a constant or default); columns nobody reads are named in a warning
      (``also_used``: columns read for other tables of the same file).

    ``where`` names the file in the messages; ``delimiter`` (CSV) adds a hint when the header is one
    column holding another delimiter."""
    spec, columns, extras, provided = TABLES[table], list(header), list(extras), set(provided)
    out = Columns()
    fed_by: dict[str, str] = {}  # file column -> first field it feeds
    reported: set[str] = set()
    for ours, theirs in mapping.items():
        if theirs in fed_by:
            out.source[ours] = theirs
        elif theirs in columns:
            fed_by[theirs] = ours
            out.source[ours] = theirs
        elif ours in columns:
            out.warnings.append(f"{where}: column_map.{table}.{ours} names column {theirs!r}, which is not in the "
                                f"file; its column {ours!r} is used")
        else:
            out.problems.append(f"{where}: column_map.{table}.{ours} names column {theirs!r}, which is not in the "
                                f"file (its columns: {columns})")
            reported.add(ours)
    shadowed = [ours for ours, theirs in out.source.items() if theirs != ours and ours in columns and ours not in fed_by]
    if shadowed:
        out.warnings.append(f"{where}: columns ignored because column_map maps other columns to these names: "
                            + ", ".join(f"{c} (column_map uses {mapping[c]!r})" for c in shadowed))
    for ours in [*spec.column_names, *extras]:
        if ours not in out.source and ours not in reported and ours in columns and ours not in fed_by:
            out.source[ours] = ours
    for ours in spec.required_columns:
        if ours not in out.source and ours not in provided and ours not in reported:
            hint = f" (mapped from {mapping[ours]!r})" if ours in mapping else ""
            out.problems.append(f"{where}: required column {ours!r}{hint} is missing; the file has "
                                f"{columns}{_delimiter_hint(columns, delimiter)}")
    for ours in extras:
        if ours not in out.source and ours not in provided and ours not in reported:
            hint = f" (mapped from {mapping[ours]!r})" if ours in mapping else ""
            out.problems.append(f"{where}: extra attribute {ours!r}{hint} declared in the data config is not a "
                                "column of the customer master")
    if out.problems:
        return out
    known = set(spec.column_names) | set(extras) | set(mapping.values()) | set(also_used)
    ignored = [c for c in columns if c not in known]
    if ignored:
        out.warnings.append(f"{where}: columns ignored (not in the contract, not declared as extra attributes): "
                            f"{', '.join(map(str, ignored))}")
    return out


# ----------------------------------------------------------------------------------------- the verdict
def why_text(counts: Iterable[tuple[str, str | None, int]]) -> str:
    """The three most frequent (rule, column) of a table's rejects (``counts``: rule, column, rows)."""
    top = sorted(counts, key=lambda r: (-r[2], r[0], r[1] or ""))[:3]
    return "; ".join(f"{rule} {n:,}" + (f" in {col}" if isinstance(col, str) else "") for rule, col, n in top)


def ledger_verdict(summary: pd.DataFrame, why: Mapping[str, str] | None = None,
                   hints: Mapping[str, Sequence[str]] | None = None) -> tuple[list[str], list[str]]:
    """(problems, warnings) of a validated ledger, from its ``summary`` (columns table, file, read,
    accepted; ``file`` names the table in the messages): a required table left without an accepted
    row makes the ledger unusable, an optional one is left out with a warning. ``why``: per table the
    :func:`why_text` of its rejects (asked for the tables whose every row was rejected); ``hints``:
    per table how to fix what was rejected (e.g. the date format to declare)."""
    why, hints = why or {}, hints or {}
    problems: list[str] = []
    warnings: list[str] = []
    for row in summary.itertuples(index=False):
        name, where, read, accepted = row.table, row.file, int(row.read), int(row.accepted)
        fix = "".join(f"; {h}" for h in hints.get(name, ()))
        reason = why.get(name, "see the rejects")
        if accepted == 0 and read > 0 and not TABLES[name].required:
            warnings.append(f"{where}: every row rejected ({reason}); the ledger is used without {name}{fix}")
        elif accepted == 0 and read > 0:
            problems.append(f"{where}: no usable rows ({read:,} read, all rejected: {reason}){fix}")
        elif accepted == 0 and name == "customers":
            problems.append(f"{where}: no usable rows (the file has a header only)")
        else:
            warnings += [f"{where}: {h}" for h in hints.get(name, ())]
    reads = dict(zip(summary["table"], summary["read"], strict=True))
    if reads.get("invoices", 0) == 0:
        warnings.append("no invoices: every customer is scored on the customer master alone (thin file)")
    if reads.get("payments", 0) == 0 and reads.get("invoices", 0) > 0:
        warnings.append("no payments: every invoice counts as unpaid")
    return problems, warnings


def unusable_tables(summary: pd.DataFrame) -> list[str]:
    """The tables whose every row was rejected (those :func:`ledger_verdict` wants a ``why`` for)."""
    return [t for t, r, a in zip(summary["table"], summary["read"], summary["accepted"], strict=True) if a == 0 < r]
