"""Fixtures of the hardening tests: the small generated ledger with hostile customer ids (SAP-style
zero-padded numbers, ``NA``, ``nan``, formula-like text) and the tiny model of the scoring tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from riskml.data.synth import SyntheticLedger
from riskml.data.writer import write_ledger
from riskml.io import FORMULA_STARTS
from tests.scoring.conftest import tiny_model, tiny_model_dir  # noqa: F401 - fixtures used here

# the first customers get these ids; the rest become SAP-style zero-padded numbers
HOSTILE_IDS = ("NA", "nan", "=HYPERLINK(\"http://x\",\"y\")", "-1+2", "@SUM(A1)", "+33 1 23", "'quoted")


def hostile_id_map(ids: list[str]) -> dict[str, str]:
    out = {}
    for i, cid in enumerate(ids):
        out[cid] = HOSTILE_IDS[i] if i < len(HOSTILE_IDS) else f"{i + 1:011d}"
    return out


@pytest.fixture(scope="session")
def hostile_ids_dir(small_synth: SyntheticLedger, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small ledger (CSV) whose customer ids are hostile strings and ``00000000123``-style numbers."""
    ledger = small_synth.ledger
    mapping = hostile_id_map(sorted(ledger.customers["customer_id"]))
    tables = {n: df.assign(customer_id=df["customer_id"].map(mapping)) for n, df in ledger.tables().items()}
    out = tmp_path_factory.mktemp("hostile_ids")
    write_ledger(replace(ledger, **tables), out, "csv")
    return out


def formula_cells(path: Path) -> list[str]:
    """Raw CSV cells (as a spreadsheet would see them) that start like a formula and are not numbers."""
    raw = pd.read_csv(path, dtype="str", keep_default_na=False)
    bad = []
    for col in raw.columns:
        for v in raw[col]:
            if v and v[0] in FORMULA_STARTS:
                try:
                    float(v)
                except ValueError:
                    bad.append(v)
    return bad
