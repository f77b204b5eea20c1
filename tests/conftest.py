"""Fixtures shared by every test package: a small generated ledger (in memory and as a CSV directory)
and a non-interactive matplotlib backend."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from riskml.data.ledger import Ledger
from riskml.data.synth import SyntheticLedger, generate_ledger, write_synthetic

SMALL_CUSTOMERS = 300
SMALL_MONTHS = 24
SMALL_SEED = 1
SMALL_END = pd.Timestamp("2026-09-30")


@pytest.fixture(scope="session")
def small_synth() -> SyntheticLedger:
    """A generated ledger of 300 customers x 24 months ending 2026-09-30, with its truth
    (persona and default date per customer). Shared: do not mutate its frames."""
    return generate_ledger(n_customers=SMALL_CUSTOMERS, months=SMALL_MONTHS, seed=SMALL_SEED, end=SMALL_END)


@pytest.fixture(scope="session")
def small_ledger(small_synth: SyntheticLedger) -> Ledger:
    """The typed :class:`Ledger` of ``small_synth`` (300 customers x 24 months, end 2026-09-30)."""
    return small_synth.ledger


@pytest.fixture(scope="session")
def small_ledger_dir(small_synth: SyntheticLedger, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``small_ledger`` written as CSV files (one per table) to a temporary directory, with the
    truth in ``_truth/personas.csv`` as ``riskml synth`` writes it. Treat it as read-only."""
    out = tmp_path_factory.mktemp("small_ledger")
    write_synthetic(small_synth, out, "csv")
    return out


# a test with one of these markers is outside the fast tier; every other test gets the `unit` marker
NOT_UNIT = ("slow", "integration", "realdata", "browser", "spark")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The fast tier (`make test-fast` = `pytest -m unit`): every test not marked as one of ``NOT_UNIT``."""
    for item in items:
        if not any(item.get_closest_marker(name) for name in NOT_UNIT):
            item.add_marker(pytest.mark.unit)


@pytest.fixture(autouse=True)
def _matplotlib_agg():
    """Draw with the non-interactive Agg backend and close every figure a test leaves open."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
