"""A generated ledger long enough for walk-forward models (400 customers x 30 months), and one backtest of
the champion, the two extreme policies and a hold-threshold sweep on it (shared by the tests)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from riskml.backtest.policies import CHAMPION, Policy, challenger, load_policies
from riskml.backtest.replay import BacktestResult, run_backtest
from riskml.config import BacktestConfig, ScoringConfig, TrainConfig
from riskml.data.ledger import Ledger
from riskml.data.synth import SyntheticLedger, generate_ledger, write_synthetic
from tests.backtest.policies import HOLD_NOBODY, REVOKE_ALL

END = pd.Timestamp("2026-09-30")
SWEEP = "actions.hold_past_due_days=15,30,45,60"
# one retraining: the tests need the replay, not many models
BT = BacktestConfig(retrain_months=24)
# small trees: the tests check the replay, not the model (the seed still makes every fit deterministic)
FAST_LGB = {"n_estimators": 60, "early_stopping_rounds": 10, "num_leaves": 7}
FAST = TrainConfig(lightgbm=FAST_LGB)


@pytest.fixture(scope="session")
def bt_synth() -> SyntheticLedger:
    return generate_ledger(n_customers=400, months=30, seed=3, end=END)


@pytest.fixture(scope="session")
def bt_ledger(bt_synth: SyntheticLedger) -> Ledger:
    return bt_synth.ledger


@pytest.fixture(scope="session")
def bt_ledger_dir(bt_synth: SyntheticLedger, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bt_ledger")
    write_synthetic(bt_synth, out, "csv")
    return out


def extreme_policies() -> list[Policy]:
    champ = ScoringConfig()
    return [Policy("hold_nobody", challenger(champ, HOLD_NOBODY, "hold_nobody"), "test"),
            Policy("revoke_all", challenger(champ, REVOKE_ALL, "revoke_all"), "test")]


@pytest.fixture(scope="session")
def policy_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("policies")
    out = {}
    for name, over in (("hold_nobody", HOLD_NOBODY), ("revoke_all", REVOKE_ALL)):
        out[name] = d / f"{name}.yaml"
        out[name].write_text(yaml.safe_dump(over))
    return out


@pytest.fixture(scope="session")
def fast_train_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("train") / "train.yaml"
    path.write_text(yaml.safe_dump({"lightgbm": FAST_LGB}))
    return path


@pytest.fixture(scope="session")
def bt_result(bt_ledger: Ledger) -> BacktestResult:
    policies = [*load_policies(None, [SWEEP]), *extreme_policies()]
    assert policies[0].name == CHAMPION
    return run_backtest(bt_ledger, policies, FAST, backtest=BT, keep_decisions=True)
