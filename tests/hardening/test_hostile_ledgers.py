"""Issue 14, the harness: random but plausible small ledgers with hostile strings, extreme numbers, odd
encodings and line endings go through validate -> features -> score -> report on the CLI. Whatever the
ledger, no command ends in a traceback (exit 0, or exit 1 with one ``error:`` line per problem), every row
read is accepted or listed in the rejects, nothing is written outside ``--out`` and no CSV cell riskml
writes can run as a spreadsheet formula.

The number of examples is bounded (``RISKML_HARDENING_EXAMPLES``, default 5) and the search is
derandomised, so the test is deterministic; raise the number, and set ``RISKML_HARDENING_RANDOM=1`` for a
fresh random search, to hunt for new cases. Failing examples are printed as generated (no shrinking: it
takes minutes on CLI runs).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from riskml.cli.main import app
from tests.hardening.conftest import formula_cells

pytestmark = pytest.mark.slow
runner = CliRunner()
EXAMPLES = int(os.environ.get("RISKML_HARDENING_EXAMPLES", "5"))
DERANDOMIZE = os.environ.get("RISKML_HARDENING_RANDOM", "") != "1"
AS_OF = "2026-09-30"

HOSTILE = [
    "00000000123", "NA", "nan", "NULL", "None", "=1+2", "=HYPERLINK(\"http://x\",\"y\")", "+41 44", "-1+1", "@SUM(A1)",
    "\tTAB", "\rCR", "'quoted", "[/]", "[bold]x[/bold]", "[final]", "a/b", "../etc", "a\\b", "C:\\x", "a,b", 'q"q',
    "x\ny", "Zoë GmbH", "名古屋", "\u202eevil\u202c", "zero\u200bwidth", "<script>alert(1)</script>", "&amp;", "  pad  ",
    "x" * 130, "x" * 130 + "y", "%s%n", "{value}", "🙂", "\x00nul", ".", "..", "CON", "-12.5",
]
AMOUNTS = ["100", "2500.50", " 12 ", "1e-9", "0.0001", "999999999999", "1000000000001", "1e15", "-5", "0", "inf", "-inf",
           "nan", "NaN", "1,000.50", "1.000,50", "", "abc", "=1+2", "1e308", "12e", "0x10"]
DATES = ["2025-01-15", "2025-06-30", "2026-03-01", "2026-09-30", "2026-02-30", "", "31/12/2025", "2026-10-01",
         "0202-01-05", "20250115", "2025-01-15T10:00:00+02:00", "yesterday", "2199-12-31", "1899-12-31"]


@dataclass
class HostileLedger:
    tables: dict[str, list[dict[str, str]]]
    encoding: str  # utf-8, utf-8-sig or cp1252; "parquet" for Parquet files of text columns
    newline: str
    extra_header: bool


@st.composite
def hostile_ledgers(draw) -> HostileLedger:
    n_cust = draw(st.integers(2, 8))
    ids = []
    for i in range(n_cust):
        hostile = draw(st.booleans())
        ids.append(draw(st.sampled_from(HOSTILE)) if hostile else f"C{i:03d}")
    customers = []
    for cid in ids:
        customers.append({
            "customer_id": cid,
            "credit_limit": draw(st.sampled_from(["10000", "50000", "", "0", *AMOUNTS])),
            "payment_terms_days": draw(st.sampled_from(["30", "60", "45", "0", "30.5", "x", ""])),
            "name": draw(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20))),
            "industry": draw(st.sampled_from(["retail", "construction", "=cmd", "", "[/]"])),
            "country": draw(st.sampled_from(["DE", "FR", "", "@X"])),
            "onboarded_date": draw(st.sampled_from(DATES)),
        })
    invoices, payments, orders = [], [], []
    for k in range(draw(st.integers(0, 25))):
        good_date = draw(st.booleans())
        day = pd.Timestamp("2025-01-01") + pd.Timedelta(days=draw(st.integers(0, 600)))
        inv_date = day.date().isoformat() if good_date else draw(st.sampled_from(DATES))
        due = (day + pd.Timedelta(days=30)).date().isoformat() if good_date else draw(st.sampled_from(DATES))
        amount = f"{draw(st.floats(1, 50_000)):.2f}" if draw(st.booleans()) else draw(st.sampled_from(AMOUNTS))
        inv_id = draw(st.sampled_from([f"I{k:04d}", f"I{k:04d}", draw(st.sampled_from(HOSTILE))]))
        invoices.append({"invoice_id": inv_id, "customer_id": draw(st.sampled_from(ids + ["ghost"])),
                         "invoice_date": inv_date, "due_date": due, "amount": amount,
                         "disputed": draw(st.sampled_from(["False", "True", "", "maybe", "1"]))})
        if draw(st.booleans()):
            pay_day = (day + pd.Timedelta(days=draw(st.integers(-5, 200)))).date().isoformat()
            payments.append({"payment_id": f"P{k:04d}", "customer_id": invoices[-1]["customer_id"],
                             "invoice_id": draw(st.sampled_from([inv_id, "", "nowhere"])), "payment_date": pay_day,
                             "amount": draw(st.sampled_from([amount, "10", "1e15", "-1", "", "=2"]))})
    for k in range(draw(st.integers(0, 4))):
        orders.append({"order_id": f"O{k}", "customer_id": draw(st.sampled_from(ids)),
                       "order_date": draw(st.sampled_from(DATES)), "amount": draw(st.sampled_from(AMOUNTS))})
    tables = {"customers": customers, "invoices": invoices, "payments": payments}
    if orders:
        tables["orders"] = orders
    return HostileLedger(tables, draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "parquet"])),
                         draw(st.sampled_from(["\n", "\r\n", "\r"])), draw(st.booleans()))


HEADERS = {
    "customers": ["customer_id", "credit_limit", "payment_terms_days", "name", "industry", "country", "onboarded_date"],
    "invoices": ["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "disputed"],
    "payments": ["payment_id", "customer_id", "invoice_id", "payment_date", "amount"],
    "orders": ["order_id", "customer_id", "order_date", "amount"],
}


def write_hostile(ledger: HostileLedger, folder: Path) -> dict[str, int]:
    """Write the ledger's CSV files; return the rows per table a reader must see (blank rows excluded)."""
    folder.mkdir(parents=True)
    rows = {}
    for name, records in ledger.tables.items():
        header = HEADERS[name] + (["[/]"] if ledger.extra_header else [])
        if ledger.encoding == "parquet":  # every row is a row in Parquet (no blank lines)
            frame = pd.DataFrame([[r.get(h, "x") for h in header] for r in records], columns=header, dtype="str")
            frame.to_parquet(folder / f"{name}.parquet", index=False)
            rows[name] = len(records)
            continue
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator=ledger.newline)
        w.writerow(header)
        for r in records:
            # NUL is no text (the validator refuses such a file as a whole)
            w.writerow([r.get(h, "x").replace("\x00", "") for h in header])
        text = buf.getvalue()
        # csv quotes a lone CR only when it is in the line terminator: like many exports, the result may hold
        # malformed lines; a reader must count them as read (and reject them), so count records as csv does
        records_read = list(csv.reader(io.StringIO(text, newline="")))[1:]
        rows[name] = sum(1 for rec in records_read if any(c.strip() for c in rec))
        (folder / f"{name}.csv").write_bytes(text.encode(ledger.encoding, errors="replace"))
    if ledger.encoding == "cp1252":
        (folder / "data.yaml").write_text("encoding: cp1252\n")
    return rows


def _snapshot(root: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}




def _clean(res, step: str) -> None:
    """Exit 0, or exit 1 with error lines only; never an unhandled exception."""
    assert res.exit_code in (0, 1), f"{step}: exit {res.exit_code}\n{res.output}"
    assert res.exception is None or isinstance(res.exception, SystemExit), (
        f"{step}: {type(res.exception).__name__}: {res.exception}\n{res.output}")
    assert "Traceback" not in res.output, f"{step}: {res.output}"
    if res.exit_code == 1:
        assert any(line.startswith("error:") for line in res.stderr.splitlines()), f"{step}: {res.output}"


@settings(max_examples=EXAMPLES, deadline=None, derandomize=DERANDOMIZE, database=None, phases=(Phase.generate,),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(ledger=hostile_ledgers())
def test_hostile_ledgers_never_end_in_a_traceback(ledger: HostileLedger, tiny_model_dir: Path,
                                                  tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("hostile")
    data, out = root / "data", root / "out"
    expected_rows = write_hostile(ledger, data)
    before = _snapshot(root)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        res = runner.invoke(app, ["validate", "--data", str(data), "--rejects", str(out / "rejects.csv"),
                                  "--as-of", AS_OF])
        _clean(res, "validate")
        if (out / "rejects.csv").exists():
            _check_counts(data, out / "rejects.csv", expected_rows, res)
        res = runner.invoke(app, ["features", "--data", str(data), "--as-of", AS_OF, "--out", str(out / "f.csv")])
        _clean(res, "features")
        res = runner.invoke(app, ["score", "--data", str(data), "--as-of", AS_OF, "--out", str(out / "scores.csv"),
                                  "--model", str(tiny_model_dir)])
        _clean(res, "score")
        if res.exit_code == 0:
            res = runner.invoke(app, ["report", "--data", str(data), "--as-of", AS_OF, "--out", str(out / "report"),
                                      "--scores", str(out / "scores.csv"), "--model", str(tiny_model_dir),
                                      "--jobs", "1"])
            _clean(res, "report")
    finally:
        os.chdir(cwd)
    after = _snapshot(root)
    outside = sorted(p for p, t in after.items() if not p.startswith(str(out) + os.sep) and before.get(p) != t)
    assert outside == [], f"written outside --out: {outside}"
    for path in out.rglob("*.csv"):
        assert formula_cells(path) == [], path


def _check_counts(data: Path, rejects_path: Path, expected_rows: dict[str, int], res) -> None:
    from riskml.data.validate import load_ledger, resolve_data_config
    from riskml.errors import DataError
    from riskml.io import read_table

    try:
        _, report = load_ledger(data, resolve_data_config(data).model_copy(update={"as_of": AS_OF}))
    except DataError as exc:
        report = getattr(exc, "report", None)
        if report is None:
            return  # fatal before any row was read (e.g. a column missing): nothing to count
    rejects = read_table(rejects_path)
    for r in report.summary.itertuples():
        assert r.accepted + r.rejected == r.read
        assert r.read == expected_rows[r.table], (r.table, r.read, expected_rows[r.table])
        lines = rejects.loc[rejects["table"] == r.table, "line"].nunique()
        assert lines == r.rejected, (r.table, lines, r.rejected)
