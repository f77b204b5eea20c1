"""A real credit-check server (``riskml serve`` in a subprocess, on a free loopback port) over the small
ledger scored with the tiny model, once on SQLite and once on a real PostgreSQL server started for the
session (skipped, with the reason, where PostgreSQL cannot be started)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from riskml.config import ScoringConfig
from riskml.features import build_features
from riskml.modeling.model import RiskModel
from riskml.scoring.score import score_customers
from tests.scoring.tiny_model import train_tiny_model

try:  # the serve extra; without it the tests that need a server skip (test modules importorskip it too)
    import httpx

    from riskml.serving.db import open_database
    from riskml.serving.keys import add_key
    from riskml.serving.localpg import LocalPostgres, free_port, unavailable_reason
    MISSING = ""
except ModuleNotFoundError as _exc:  # pragma: no cover - only without the extra
    MISSING = f"needs the serve extra (pip install 'riskml[serve]'): {_exc.name} is missing"

AS_OF = pd.Timestamp("2026-09-30")
SRC = Path(__file__).resolve().parents[2] / "src"


@dataclass
class Served:
    """The scored book the servers serve: the model, features, scores and files."""

    model: RiskModel
    model_dir: Path
    features: pd.DataFrame
    scores: pd.DataFrame
    scores_path: Path
    data_dir: Path


@pytest.fixture(scope="session")
def served(small_synth, small_ledger_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Served:
    if MISSING:
        pytest.skip(MISSING)
    model = train_tiny_model(small_synth)[0]
    out = tmp_path_factory.mktemp("served")
    model.save(out / "model")
    feats = build_features(small_synth.ledger, AS_OF)
    fingerprint = small_synth.ledger.until(AS_OF).fingerprint()
    scores = score_customers(feats, model, ScoringConfig(), {"model_version": "tiny-1"},
                             data_fingerprint=fingerprint, with_contributions=False).scores
    path = out / "scores.parquet"
    scores.to_parquet(path, index=False)
    return Served(model, out / "model", feats, scores, path, small_ledger_dir)


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(SRC) + os.pathsep + e.get("PYTHONPATH", "")
    return e


@dataclass
class Server:
    """A running ``riskml serve`` process and its keys (role/level -> key)."""

    url: str
    db: str
    served: Served
    backend: str
    args: list[str]
    keys: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    log: Path | None = None
    workers: set[int] = field(default_factory=set)  # process ids seen answering /health

    def client(self, who: str | None = "desk") -> Any:
        headers = {"X-API-Key": self.keys[who]} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def start(self) -> None:
        assert self.log is not None
        with open(self.log, "ab") as fh:
            self.proc = subprocess.Popen(self.args, stdout=fh, stderr=subprocess.STDOUT, env=env())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"riskml serve exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"riskml serve did not get ready: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    if MISSING:
        pytest.skip(MISSING)
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    pg = LocalPostgres(durable=False)
    try:
        pg.start()
    except RuntimeError as exc:
        pytest.skip(f"PostgreSQL tests skipped: {str(exc).splitlines()[0]}")
    yield pg
    pg.stop()


KEYS = {"desk": ("order_desk", ""), "analyst": ("approver", "analyst"),
        "manager": ("approver", "credit_manager"), "director": ("approver", "finance_director")}


def start_server(served: Served, db: str, backend: str, log: Path, extra: list[str] | None = None) -> Server:
    engine = open_database(db)
    keys = {who: add_key(engine, who, role, level, ScoringConfig().approvals)[0] for who, (role, level) in KEYS.items()}
    engine.dispose()
    port = free_port()
    args = [sys.executable, "-m", "riskml.cli.main", "serve", "--scores", str(served.scores_path),
            "--data", str(served.data_dir), "--db", db, "--port", str(port), *(extra or [])]
    server = Server(f"http://127.0.0.1:{port}", db, served, backend, args, keys, log=log)
    server.start()
    return server


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh server (its own empty database) per test module and backend."""
    tmp = tmp_path_factory.mktemp(f"serve_{request.param}")
    if request.param == "sqlite":
        db = str(tmp / "serve.db")
    else:
        pg = request.getfixturevalue("postgres")
        db = pg.create_database(f"serve_{request.module.__name__.split('.')[-1]}")
    srv = start_server(served, db, request.param, tmp / "server.log")
    yield srv
    srv.stop()
