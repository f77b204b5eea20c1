"""Issue 14, item 4: amounts large enough to overflow the engine's exact running sums are rejected by a
named rule (both validators), and the engine never returns a wrong figure for amounts it is given."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskml.data.schemas import MAX_AMOUNT, RULES
from riskml.features import build_features
from riskml.features.engine import group_cumsum
from tests.data.conftest import tiny_frames, validate_frames
from tests.data.test_validate import with_row
from tests.features.ledgers import make_ledger

AS_OF = pd.Timestamp("2026-09-30")


def test_group_cumsum_is_exact_beyond_int64_at_the_scale() -> None:
    groups = np.array([0, 0, 1, 1, 1, 2])
    values = np.array([1e15, 1e15, 0.0001, 2e14, -2e14, 3.5])
    np.testing.assert_array_equal(group_cumsum(groups, values), [1e15, 2e15, 0.0001, 2e14 + 0.0001, 0.0001, 3.5])
    many = np.full(24, 2e14)
    assert group_cumsum(np.zeros(24, dtype=np.int64), many)[-1] == pytest.approx(4.8e15, rel=1e-15)


@pytest.mark.parametrize("amounts", [[1e15], [2e14] * 24])
def test_features_of_huge_unpaid_invoices_are_right(amounts: list[float]) -> None:
    invoices = [{"invoice_id": f"I{i}", "customer_id": "C1", "invoice_date": AS_OF - pd.Timedelta(days=200 - 5 * i),
                 "due_date": AS_OF - pd.Timedelta(days=170 - 5 * i), "amount": a} for i, a in enumerate(amounts)]
    ledger = make_ledger([{"customer_id": "C1"}], invoices)
    f = build_features(ledger, AS_OF).set_index("customer_id")
    assert f.loc["C1", "exposure_hwm_12m"] == pytest.approx(sum(amounts), rel=1e-12)


def test_the_validator_rejects_amounts_above_the_maximum() -> None:
    assert MAX_AMOUNT == 1e12 and "amount_too_large" in RULES
    frames = tiny_frames()
    frames, big = with_row("invoices", frames, invoice_id="IBIG", amount="1e15")
    frames, edge = with_row("invoices", frames, invoice_id="IEDGE", amount="1000000000000")
    frames, lim = with_row("customers", frames, customer_id="CBIG", credit_limit="1e13")
    _, report = validate_frames(frames, as_of="2024-06-30")
    r = report.rejects
    assert set(r.loc[r["rule"] == "amount_too_large", "line"]) == {big, lim}
    assert edge not in set(r["line"][r["table"] == "invoices"])
    # worst case the rule allows: 922 rows of MAX_AMOUNT per customer stay inside int64 at 1/10,000
    assert 922 * MAX_AMOUNT * 10_000 < 2**63
