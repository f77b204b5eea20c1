"""Inputs: persona codes mapped in one place, scores from Parquet or a CSV round trip, collectors and
promises files checked with one line naming file, row, column and rule; promises judged by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskml.collect.inputs import (
    PERSONA_CODES,
    canonical_persona,
    prepare_scores,
    read_collectors,
    read_previous_assignment,
    read_promises,
)
from riskml.collect.run import build_worklist
from riskml.collect.worklist import evaluate_promises
from riskml.errors import RiskmlError

from .worked import AS_OF, worked_ledger, worked_scores


def test_persona_codes_old_to_new() -> None:
    assert canonical_persona("stretching") == "strong_late_payer"
    assert canonical_persona("deteriorating") == "weak_late_payer"
    assert canonical_persona("disputing") == "disorganised"
    for code in PERSONA_CODES:
        assert canonical_persona(code) == code
    assert canonical_persona(None) == "regular" and canonical_persona(float("nan")) == "regular"


def test_scores_csv_round_trip_and_checks(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    worked_scores().to_csv(path, index=False)
    s = prepare_scores(pd.read_csv(path), path, AS_OF)
    assert s["grade"].tolist() == ["10", "4", "6"] and s["order_hold"].tolist() == [True, False, True]
    assert s["hold_codes"].tolist() == ["past_due;revoked", "", "past_due"]
    with pytest.raises(RiskmlError, match=r"scores.csv: scores are as of 2026-09-30, not --as-of 2026-08-31"):
        prepare_scores(pd.read_csv(path), path, pd.Timestamp("2026-08-31"))
    bad = worked_scores().assign(pd=[0.1, 1.5, 0.2])
    with pytest.raises(RiskmlError, match=r"row 3, column pd: must lie in \[0, 1\]"):
        prepare_scores(bad, path)
    with pytest.raises(RiskmlError, match=r"missing \['persona'\]"):
        prepare_scores(worked_scores().drop(columns="persona"), path)


def test_collectors_file(tmp_path: Path) -> None:
    path = tmp_path / "team.csv"
    path.write_text("\ufeffname,capacity,portfolio\nAnn,40,DE\nBob,,\n", encoding="utf-8")  # an Excel CSV
    team = read_collectors(path)
    assert team["collector"].tolist() == ["Ann", "Bob"] and team["capacity"].iloc[0] == 40
    assert np.isinf(team["capacity"].iloc[1]) and team["portfolio"].tolist() == ["DE", ""]
    path.write_text("name,capacity\nAnn,40\nBob,lots\n")
    with pytest.raises(RiskmlError, match=r"team.csv: row 3, column capacity: must be a whole number"):
        read_collectors(path)
    path.write_text("name,capacity\nAnn,40\nAnn,3\n")
    with pytest.raises(RiskmlError, match=r"row 3, column name: collector 'Ann' listed twice"):
        read_collectors(path)
    path.write_text("who,capacity\nAnn,40\n")
    with pytest.raises(RiskmlError, match=r"needs a column name"):
        read_collectors(path)


def test_previous_assignment_reads_neutralised_names(tmp_path: Path) -> None:
    path = tmp_path / "assignment.csv"
    path.write_text("customer_id,collector\nC1,'=Ann\nC2,\nC3,Bob\n")
    prev = read_previous_assignment(path)
    assert prev.values.tolist() == [["C1", "=Ann"], ["C3", "Bob"]]


def test_promises_judged_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "promises.csv"
    path.write_text(
        "customer_id,made_date,promised_date,amount,kind,plan_id\n"
        "B,2026-06-20,2026-07-10,12000,promise,\n"       # kept: 12,000 received on 2026-07-05
        "A,2026-08-01,2026-08-31,5000,plan,PA\n"          # broken: nothing received from 2026-08-01
        "A,2026-08-01,2026-10-31,5000,plan,PA\n"          # still running
        "C,2026-09-01,2026-09-10,1000,promise,\n"        # broken: nothing by 2026-09-13; the 6,000 came 2026-09-20
        "C,2026-10-02,2026-10-20,1000,promise,\n"        # made after the as-of date: unknown
    )
    prom = read_promises(path)
    led = worked_ledger().until(AS_OF)
    ev = evaluate_promises(prom, led.payments, AS_OF, grace_days=3, shortfall_pct=0.01)
    assert ev.loc["B", "broken_promises"] == 0 and not ev.loc["B", "broken_plan"]
    assert ev.loc["A", "broken_promises"] == 1 and ev.loc["A", "broken_plan"]
    assert ev.loc["A", "broken_amount"] == pytest.approx(5_000)
    assert ev.loc["A", "next_promise_date"] == pd.Timestamp("2026-10-31")
    assert ev.loc["C", "broken_promises"] == 1 and not ev.loc["C", "broken_plan"]
    # in the worklist: Alpha escalates for the broken plan too, Gamma's urgency rises by 0.5 and it is phoned
    r = build_worklist(worked_ledger(), AS_OF, prepare_scores(worked_scores(), as_of=AS_OF),
                       pd.DataFrame({"collector": ["x"], "capacity": [np.inf], "portfolio": [""]}), promises=prom)
    lines = r.lines.set_index("customer_id")
    assert "broken_plan" in r.escalations.set_index("customer_id").loc["A", "escalation_codes"]
    assert "payment plan broken: 1 instalment(s) missed, 5,000 short" in lines.loc["A", "escalation_reason"]
    assert lines.loc["C", "urgency"] == pytest.approx(1.5 + 0.5)
    assert lines.loc["C", "channel"] == "phone" and "broken promise" in lines.loc["C", "channel_reason"]


def test_promises_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("customer_id,made_date,promised_date,amount\nA,2026-08-01,2026-07-01,10\n")
    with pytest.raises(RiskmlError, match=r"p.csv: row 2, column promised_date: must be on or after made_date"):
        read_promises(path)
    path.write_text("customer_id,made_date,promised_date,amount\nA,2026-08-01,2026-09-01,-5\n")
    with pytest.raises(RiskmlError, match=r"row 2, column amount: must be a number > 0"):
        read_promises(path)
    path.write_text("customer_id,made_date,promised_date,amount,kind\nA,2026-08-01,2026-09-01,5,maybe\n")
    with pytest.raises(RiskmlError, match=r"row 2, column kind: must be one of"):
        read_promises(path)
    path.write_text("customer_id,made_date,promised_date,amount\nA,yesterday,2026-09-01,5\n")
    with pytest.raises(RiskmlError, match=r"row 2, column made_date: must be a date"):
        read_promises(path)


def test_worklist_csv_cells_are_neutralised_by_the_project_wide_rule() -> None:
    from riskml.collect.run import _csv_ready

    df = pd.DataFrame({"name": ["=HYPERLINK(\"x\")", "ok", "-42"], "amount": [-1.0, 2.0, 3.0]})
    out = _csv_ready(df)
    assert out["name"].tolist() == ["'=HYPERLINK(\"x\")", "ok", "-42"] and out["amount"].tolist() == [-1.0, 2.0, 3.0]
    assert df["name"].iloc[0].startswith("=")  # the input is left alone
