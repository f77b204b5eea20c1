"""`riskml validate` end to end: a generated ledger with one injected bad row per rule (each reported with
its rule, table, line and column, and the counts add up), and every fatal problem as exit 1 with one
line per problem on stderr and no traceback."""

from __future__ import annotations

import csv
import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskml.cli.main import app
from riskml.config import DataConfig
from riskml.data.schemas import RULES
from riskml.data.validate import REJECT_COLUMNS, load_ledger
from tests.data.conftest import TINY, assert_counts_add_up, write_dir

pytestmark = pytest.mark.integration

runner = CliRunner()
AS_OF = "2026-09-30"  # the generated ledger's end
CONFIG = {"base_currency": "EUR", "fx_rates": {"USD": 0.9}}


def csv_line(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()


class CsvFile:
    """A CSV file's text being edited; ``append`` returns the line the new row starts on."""

    def __init__(self, path: Path):
        self.path = path
        self.text = path.read_text(encoding="utf-8")
        self.header = next(csv.reader([self.text.split("\n", 1)[0]]))
        self.rows_added = 0

    def append(self, cells: dict[str, str] | str) -> int:
        line = self.text.count("\n") + 1
        self.text += cells if isinstance(cells, str) else csv_line([cells.get(c, "") for c in self.header])
        self.rows_added += 1
        return line

    def insert_blank_line(self, after_line: int) -> int:
        lines = self.text.splitlines(keepends=True)
        lines.insert(after_line, "\n")
        self.text = "".join(lines)
        return after_line + 1

    def line_text(self, line: int) -> str:
        return self.text.splitlines(keepends=True)[line - 1]

    def replace_line(self, line: int, cells: list[str]) -> None:
        lines = self.text.splitlines(keepends=True)
        lines[line - 1] = csv_line(cells)
        self.text = "".join(lines)

    def save(self) -> None:
        self.path.write_text(self.text, encoding="utf-8", newline="")


@dataclass
class Injected:
    path: Path
    expected: dict[str, list[tuple]]  # rule -> [(table, line, column)]
    added: dict[str, tuple[int, int]]  # table -> (rows added, of which bad)
    blank_lines: dict[str, list[int]]
    multiline_customer: str
    fx: dict[str, str]  # table -> id of a valid USD row


def inject(src: Path, out: Path, synth) -> Injected:
    """Copy the generated ledger and inject one bad row per rule (plus blank lines, a value holding a
    line break and valid rows in USD) into its CSV files."""
    out.mkdir()
    for p in src.glob("*.csv"):
        shutil.copy(p, out / p.name)
    write_dir(out, {}, config=CONFIG)
    f = {name: CsvFile(out / f"{name}.csv") for name in ("customers", "invoices", "payments", "adjustments", "orders")}
    led = synth.ledger
    expected: dict[str, list[tuple]] = {r: [] for r in RULES}
    bad: dict[str, int] = dict.fromkeys(f, 0)

    def add(table: str, rule: str | None, column: str | None, cells: dict[str, str] | str) -> None:
        line = f[table].append(cells)
        if rule is not None:
            expected[rule].append((table, line, column))
            bad[table] += 1

    # line numbering: a blank line and a quoted line break in the customer master, a blank line in invoices
    blank = {"customers": [f["customers"].insert_blank_line(5)], "invoices": [f["invoices"].insert_blank_line(100)]}
    cells = next(csv.reader([f["customers"].line_text(8)]))
    multiline = cells[0]
    cells[3] = "Multi\nLine GmbH"
    f["customers"].replace_line(8, cells)

    inv = led.invoices
    any_inv = inv[inv["invoice_date"] >= "2025-06-01"].iloc[0]
    a_cust = any_inv["customer_id"]
    other = led.customers.loc[led.customers["customer_id"] != a_cust, "customer_id"].iloc[0]
    c_ok = led.customers["customer_id"].iloc[0]
    applied = led.payments[led.payments["invoice_id"].notna()]
    paid = applied.groupby("invoice_id")["amount"].sum()
    fully = inv[inv["invoice_id"].map(paid).round(2).eq(inv["amount"].round(2))
                & ~inv["invoice_id"].isin(led.adjustments["invoice_id"])].iloc[0]

    cust = {"credit_limit": "5000", "payment_terms_days": "30", "name": "Injected", "industry": "retail",
            "country": "DE", "onboarded_date": "2025-01-01", "last_review_date": "2025-01-01"}
    add("customers", "malformed_row", None, "CX0001,5000\n")
    add("customers", "missing_value", "payment_terms_days", {**cust, "customer_id": "CX0002", "payment_terms_days": ""})
    add("customers", "not_a_number", "credit_limit", {**cust, "customer_id": "CX0003", "credit_limit": "12k"})
    add("customers", "negative_credit_limit", "credit_limit", {**cust, "customer_id": "CX0004", "credit_limit": "-100"})
    add("customers", "invalid_payment_terms", "payment_terms_days",
        {**cust, "customer_id": "CX0005", "payment_terms_days": "30.5"})
    add("customers", "unparseable_date", "onboarded_date", {**cust, "customer_id": "CX0006", "onboarded_date": "2025-02-30"})
    add("customers", "duplicate_id", "customer_id", f["customers"].line_text(2))
    add("customers", "future_date", "last_review_date",
        {**cust, "customer_id": "CX0008", "last_review_date": "2026-10-15"})
    add("customers", "negative_insured_limit", "insured_limit", {**cust, "customer_id": "CX0009", "insured_limit": "-5"})

    invoice = {"customer_id": c_ok, "invoice_date": "2026-06-01", "due_date": "2026-07-01", "amount": "100.00",
               "disputed": "False", "dispute_date": "", "currency": "EUR"}
    add("invoices", "amount_not_positive", "amount", {**invoice, "invoice_id": "IX0001", "amount": "0"})
    add("invoices", "amount_too_large", "amount", {**invoice, "invoice_id": "IX0011", "amount": "1e15"})
    add("invoices", "due_before_invoice", "due_date", {**invoice, "invoice_id": "IX0002", "due_date": "2026-05-01"})
    add("invoices", "not_a_boolean", "disputed", {**invoice, "invoice_id": "IX0003", "disputed": "perhaps"})
    add("invoices", "unknown_customer", "customer_id", {**invoice, "invoice_id": "IX0004", "customer_id": "CX9999"})
    add("invoices", "customer_rejected", "customer_id", {**invoice, "invoice_id": "IX0005", "customer_id": "CX0004"})
    add("invoices", "currency_without_rate", "currency", {**invoice, "invoice_id": "IX0006", "currency": "GBP"})
    add("invoices", "future_date", "invoice_date",
        {**invoice, "invoice_id": "IX0007", "invoice_date": "2026-10-05", "due_date": "2026-11-04"})
    add("invoices", "unparseable_date", "invoice_date", {**invoice, "invoice_id": "IX0008", "invoice_date": "05/01/2026"})
    add("invoices", None, None, {**invoice, "invoice_id": "IX0010", "amount": "1000", "currency": "USD"})
    add("invoices", "malformed_row", None, csv_line(["IX0009", *invoice.values(), "extra"]))

    pay = {"customer_id": c_ok, "invoice_id": "", "payment_date": "2026-06-15", "amount": "10", "currency": "EUR"}
    day_before = (any_inv["invoice_date"] - pd.Timedelta(days=1)).date().isoformat()
    add("payments", "unknown_invoice", "invoice_id", {**pay, "payment_id": "PX0001", "invoice_id": "IX9999"})
    add("payments", "invoice_rejected", "invoice_id", {**pay, "payment_id": "PX0002", "invoice_id": "IX0001"})
    add("payments", "customer_mismatch", "customer_id",
        {**pay, "payment_id": "PX0003", "customer_id": other, "invoice_id": any_inv["invoice_id"]})
    add("payments", "payment_before_invoice", "payment_date",
        {**pay, "payment_id": "PX0004", "customer_id": a_cust, "invoice_id": any_inv["invoice_id"],
         "payment_date": day_before})
    add("payments", "overpayment", "amount",
        {**pay, "payment_id": "PX0005", "customer_id": fully["customer_id"], "invoice_id": fully["invoice_id"],
         "payment_date": AS_OF, "amount": f"{fully['amount']:.2f}"})
    add("payments", "not_a_number", "amount", {**pay, "payment_id": "PX0006", "amount": "12,50"})
    add("payments", "duplicate_id", "payment_id", f["payments"].line_text(2))
    add("payments", "missing_value", "payment_date", {**pay, "payment_id": "PX0008", "payment_date": ""})
    add("payments", None, None, {**pay, "payment_id": "PX0009", "invoice_id": "IX0010", "amount": "1000",
                                 "currency": "USD"})

    add("adjustments", "unknown_kind", "kind",
        {"adjustment_id": "AX0001", "customer_id": a_cust, "invoice_id": any_inv["invoice_id"],
         "date": (any_inv["invoice_date"] + pd.Timedelta(days=1)).date().isoformat(), "amount": "1.00",
         "kind": "refund", "currency": "EUR"})
    order = {"customer_id": c_ok, "order_date": "2026-09-01", "amount": "10", "closed_date": "", "currency": "EUR"}
    add("orders", "unknown_customer", "customer_id", {**order, "order_id": "OX0001", "customer_id": "CX8888"})
    add("orders", "amount_not_positive", "amount", {**order, "order_id": "OX0002", "amount": "-50"})
    for file in f.values():
        file.save()
    return Injected(out, expected, {t: (f[t].rows_added, bad[t]) for t in f}, blank, multiline,
                    {"invoices": "IX0010", "payments": "PX0009"})


@pytest.fixture(scope="module")
def injected(small_ledger_dir, small_synth, tmp_path_factory) -> Injected:
    return inject(small_ledger_dir, tmp_path_factory.mktemp("injected") / "ledger", small_synth)


@pytest.fixture(scope="module")
def cli_run(injected: Injected, tmp_path_factory):
    rejects = tmp_path_factory.mktemp("out") / "rejects.csv"
    result = runner.invoke(app, ["validate", "--data", str(injected.path), "--rejects", str(rejects),
                                 "--as-of", AS_OF])
    return result, pd.read_csv(rejects, dtype={"line": "int64"}, keep_default_na=False)


def found(rejects: pd.DataFrame) -> set[tuple]:
    return {(t, int(line), c or None, r) for t, line, c, r in
            zip(rejects["table"], rejects["line"], rejects["column"], rejects["rule"], strict=True)}


def test_validate_exits_0_and_lists_exactly_the_injected_rows(injected, cli_run):
    result, rejects = cli_run
    assert result.exit_code == 0, result.output
    assert list(rejects.columns) == REJECT_COLUMNS
    expected = {(t, line, c, rule) for rule, places in injected.expected.items() for t, line, c in places}
    assert found(rejects) == expected  # nothing else: no valid row is rejected


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_is_reported_with_its_table_line_and_column(injected, cli_run, rule):
    _, rejects = cli_run
    places = injected.expected[rule]
    assert places, f"no injection for {rule}"
    mine = rejects[rejects["rule"] == rule]
    assert {(t, int(line), c or None) for t, line, c in zip(mine["table"], mine["line"], mine["column"],
                                                            strict=True)} == set(places)
    assert (mine["message"] == RULES[rule]).all()


def test_the_counts_add_up(injected, small_synth, cli_run):
    result, rejects = cli_run
    ledger, report = load_ledger(injected.path, DataConfig(as_of=AS_OF, **CONFIG))
    assert_counts_add_up(report)
    summary = report.summary.set_index("table")
    for name, df in small_synth.ledger.tables().items():
        added, bad = injected.added[name]
        assert summary.loc[name, "read"] == len(df) + added, name
        assert summary.loc[name, "rejected"] == bad, name
        assert len(ledger.tables()[name]) == len(df) + added - bad, name
    read, n_rej = int(summary["read"].sum()), int(summary["rejected"].sum())
    assert n_rej == rejects.drop_duplicates(["table", "line"]).shape[0]
    assert f"{read:,} rows read, {read - n_rej:,} accepted, {n_rej:,} rejected" in result.stdout


def test_line_breaks_blank_lines_and_fx_in_the_injected_ledger(injected, cli_run):
    result, _ = cli_run
    ledger, report = load_ledger(injected.path, DataConfig(as_of=AS_OF, **CONFIG))
    names = ledger.customers.set_index("customer_id")["name"]
    assert names[injected.multiline_customer] == "Multi\nLine GmbH"
    for table, lines in injected.blank_lines.items():
        assert any(f"{table}.csv: 1 blank lines skipped (lines {lines[0]})" in w for w in report.warnings)
        assert f"{table}.csv: 1 blank lines skipped" in result.stderr
    assert ledger.invoices.set_index("invoice_id").loc["IX0010", "amount"] == pytest.approx(900.0)
    assert ledger.payments.set_index("payment_id").loc["PX0009", "amount"] == pytest.approx(900.0)
    assert (ledger.invoices["currency"] == "EUR").all()


# ------------------------------------------------------------------------------------------- fatal
def _no_payments(d: Path) -> None:
    (d / "payments.csv").unlink()


def _no_amount(d: Path) -> None:
    (d / "invoices.csv").write_text(TINY["invoices"].replace(",amount,", ",amt,"))


def _both_formats(d: Path) -> None:
    pd.read_csv(d / "customers.csv").to_parquet(d / "customers.parquet")


def _garbage_parquet(d: Path) -> None:
    (d / "payments.csv").unlink()
    (d / "payments.parquet").write_bytes(b"not a parquet file at all")


def _bad_utf8(d: Path) -> None:
    (d / "invoices.csv").write_bytes(TINY["invoices"].encode() + "I5,C1,2024-01-01,2024-02-01,10,,,EUÖR\n".encode("cp1252"))


def _extra_absent(d: Path) -> None:
    (d / "data.yaml").write_text("extra_attributes:\n  bureau_score: {kind: numeric}\n")


def _two_currencies(d: Path) -> None:
    (d / "orders.csv").write_text(TINY["orders"].replace("700.00,,EUR", "700.00,,USD"))


def _two_missing_columns(d: Path) -> None:
    _no_amount(d)
    (d / "payments.csv").write_text(TINY["payments"].replace("payment_date", "paid_on"))


def _bad_config(d: Path) -> None:
    (d / "data.yaml").write_text("delimiter: ';;'\n")


def _bad_as_of(d: Path) -> None:
    (d / "data.yaml").write_text("as_of: '2026-13-01'\n")


FATAL = [
    (_no_payments, ["required table payments is missing (expected payments.csv or payments.parquet)"]),
    (_no_amount, ["invoices.csv: required column 'amount' is missing; the file has ['invoice_id'"]),
    (_both_formats, ["both customers.csv and customers.parquet exist; keep one"]),
    (_garbage_parquet, ["payments.parquet: cannot be read as Parquet"]),
    (_bad_utf8, ["invoices.csv: line 6 is not valid utf-8 text; set encoding in the data config"]),
    (_extra_absent, ["extra attribute 'bureau_score' declared in the data config is not a column of the customer "
                     "master"]),
    (_two_currencies, ["the ledger holds several currencies (EUR, USD) and no base_currency is set"]),
    (_two_missing_columns, ["invoices.csv: required column 'amount' is missing",
                            "payments.csv: required column 'payment_date' is missing"]),
    (_bad_config, ["data.yaml: delimiter: String should have at most 1 character"]),
    (_bad_as_of, ["as_of in the data config must be a date like 2026-09-30; got '2026-13-01'"]),
]


@pytest.mark.parametrize("breaker,messages", FATAL, ids=[b.__name__.strip("_") for b, _ in FATAL])
def test_a_fatal_problem_exits_1_with_one_line_per_problem(tiny_dir, tmp_path, breaker, messages):
    breaker(tiny_dir)
    result = runner.invoke(app, ["validate", "--data", str(tiny_dir), "--rejects", str(tmp_path / "r.csv")])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(messages), lines
    for line, message in zip(lines, messages, strict=True):
        assert line.startswith("error: ") and message in line, (line, message)
    assert "Traceback" not in result.output + result.stderr
    assert not (tmp_path / "r.csv").exists()


def test_nothing_usable_exits_1_but_writes_the_rejects_that_say_why(tiny_dir, tmp_path):
    (tiny_dir / "customers.csv").write_text(re.sub(r",(30|45|60),", ",thirty,", TINY["customers"]))
    out = tmp_path / "r.parquet"
    result = runner.invoke(app, ["validate", "--data", str(tiny_dir), "--rejects", str(out)])
    assert result.exit_code == 1
    errors = [e for e in result.stderr.strip().splitlines() if not e.startswith("warning: ")]
    assert errors[0].endswith("customers.csv: no usable rows (3 read, all rejected: not_a_number 3 in "
                              "payment_terms_days)")
    assert all(e.startswith("error: ") for e in errors) and len(errors) == 3  # customers, invoices, payments
    rejects = pd.read_parquet(out)
    assert rejects.groupby("table")["line"].nunique().to_dict() == {
        "customers": 3, "invoices": 4, "payments": 4, "adjustments": 2, "orders": 2}
    assert "0 accepted" in result.stdout


@pytest.mark.parametrize("args,message", [
    (["--rejects", "r.xlsx"], "--rejects must end in .csv or .parquet; got 'r.xlsx'"),
    (["--rejects", "r.csv", "--as-of", "soon"], "--as-of must be a date like 2026-09-30; got 'soon'"),
])
def test_bad_options_are_user_errors(tiny_dir, args, message):
    result = runner.invoke(app, ["validate", "--data", str(tiny_dir), *args])
    assert result.exit_code == 1 and message in result.stderr


def test_a_missing_directory_is_a_user_error(tmp_path):
    result = runner.invoke(app, ["validate", "--data", str(tmp_path / "nope"), "-r", str(tmp_path / "r.csv")])
    assert result.exit_code == 1 and "not a directory" in result.stderr and "Traceback" not in result.stderr


def test_as_of_rejects_future_rows_and_an_empty_rejects_file_is_written(tiny_dir, tmp_path):
    out = tmp_path / "r.csv"
    result = runner.invoke(app, ["validate", "--data", str(tiny_dir), "-r", str(out)])
    assert result.exit_code == 0 and "15 rows read, 15 accepted, 0 rejected" in result.stdout
    assert pd.read_csv(out).columns.tolist() == REJECT_COLUMNS and len(pd.read_csv(out)) == 0
    result = runner.invoke(app, ["validate", "--data", str(tiny_dir), "-r", str(out), "--as-of", "2024-06-29"])
    assert result.exit_code == 0 and "1 rejected" in result.stdout
    assert found(pd.read_csv(out, keep_default_na=False)) == {("adjustments", 3, "date", "future_date")}
