"""Issue 14, item 9 (score and train side): a killed run leaves nothing that the next run does not clean
up: stale atomic temporaries are removed, SIGTERM ends an MLflow run as FAILED, and the next training
closes runs and registered versions that a killed training left open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from riskml.cli.common import signals_interrupt
from riskml.io import clean_stale_temporaries, write_table

pytestmark = pytest.mark.integration

KILL_INSIDE_ATOMIC = """
import os, signal, sys
from riskml.io import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("half")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_write_leaves_a_temporary_that_the_next_write_removes(tmp_path: Path) -> None:
    target = tmp_path / "scores.csv"
    subprocess.run([sys.executable, "-c", KILL_INSIDE_ATOMIC, str(target)], check=False,
                   env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".scores.csv.") and left[0].endswith(".tmp")
    write_table(pd.DataFrame({"a": [1]}), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]


def test_a_temporary_of_a_live_run_is_kept_old_unnamed_ones_go(tmp_path: Path) -> None:
    target = tmp_path / "s.parquet"
    live = tmp_path / f".s.parquet.{os.getpid()}-abc.tmp"
    dead = tmp_path / f".other.parquet.{_dead_pid()}-x1.tmp"
    legacy = tmp_path / ".s.parquet.k2j3h4a_.tmp"
    fresh_legacy = tmp_path / ".s.parquet.zzzzzzzz.tmp"
    not_ours = tmp_path / ".s.parquet.tmp"
    for p in (live, dead, legacy, fresh_legacy, not_ours):
        p.write_text("x")
    old = time.time() - 2 * 86_400
    os.utime(legacy, (old, old))
    assert sorted(clean_stale_temporaries(target)) == sorted([dead, legacy])
    assert live.exists() and fresh_legacy.exists() and not_ours.exists()


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(proc.stdout)


def _store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    import mlflow

    mlflow.set_tracking_uri(uri)
    return uri


@pytest.mark.slow
def test_sigterm_ends_the_mlflow_run_as_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow
    from mlflow import MlflowClient

    _store(tmp_path, monkeypatch)
    mlflow.set_experiment("riskml-test")
    with signals_interrupt(), pytest.raises(KeyboardInterrupt), mlflow.start_run() as run:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler interrupts this
    assert MlflowClient().get_run(run.info.run_id).info.status == "FAILED"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL or callable(signal.getsignal(signal.SIGTERM))


KILLED_TRAINING = """
import os, signal, sys
import mlflow
from mlflow import MlflowClient
from riskml.modeling.tracking import process_tags
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("riskml-test")
client = MlflowClient()
run = mlflow.start_run()
mlflow.set_tags(process_tags())
client.create_registered_model("m")
client.create_model_version("m", source="file:///nowhere", run_id=run.info.run_id)
print(run.info.run_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.slow
def test_the_next_training_closes_what_a_killed_one_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow import MlflowClient

    from riskml.modeling.registry import close_stale

    uri = _store(tmp_path, monkeypatch)
    done = subprocess.run([sys.executable, "-c", KILLED_TRAINING, uri], capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    run_id = done.stdout.split()[0]
    client = MlflowClient()
    assert client.get_run(run_id).info.status == "RUNNING"
    notes = close_stale("riskml-test", "m")
    assert client.get_run(run_id).info.status == "FAILED"
    assert client.get_model_version("m", "1").tags["promotion.decision"] == "interrupted"
    assert len(notes) == 2 and "marked FAILED" in notes[0] and "version 1" in notes[1]
    assert close_stale("riskml-test", "m") == []  # nothing left to close
