"""Ledger validation on tiny hand-made tables: every rule, the cross-table cascade, parsing, the file
readers (CSV line numbers, encodings, delimiters, Parquet), the column mapping, currencies, extra
attributes, fatal problems, and the round trip of a generated ledger."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskml.config import DataConfig
from riskml.data.contract import TABLES
from riskml.data.ledger import empty_table
from riskml.data.schemas import RULES
from riskml.data.validate import REJECT_COLUMNS, LedgerUnusable, load_ledger, resolve_data_config
from riskml.data.writer import write_ledger
from riskml.errors import ConfigError, DataError
from tests.data.conftest import (
    TINY,
    assert_counts_add_up,
    rejects_of,
    tiny_frames,
    validate_frames,
    write_dir,
)

D = pd.Timestamp

# a valid new row per table, appended by the tests (nothing refers to it, so only it can be rejected)
NEW_ROW = {
    "customers": {"customer_id": "C9", "credit_limit": "100", "payment_terms_days": "30", "name": "New",
                  "industry": "retail", "country": "DE", "onboarded_date": "2024-01-01",
                  "last_review_date": "2024-01-01"},
    "invoices": {"invoice_id": "I9", "customer_id": "C1", "invoice_date": "2024-05-01", "due_date": "2024-05-31",
                 "amount": "10", "disputed": "", "dispute_date": "", "currency": "EUR"},
    "payments": {"payment_id": "P9", "customer_id": "C1", "invoice_id": "", "payment_date": "2024-05-01",
                 "amount": "10", "currency": "EUR"},
    "adjustments": {"adjustment_id": "A9", "customer_id": "C1", "invoice_id": "I1", "date": "2024-05-01",
                    "amount": "1", "kind": "credit_note", "currency": "EUR"},
    "orders": {"order_id": "O9", "customer_id": "C1", "order_date": "2024-05-01", "amount": "10",
               "closed_date": "", "currency": "EUR"},
}


def with_row(table: str, frames: dict[str, pd.DataFrame] | None = None, **cells) -> tuple[dict, int]:
    """The tiny frames with one new row appended to ``table``; returns (frames, line of the new row)."""
    frames = frames or tiny_frames()
    row = {**NEW_ROW[table], **cells}
    frames[table] = pd.concat([frames[table], pd.DataFrame([row])], ignore_index=True)
    return frames, len(frames[table]) + 1


def with_cell(frames: dict, table: str, key: str, column: str, value: str) -> dict:
    df = frames[table]
    df.loc[df[TABLES[table].key] == key, column] = value
    return frames


def line_of(table: str, key: str) -> int:
    """The line (header = 1) of the tiny row with this key."""
    return int(tiny_frames()[table][TABLES[table].key].tolist().index(key)) + 2


# ------------------------------------------------------------------------------------------ accepted
def test_the_tiny_ledger_is_accepted_whole_with_the_contract_dtypes():
    ledger, report = validate_frames(tiny_frames())
    assert report.rejects.empty and report.warnings == []
    assert list(report.rejects.columns) == REJECT_COLUMNS
    assert report.summary.set_index("table")["read"].to_dict() == {
        "customers": 3, "invoices": 4, "payments": 4, "adjustments": 2, "orders": 2}
    assert_counts_add_up(report)
    for name, df in ledger.tables().items():
        assert list(df.columns) == TABLES[name].column_names, name
        assert df.dtypes.equals(empty_table(name).dtypes), (name, df.dtypes)
    cust = ledger.customers.set_index("customer_id")
    assert np.isnan(cust.loc["C2", "credit_limit"]) and cust.loc["C3", "payment_terms_days"] == 60
    assert cust.loc["C2", "last_review_date"] == D("2024-03-01")
    inv = ledger.invoices.set_index("invoice_id")
    assert inv["disputed"].tolist() == [False, True, False, False]  # blank = not disputed
    assert inv.loc["I2", "dispute_date"] == D("2024-02-20") and pd.isna(inv.loc["I1", "dispute_date"])
    assert inv["amount"].tolist() == [1000.0, 500.5, 2500.0, 800.0]
    assert pd.isna(ledger.payments.set_index("payment_id").loc["P4", "invoice_id"])  # unapplied cash
    assert ledger.orders["closed_date"].isna().tolist() == [True, False]


# ---------------------------------------------------------------------------------- one-row rules
ONE_ROW_CASES = [
    # table, cells of the new row, rejected column, rule (validated with ONE_ROW_CONFIG)
    ("customers", {"customer_id": ""}, "customer_id", "missing_value"),
    ("customers", {"payment_terms_days": " "}, "payment_terms_days", "missing_value"),
    ("customers", {"credit_limit": "ten"}, "credit_limit", "not_a_number"),
    ("customers", {"credit_limit": "inf"}, "credit_limit", "not_a_number"),
    ("customers", {"credit_limit": "-1"}, "credit_limit", "negative_credit_limit"),
    ("customers", {"insured_limit": "-5"}, "insured_limit", "negative_insured_limit"),
    ("customers", {"insurance_expiry": "2099-13-01"}, "insurance_expiry", "unparseable_date"),
    ("customers", {"payment_terms_days": "0"}, "payment_terms_days", "invalid_payment_terms"),
    ("customers", {"payment_terms_days": "30.5"}, "payment_terms_days", "invalid_payment_terms"),
    ("customers", {"payment_terms_days": "-30"}, "payment_terms_days", "invalid_payment_terms"),
    ("customers", {"payment_terms_days": "net30"}, "payment_terms_days", "not_a_number"),
    ("customers", {"onboarded_date": "2024-02-30"}, "onboarded_date", "unparseable_date"),
    ("customers", {"onboarded_date": "0202-01-05"}, "onboarded_date", "unparseable_date"),
    ("customers", {"onboarded_date": "15.01.2024"}, "onboarded_date", "unparseable_date"),
    ("customers", {"last_review_date": "2024-01"}, "last_review_date", "unparseable_date"),
    ("customers", {"customer_id": "C1"}, "customer_id", "duplicate_id"),
    ("customers", {"onboarded_date": "2024-07-01"}, "onboarded_date", "future_date"),
    ("invoices", {"amount": "0"}, "amount", "amount_not_positive"),
    ("invoices", {"amount": "-5"}, "amount", "amount_not_positive"),
    ("invoices", {"amount": "1e15"}, "amount", "amount_too_large"),
    ("payments", {"amount": "1000000000000.01"}, "amount", "amount_too_large"),
    ("customers", {"credit_limit": "2e12"}, "credit_limit", "amount_too_large"),
    ("invoices", {"amount": ""}, "amount", "missing_value"),
    ("invoices", {"amount": "1.000,50"}, "amount", "not_a_number"),
    ("invoices", {"due_date": "2024-04-30"}, "due_date", "due_before_invoice"),
    ("invoices", {"disputed": "maybe"}, "disputed", "not_a_boolean"),
    ("invoices", {"invoice_date": ""}, "invoice_date", "missing_value"),
    ("invoices", {"dispute_date": "yesterday"}, "dispute_date", "unparseable_date"),
    ("invoices", {"customer_id": "C7"}, "customer_id", "unknown_customer"),
    ("invoices", {"invoice_id": "I1"}, "invoice_id", "duplicate_id"),
    ("invoices", {"currency": "USD"}, "currency", "currency_without_rate"),
    ("invoices", {"invoice_date": "2024-07-01", "due_date": "2024-07-31"}, "invoice_date", "future_date"),
    ("payments", {"invoice_id": "I7"}, "invoice_id", "unknown_invoice"),
    ("payments", {"customer_id": "C2", "invoice_id": "I1"}, "customer_id", "customer_mismatch"),
    ("payments", {"customer_id": "C3", "invoice_id": "I4", "payment_date": "2024-02-01"}, "payment_date",
     "payment_before_invoice"),
    ("payments", {"amount": "0"}, "amount", "amount_not_positive"),
    ("payments", {"payment_id": "P1"}, "payment_id", "duplicate_id"),
    ("payments", {"customer_id": ""}, "customer_id", "missing_value"),
    ("payments", {"customer_id": "C8"}, "customer_id", "unknown_customer"),
    ("payments", {"payment_date": "2024-05-01T10:00:00+02:00x"}, "payment_date", "unparseable_date"),
    ("adjustments", {"kind": "refund"}, "kind", "unknown_kind"),
    ("adjustments", {"kind": ""}, "kind", "missing_value"),
    ("adjustments", {"invoice_id": "I99"}, "invoice_id", "unknown_invoice"),
    ("adjustments", {"date": "2024-01-01"}, "date", "payment_before_invoice"),
    ("orders", {"customer_id": "C8"}, "customer_id", "unknown_customer"),
    ("orders", {"amount": "-1"}, "amount", "amount_not_positive"),
    ("orders", {"order_date": ""}, "order_date", "missing_value"),
    ("orders", {"closed_date": "soon"}, "closed_date", "unparseable_date"),
    ("orders", {"closed_date": "2024-07-02"}, "closed_date", "future_date"),
]


ONE_ROW_CONFIG = {"as_of": "2024-06-30", "base_currency": "EUR"}


@pytest.fixture(scope="module")
def one_row_run():
    """Every case's row appended to the tiny ledger at once (each with its own key unless the case sets
    it), validated in one pass; returns (frames, ledger, report, {case index: (table, line)})."""
    frames = tiny_frames()
    where = {}
    for i, (table, cells, _, _) in enumerate(ONE_ROW_CASES):
        key = TABLES[table].key
        cells = {key: f"{NEW_ROW[table][key]}-{i}", **cells}
        frames, line = with_row(table, frames, **cells)
        where[i] = (table, line)
    ledger, report = validate_frames(frames, **ONE_ROW_CONFIG)
    return frames, ledger, report, where


@pytest.mark.parametrize("case", range(len(ONE_ROW_CASES)),
                         ids=[f"{c[0]}-{c[3]}-{'-'.join(c[1].values())}" for c in ONE_ROW_CASES])
def test_a_bad_row_is_rejected_alone_with_its_line_column_and_rule(one_row_run, case):
    frames, _, report, where = one_row_run
    table, _, column, rule = ONE_ROW_CASES[case]
    _, line = where[case]
    mine = report.rejects[(report.rejects["table"] == table) & (report.rejects["line"] == line)]
    assert {(r.column, r.rule) for r in mine.itertuples()} == {(column, rule)}
    r = mine.iloc[0]
    assert r["message"] == RULES[rule] and r["file"] == f"{table}.csv"
    key = frames[table][TABLES[table].key].iloc[line - 2]
    assert r["id"] == key.strip() if key.strip() else pd.isna(r["id"])


def test_only_the_appended_bad_rows_are_rejected_and_the_counts_add_up(one_row_run):
    _, ledger, report, where = one_row_run
    assert {(t, int(line)) for t, line in zip(report.rejects["table"], report.rejects["line"], strict=True)} \
        == set(where.values())
    assert_counts_add_up(report)
    for name, df in tiny_frames().items():
        assert ledger.tables()[name][TABLES[name].key].tolist() == df[TABLES[name].key].tolist(), name


def test_every_rule_is_covered_by_a_test_here_or_in_the_cli_injection():
    covered = {c[3] for c in ONE_ROW_CASES} | {"malformed_row", "customer_rejected", "invoice_rejected",
                                                "overpayment"}
    assert covered == set(RULES)


def test_a_row_breaking_several_rules_is_listed_once_per_rule_and_counted_once():
    frames, line = with_row("invoices", amount="-3", disputed="perhaps", due_date="2024-01-01")
    _, report = validate_frames(frames)
    assert rejects_of(report) == {("invoices", line, "amount", "amount_not_positive"),
                                  ("invoices", line, "disputed", "not_a_boolean"),
                                  ("invoices", line, "due_date", "due_before_invoice")}
    assert report.summary.set_index("table").loc["invoices", "rejected"] == 1
    assert_counts_add_up(report)


def test_an_unparseable_required_cell_is_not_also_reported_as_missing():
    frames, line = with_row("invoices", amount="abc", invoice_date="never")
    _, report = validate_frames(frames)
    assert rejects_of(report) == {("invoices", line, "amount", "not_a_number"),
                                  ("invoices", line, "invoice_date", "unparseable_date")}
    assert set(report.rejects["value"]) == {"abc", "never"}


# ------------------------------------------------------------------------------------ cross-table
def test_a_rejected_customer_rejects_its_invoices_payments_and_orders():
    frames = with_cell(tiny_frames(), "customers", "C2", "credit_limit", "-1")
    ledger, report = validate_frames(frames)
    assert rejects_of(report) == {
        ("customers", line_of("customers", "C2"), "credit_limit", "negative_credit_limit"),
        ("invoices", line_of("invoices", "I3"), "customer_id", "customer_rejected"),
        ("payments", line_of("payments", "P3"), "customer_id", "customer_rejected"),
        ("payments", line_of("payments", "P3"), "invoice_id", "invoice_rejected"),
        ("orders", line_of("orders", "O2"), "customer_id", "customer_rejected"),
    }
    assert "C2" not in set(ledger.customers["customer_id"]) and "I3" not in set(ledger.invoices["invoice_id"])
    assert_counts_add_up(report)


def test_a_rejected_invoice_rejects_its_payments_and_adjustments():
    frames = with_cell(tiny_frames(), "invoices", "I2", "amount", "0")
    _, report = validate_frames(frames)
    assert rejects_of(report) == {
        ("invoices", line_of("invoices", "I2"), "amount", "amount_not_positive"),
        ("payments", line_of("payments", "P2"), "invoice_id", "invoice_rejected"),
        ("adjustments", line_of("adjustments", "A1"), "invoice_id", "invoice_rejected"),
    }


def test_a_duplicate_keeps_the_first_row_and_what_refers_to_it():
    frames, line = with_row("invoices", invoice_id="I1", customer_id="C2", amount="5")
    ledger, report = validate_frames(frames)
    assert rejects_of(report) == {("invoices", line, "invoice_id", "duplicate_id")}
    kept = ledger.invoices.set_index("invoice_id").loc["I1"]
    assert kept["customer_id"] == "C1" and kept["amount"] == 1000.0
    assert "P1" in set(ledger.payments["payment_id"])  # its payment still matches the first I1


def test_the_payment_that_goes_over_is_rejected_and_a_later_one_that_fits_is_kept():
    frames = with_cell(tiny_frames(), "payments", "P3", "amount", "2000")  # I3 = 2500, cap 2526
    frames, over = with_row("payments", frames, payment_id="P5", customer_id="C2", invoice_id="I3",
                            payment_date="2024-04-20", amount="1000")
    frames, fits = with_row("payments", frames, payment_id="P6", customer_id="C2", invoice_id="I3",
                            payment_date="2024-04-25", amount="500")
    ledger, report = validate_frames(frames)
    assert rejects_of(report) == {("payments", over, "amount", "overpayment")}
    assert "P6" in set(ledger.payments["payment_id"])


def test_events_are_taken_in_date_order_not_file_order():
    frames, early = with_row("payments", payment_id="P5", customer_id="C2", invoice_id="I3",
                             payment_date="2024-03-01", amount="2500")
    _, report = validate_frames(frames)  # P5 is last in the file but paid before P3
    assert rejects_of(report) == {("payments", line_of("payments", "P3"), "amount", "overpayment")}
    assert early not in set(report.rejects["line"])


@pytest.mark.parametrize("amount,pct,abs_,rejected", [
    ("2526.00", 0.01, 1.0, False), ("2526.02", 0.01, 1.0, True), ("2500.00", 0.0, 0.0, False),
    ("2500.01", 0.0, 0.0, True), ("2600", 0.05, 0.0, False),
])
def test_the_overpayment_tolerance(amount, pct, abs_, rejected):
    frames = with_cell(tiny_frames(), "payments", "P3", "amount", amount)
    _, report = validate_frames(frames, overpayment_tolerance_pct=pct, overpayment_tolerance_abs=abs_)
    expected = {("payments", line_of("payments", "P3"), "amount", "overpayment")} if rejected else set()
    assert rejects_of(report) == expected


def test_adjustments_count_against_the_invoice_and_come_after_payments_of_the_same_day():
    frames, line = with_row("adjustments", adjustment_id="A9", invoice_id="I1", date="2024-02-01", amount="1000")
    _, report = validate_frames(frames)  # P1 paid I1 in full on 2024-02-01
    assert rejects_of(report) == {("adjustments", line, "amount", "overpayment")}


# ------------------------------------------------------------------------------------------- parsing
def test_iso_dates_with_a_time_an_offset_or_the_basic_form_give_the_date_written():
    frames = tiny_frames()
    frames["invoices"]["invoice_date"] = ["2024-01-05T23:30:00+05:00", "2024-02-05 10:00", "20240210",
                                          "2024-3-1"]
    ledger, report = validate_frames(frames)
    assert report.rejects.empty
    assert ledger.invoices["invoice_date"].tolist() == [D("2024-01-05"), D("2024-02-05"), D("2024-02-10"),
                                                        D("2024-03-01")]


@pytest.mark.parametrize("scope", ["*", "invoices"])
def test_a_declared_date_format_is_used_and_iso_is_then_rejected(scope):
    frames = tiny_frames()
    for col in ("invoice_date", "due_date", "dispute_date"):
        frames["invoices"][col] = pd.to_datetime(frames["invoices"][col].replace("", None)).dt.strftime("%d.%m.%Y") \
            .fillna("")
    frames["invoices"].loc[3, "due_date"] = "2024-04-30"
    if scope == "*":
        for name, df in frames.items():
            for col in TABLES[name].date_columns:
                if col in df and name != "invoices":
                    df[col] = pd.to_datetime(df[col].replace("", None)).dt.strftime("%d.%m.%Y").fillna("")
    ledger, report = validate_frames(frames, date_format={scope: "%d.%m.%Y"})
    assert rejects_of(report) == {("invoices", 5, "due_date", "unparseable_date"),
                                  ("adjustments", 3, "invoice_id", "invoice_rejected")}
    assert ledger.invoices["invoice_date"].tolist()[:3] == [D("2024-01-05"), D("2024-02-05"), D("2024-02-10")]


def test_a_declared_format_pandas_cannot_use_is_a_user_error():
    with pytest.raises(DataError, match="dates cannot be parsed with date_format '%d.%Q' from the data config"):
        validate_frames(tiny_frames(), date_format={"invoices": "%d.%Q"})


def test_boolean_words_whitespace_and_currency_case():
    frames = tiny_frames()
    frames["invoices"]["disputed"] = ["Yes", "N", " 1 ", "FALSE"]
    frames["invoices"]["currency"] = ["eur", " EUR", "Eur", ""]
    frames["payments"].loc[0, "customer_id"] = "  C1 "
    ledger, report = validate_frames(frames)
    assert report.rejects.empty
    assert ledger.invoices["disputed"].tolist() == [True, False, True, False]
    assert set(ledger.invoices["currency"]) == {"EUR"}
    assert ledger.payments.loc[0, "customer_id"] == "C1"


# ------------------------------------------------------------------------------------------- CSV files
def test_csv_line_numbers_survive_quoted_line_breaks_blank_lines_and_malformed_rows(tmp_path):
    customers = ("customer_id,credit_limit,payment_terms_days,name\n"
                 'C1,1000,30,"Acme\nGmbH"\n'     # lines 2-3: a quoted value holding a line break
                 "\n"                            # line 4: blank
                 "C2,,45,Beta\n"                 # 5
                 "C3,-5,30,Gamma\n"              # 6
                 "   \n"                         # 7: blank (spaces only)
                 "C4,100\n"                      # 8: too few fields
                 'C5,1,30.5,"a ""quoted"" name"\n'  # 9
                 "C6,1,30,x,extra\n"             # 10: too many fields
                 ",,,\n"                         # 11: delimiters only = blank
                 "C7,10,30,ok")                  # 12, no final line break
    tables = {**TINY, "customers": customers}
    tables["invoices"] = TINY["invoices"].replace(",C3,", ",C2,")
    tables["payments"] = TINY["payments"].replace("P4,C3,", "P4,C2,")
    tables["adjustments"] = TINY["adjustments"].replace("A2,C3,", "A2,C2,")
    d = write_dir(tmp_path / "d", tables)
    ledger, report = load_ledger(d, DataConfig())
    cust = {r for r in rejects_of(report) if r[0] == "customers"}
    assert cust == {("customers", 6, "credit_limit", "negative_credit_limit"),
                    ("customers", 8, None, "malformed_row"),
                    ("customers", 9, "payment_terms_days", "invalid_payment_terms"),
                    ("customers", 10, None, "malformed_row")}
    assert report.summary.set_index("table").loc["customers"].tolist()[1:] == [7, 3, 4]
    assert_counts_add_up(report)
    names = ledger.customers.set_index("customer_id")["name"]
    assert names["C1"] == "Acme\nGmbH" and set(names.index) == {"C1", "C2", "C7"}
    assert any("3 blank lines skipped (lines 4, 7, 11)" in w for w in report.warnings)
    assert any("1 rows hold line breaks inside quoted values (rows starting on lines 2)" in w for w in report.warnings)
    malformed = report.rejects[report.rejects["rule"] == "malformed_row"]
    assert malformed["value"].tolist() == ["C4,100", "C6,1,30,x,extra"]


def test_an_unclosed_quote_swallowing_later_rows_is_pointed_out(tmp_path):
    customers = 'customer_id,credit_limit,payment_terms_days,name\nC1,10000,30,"Alpha\nC2,,45,Beta\nC3,5000,60,Gamma\n'
    d = write_dir(tmp_path / "d", {**TINY, "customers": customers})
    ledger, report = load_ledger(d, DataConfig())  # C2 and C3 vanished into C1's name
    assert ledger.customers["name"].tolist() == ["Alpha\nC2,,45,Beta\nC3,5000,60,Gamma"]
    assert report.summary.set_index("table").loc["customers", "read"] == 1
    assert any("rows starting on lines 2); if that is not intended, a quote is not closed" in w
               for w in report.warnings)
    assert rejects_of(report) >= {("invoices", line_of("invoices", "I3"), "customer_id", "unknown_customer")}


def test_a_trailing_delimiter_makes_an_unnamed_column_that_is_ignored(tmp_path):
    customers = "".join(line + ",\n" for line in TINY["customers"].splitlines())
    d = write_dir(tmp_path / "d", {**TINY, "customers": customers})
    ledger, report = load_ledger(d, DataConfig())
    assert report.rejects.empty and len(ledger.customers) == 3
    assert any("columns ignored" in w and "<unnamed 9>" in w for w in report.warnings)


def test_crlf_line_endings_and_a_utf8_bom(tmp_path):
    tables = {name: ("\ufeff" if name == "customers" else "") + text.replace("\n", "\r\n")
              for name, text in TINY.items()}
    tables["customers"] = tables["customers"].replace("Alpha GmbH", "Müller GmbH")
    tables["invoices"] = tables["invoices"].replace("I3,C2,2024-02-10", "I3,C2,2024-99-10")
    d = write_dir(tmp_path / "d", tables)
    ledger, report = load_ledger(d, DataConfig())
    assert rejects_of(report) == {("invoices", 4, "invoice_date", "unparseable_date"),
                                  ("payments", 4, "invoice_id", "invoice_rejected")}
    assert ledger.customers["customer_id"].tolist() == ["C1", "C2", "C3"]
    assert ledger.customers.loc[0, "name"] == "Müller GmbH"


def test_a_cp1252_export_with_semicolons(tmp_path):
    tables = {name: text.replace(",", ";").replace("Alpha GmbH", "Müller & Söhne; KG").encode("cp1252")
              for name, text in TINY.items()}
    tables["customers"] = tables["customers"].replace("Müller & Söhne; KG".encode("cp1252"),
                                                      '"Müller & Söhne; KG"'.encode("cp1252"))
    d = write_dir(tmp_path / "d", tables)
    ledger, report = load_ledger(d, DataConfig(encoding="cp1252", delimiter=";"))
    assert report.rejects.empty
    assert ledger.customers.loc[0, "name"] == "Müller & Söhne; KG"
    # the same file read as UTF-8 is a fatal problem that names the setting to change
    with pytest.raises(DataError, match=r"customers.csv: line 2 is not valid utf-8 text; set encoding in the data"):
        load_ledger(d, DataConfig(delimiter=";"))
    # and read with the default delimiter, the header hints at the right one
    with pytest.raises(DataError, match=r"is the delimiter ';'\?"):
        load_ledger(d, DataConfig(encoding="cp1252"))


@pytest.mark.parametrize("content,message", [
    ("", "the file is empty or its first line (the header) is blank"),
    ("customer_id,credit_limit,credit_limit,payment_terms_days\nC1,1,2,30\n",
     "column names appear more than once: ['credit_limit']"),
    ("customer_id,credit_limit,payment_terms_days\n", "no usable rows (the file has a header only)"),
])
def test_an_unusable_customer_master_is_fatal(tmp_path, content, message):
    d = write_dir(tmp_path / "d", {**TINY, "customers": content})
    with pytest.raises(DataError) as exc:
        load_ledger(d, DataConfig())
    assert any(message in p for p in exc.value.problems), exc.value.problems


def test_header_only_invoices_and_payments_are_warnings(tmp_path):
    d = write_dir(tmp_path / "d", {"customers": TINY["customers"],
                                   "invoices": TINY["invoices"].splitlines()[0] + "\n",
                                   "payments": TINY["payments"].splitlines()[0] + "\n"})
    ledger, report = load_ledger(d, DataConfig())
    assert len(ledger.customers) == 3 and ledger.invoices.empty and ledger.payments.empty
    assert any("no invoices" in w for w in report.warnings)


# ---------------------------------------------------------------------------------------- Parquet
def typed_tiny() -> dict[str, pd.DataFrame]:
    """The tiny ledger with native Parquet types (dates, floats, booleans)."""
    out = {}
    for name, df in tiny_frames().items():
        df = df.replace("", None)
        for col in TABLES[name].columns:
            if col.name not in df:
                continue
            if col.type == "date":
                df[col.name] = pd.to_datetime(df[col.name])
            elif col.type in ("number", "integer"):
                df[col.name] = df[col.name].astype("float64")
            elif col.type == "bool":
                df[col.name] = df[col.name].map({"true": True, "false": False}).astype("boolean")
        out[name] = df
    return out


def test_parquet_with_native_types_and_one_based_row_numbers(tmp_path):
    frames = typed_tiny()
    frames["invoices"].loc[2, "amount"] = -5.0                        # row 3
    frames["invoices"]["invoice_date"] = frames["invoices"]["invoice_date"].dt.tz_localize("Asia/Tokyo")
    frames["customers"]["notes"] = "free text"                        # not in the contract: ignored
    frames["customers"]["customer_id"] = [1001, 1002, 1003]          # numeric ids become text
    for name in ("invoices", "payments", "adjustments", "orders"):
        frames[name]["customer_id"] = frames[name]["customer_id"].map({"C1": 1001.0, "C2": 1002.0, "C3": 1003.0})
    d = write_dir(tmp_path / "d", frames, fmt="parquet")
    ledger, report = load_ledger(d, DataConfig())
    assert rejects_of(report) == {("invoices", 3, "amount", "amount_not_positive"),
                                  ("payments", 3, "invoice_id", "invoice_rejected")}
    assert report.rejects.loc[report.rejects["table"] == "invoices", "value"].tolist() == ["-5.0"]
    assert ledger.customers["customer_id"].tolist() == ["1001", "1002", "1003"]
    assert ledger.invoices["invoice_date"].tolist()[0] == D("2024-01-05")  # the wall-clock date
    assert ledger.invoices["disputed"].tolist() == [False, True, False]
    assert any("columns ignored" in w and "notes" in w for w in report.warnings)
    assert "notes" not in ledger.customers


def test_parquet_saved_with_the_key_as_pandas_index_keeps_the_column(tmp_path):
    frames = typed_tiny()
    d = tmp_path / "d"
    write_dir(d, {k: v for k, v in frames.items() if k != "customers"}, fmt="parquet")
    frames["customers"].set_index("customer_id").to_parquet(d / "customers.parquet")
    ledger, report = load_ledger(d, DataConfig())
    assert report.rejects.empty and ledger.customers["customer_id"].tolist() == ["C1", "C2", "C3"]


# ------------------------------------------------------------------------------------- column map
ERP_NAMES = {
    "customers": {"customer_id": "KUNNR", "credit_limit": "KLIMK", "payment_terms_days": "ZTERM_DAYS",
                  "name": "NAME1", "bureau_score": "RATING"},
    "invoices": {"invoice_id": "BELNR", "customer_id": "KUNNR", "invoice_date": "BLDAT", "due_date": "NETDT",
                 "amount": "DMBTR", "currency": "WAERS"},
}
# the example of docs/data-contract.md
ERP_CONFIG = {"column_map": ERP_NAMES, "date_format": {"*": "%d.%m.%Y"}, "encoding": "cp1252", "delimiter": ";",
              "as_of": "2024-12-31", "base_currency": "EUR", "fx_rates": {"USD": 0.92, "CHF": 1.05},
              "extra_attributes": {"bureau_score": {"kind": "numeric", "monotone": -1, "description": "Bureau rating",
                                                    "reason": "Bureau rating {value:.0f}"}}}


def erp_export() -> dict[str, bytes]:
    """The tiny ledger as an ERP would export it: its own column names, dd.mm.yyyy dates, semicolons
    and cp1252 text, with a bureau rating in the customer master."""
    out = {}
    for name, df in tiny_frames().items():
        for col in TABLES[name].date_columns:
            if col in df:
                df[col] = pd.to_datetime(df[col].replace("", None)).dt.strftime("%d.%m.%Y").fillna("")
        if name == "customers":
            df["name"] = ["Müller GmbH", "Beta SAS", "Gamma BV"]
            df["bureau_score"] = ["710", "", "655"]
        df = df.rename(columns=ERP_NAMES.get(name, {}))
        out[name] = df.to_csv(index=False, sep=";").encode("cp1252")
    return out


def test_an_erp_export_with_its_own_names_formats_and_encoding(tmp_path):
    d = write_dir(tmp_path / "erp", erp_export(), config=ERP_CONFIG)
    ledger, report = load_ledger(d)  # the data.yaml beside the files is the config
    expected, _ = validate_frames(tiny_frames())
    assert report.rejects.empty and report.warnings == []
    for name, df in expected.tables().items():
        other = ledger.tables()[name]
        if name == "customers":
            assert other["name"].tolist() == ["Müller GmbH", "Beta SAS", "Gamma BV"]
            assert other["bureau_score"].tolist()[::2] == [710.0, 655.0]
            other = other.drop(columns="bureau_score").assign(name=df["name"])
        pd.testing.assert_frame_equal(other, df)
    assert ledger.extra_attributes == ("bureau_score",)


def test_column_map_problems_are_fatal_and_name_the_mapping(tmp_path):
    d = write_dir(tmp_path / "d", {**TINY, "invoices": TINY["invoices"].replace(",amount,", ",amt,")})
    with pytest.raises(DataError) as exc:
        load_ledger(d, DataConfig(column_map={"invoices": {"amount": "DMBTR"}}))
    assert exc.value.problems == [
        f"{d / 'invoices.csv'}: column_map.invoices.amount names column 'DMBTR', which is not in the file (its "
        "columns: ['invoice_id', 'customer_id', 'invoice_date', 'due_date', 'amt', 'disputed', 'dispute_date', "
        "'currency'])"]
    # one source column may feed two fields (issue 18): here due on the invoice date
    ledger, _ = load_ledger(d, DataConfig(column_map={"invoices": {"invoice_date": "invoice_date",
                                                                   "due_date": "invoice_date", "amount": "amt"}}))
    assert (ledger.invoices["due_date"] == ledger.invoices["invoice_date"]).all()
    with pytest.raises(DataError, match=r"required column 'amount' is missing; the file has \['invoice_id'"):
        load_ledger(d, DataConfig())


def test_a_mapping_may_swap_names(tmp_path):
    header = "invoice_id,customer_id,BLDAT,invoice_date,amount,disputed,dispute_date,currency"
    d = write_dir(tmp_path / "d", {**TINY, "invoices": header + "\n" + TINY["invoices"].split("\n", 1)[1]})
    ledger, report = load_ledger(d, DataConfig(column_map={"invoices": {"invoice_date": "BLDAT",
                                                                        "due_date": "invoice_date"}}))
    expected, _ = validate_frames(tiny_frames())
    assert report.rejects.empty and report.warnings == []
    pd.testing.assert_frame_equal(ledger.invoices, expected.invoices)


def test_a_mapping_to_a_column_the_file_lacks_falls_back_to_our_name_with_a_warning(tiny_dir):
    ledger, report = load_ledger(tiny_dir, DataConfig(column_map={"invoices": {"amount": "DMBTR"}}))
    assert report.rejects.empty and len(ledger.invoices) == 4
    assert any("column_map.invoices.amount names column 'DMBTR', which is not in the file; its column 'amount' "
               "is used" in w for w in report.warnings)


def test_a_file_column_with_our_name_gives_way_to_the_mapped_one(tmp_path):
    inv = TINY["invoices"].replace("currency\n", "currency,net\n")
    inv = "\n".join(line + ("" if i == 0 else ",9.5") for i, line in enumerate(inv.strip().splitlines())) + "\n"
    d = write_dir(tmp_path / "d", {**TINY, "invoices": inv})
    ledger, report = load_ledger(d, DataConfig(column_map={"invoices": {"amount": "net"}}))
    assert (ledger.invoices["amount"] == 9.5).all()
    assert any("amount (column_map uses 'net')" in w for w in report.warnings)
    assert rejects_of(report) == {  # the payments now exceed the invoices
        ("payments", 2, "amount", "overpayment"), ("payments", 3, "amount", "overpayment"),
        ("payments", 4, "amount", "overpayment"), ("adjustments", 2, "amount", "overpayment"),
        ("adjustments", 3, "amount", "overpayment")}


# -------------------------------------------------------------------------------------- currencies
def test_amounts_are_converted_to_the_base_currency():
    frames = tiny_frames()
    frames["invoices"].loc[2, "currency"] = "USD"        # I3 2500 USD
    frames["payments"].loc[2, "currency"] = "usd"        # P3 2500 USD
    frames["payments"].loc[3, "currency"] = ""           # P4 no currency: the base
    ledger, report = validate_frames(frames, base_currency="eur", fx_rates={"USD": 0.9})
    assert report.rejects.empty
    assert ledger.invoices["amount"].tolist() == [1000.0, 500.5, 2250.0, 800.0]
    assert ledger.payments["amount"].tolist() == [1000.0, 250.25, 2250.0, 100.0]
    for name in ("invoices", "payments", "adjustments", "orders"):
        assert (ledger.tables()[name]["currency"] == "EUR").all(), name


def test_overpayment_is_judged_in_the_base_currency():
    frames = with_cell(tiny_frames(), "payments", "P1", "amount", "1100")
    frames = with_cell(frames, "payments", "P1", "currency", "USD")     # 1100 USD = 990 EUR <= 1000
    ledger, report = validate_frames(frames, base_currency="EUR", fx_rates={"USD": 0.9})
    assert report.rejects.empty and ledger.payments.loc[0, "amount"] == pytest.approx(990.0)


def test_several_currencies_without_a_base_currency_are_fatal():
    frames = with_cell(tiny_frames(), "orders", "O1", "currency", "USD")
    with pytest.raises(DataError, match=r"several currencies \(EUR, USD\) and no base_currency is set"):
        validate_frames(frames)


def test_one_currency_other_than_the_base_without_a_rate_rejects_its_rows():
    frames = tiny_frames()
    frames["orders"]["currency"] = "CHF"
    ledger, report = validate_frames(frames, base_currency="EUR")
    assert rejects_of(report) == {("orders", 2, "currency", "currency_without_rate"),
                                  ("orders", 3, "currency", "currency_without_rate")}
    assert ledger.orders.empty
    assert any("every row rejected (currency_without_rate 2 in currency)" in w for w in report.warnings)


# --------------------------------------------------------------------------------- extra attributes
def test_declared_extra_attributes_are_parsed_and_kept():
    frames = tiny_frames()
    frames["customers"]["bureau_score"] = ["710", "", "655.5"]
    frames["customers"]["segment"] = ["A", "B", ""]
    frames, bad = with_row("customers", frames, bureau_score="n/a", segment="C")
    extras = {"bureau_score": {"kind": "numeric", "monotone": -1}, "segment": {"kind": "categorical"}}
    ledger, report = validate_frames(frames, extra_attributes=extras)
    assert rejects_of(report) == {("customers", bad, "bureau_score", "not_a_number")}
    cust = ledger.customers
    assert list(cust.columns) == [*TABLES["customers"].column_names, "bureau_score", "segment"]
    assert cust["bureau_score"].tolist()[::2] == [710.0, 655.5] and np.isnan(cust["bureau_score"][1])
    assert cust["segment"].tolist()[:2] == ["A", "B"] and pd.isna(cust["segment"][2])
    assert ledger.extra_attributes == ("bureau_score", "segment")


def test_a_declared_extra_attribute_missing_from_the_master_is_fatal():
    with pytest.raises(DataError, match="extra attribute 'bureau_score' declared in the data config is not a column"):
        validate_frames(tiny_frames(), extra_attributes={"bureau_score": {"kind": "numeric"}})


# ---------------------------------------------------------------------------------- nothing usable
def test_a_required_table_with_every_row_rejected_is_fatal_and_carries_the_report():
    frames = tiny_frames()
    frames["customers"]["payment_terms_days"] = "thirty"
    with pytest.raises(LedgerUnusable) as exc:
        validate_frames(frames)
    assert exc.value.problems[0] == ("<memory>/customers.csv: no usable rows (3 read, all rejected: "
                                     "not_a_number 3 in payment_terms_days)")
    report = exc.value.report
    assert report.summary.set_index("table")["accepted"].sum() == 0
    assert_counts_add_up(report)
    assert set(report.rule_counts["rule"]) == {"not_a_number", "customer_rejected", "invoice_rejected"}


def test_an_optional_table_with_every_row_rejected_is_dropped_with_a_warning():
    frames = tiny_frames()
    frames["orders"]["amount"] = "0"
    ledger, report = validate_frames(frames)
    assert ledger.orders.empty and len(ledger.invoices) == 4
    assert any("every row rejected (amount_not_positive 2 in amount); the ledger is used without orders" in w
               for w in report.warnings)


def test_a_bad_as_of_in_the_config_is_a_user_error():
    with pytest.raises(DataError, match="as_of in the data config must be a date like 2026-09-30; got '2026-13-01'"):
        validate_frames(tiny_frames(), as_of="2026-13-01")


def test_a_missing_directory_is_a_user_error(tmp_path):
    with pytest.raises(DataError, match="not a directory"):
        load_ledger(tmp_path / "nope", DataConfig())


# ------------------------------------------------------------------------------------------ config
def test_the_data_config_beside_the_files_wins_unless_one_is_given(tmp_path):
    d = write_dir(tmp_path / "d", dict(TINY), config={"delimiter": ";"})
    assert resolve_data_config(d).delimiter == ";"
    other = tmp_path / "other.yaml"
    other.write_text("encoding: cp1252\n")
    assert resolve_data_config(d, other).encoding == "cp1252" and resolve_data_config(d, other).delimiter == ","
    (d / "data.yaml").write_text("delimiter: ';;'\n")
    with pytest.raises(ConfigError, match="delimiter"):
        resolve_data_config(d)


# -------------------------------------------------------------------------------------- round trip
def test_a_generated_csv_ledger_loads_back_equal_to_the_generator_s(small_ledger_dir: Path, small_synth):
    ledger, report = load_ledger(small_ledger_dir, DataConfig())
    assert report.rejects.empty and report.warnings == []
    for name, df in small_synth.ledger.tables().items():
        pd.testing.assert_frame_equal(ledger.tables()[name], df, obj=name)
    assert ledger.fingerprint() == small_synth.ledger.fingerprint()


def test_a_generated_parquet_ledger_loads_back_equal_to_the_generator_s(small_ledger, tmp_path):
    write_ledger(small_ledger, tmp_path, "parquet")
    ledger, report = load_ledger(tmp_path, DataConfig())
    assert report.rejects.empty
    for name, df in small_ledger.tables().items():
        pd.testing.assert_frame_equal(ledger.tables()[name], df, obj=name)
