"""Fixtures of the Spark engine tests: one local Spark session for the whole run, a ledger with every
kind of row error (made from the shared small ledger) and a small model registered in a throwaway
MLflow store.

Spark tests skip, with the reason, when pyspark or a Java 17+ runtime is missing
(``riskml.spark.engine.spark_missing_reason``)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from riskml.data.synth import SyntheticLedger
from tests.scoring.tiny_model import train_tiny_model

AS_OF = "2026-09-30"
# pyspark 4.3's notices about pandas 3 (the Spark path is tested against the pandas path here)
SPARK_WARNINGS = [
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
]


# the two places every Spark test runs: Spark in this process's JVM, and a standalone cluster whose
# executors are separate JVMs with their own Python workers (closures, the riskml package and files
# written by executors are exercised as on a real cluster)
MASTERS = ["local[2]", pytest.param("standalone", marks=[pytest.mark.slow, pytest.mark.spark_cluster])]
_TEST_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "1000",
}


def _skip_without_spark() -> None:
    from riskml.spark.engine import spark_missing_reason

    reason = spark_missing_reason()
    if reason is not None:
        pytest.skip(f"Spark engine unavailable: {reason} (pip install 'riskml[spark]' and Java 17+)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive_workers(ui_port: int) -> int:
    """Workers registered with the master (its web UI's JSON status); -1 while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as r:
            return int(json.load(r).get("aliveworkers", 0))
    except (OSError, ValueError):
        return -1


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as fh:  # the child keeps its own copy of the file handle
        return subprocess.Popen(args, env=env, stdout=fh, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@pytest.fixture(scope="session")
def standalone_cluster_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Logs and work folder of the standalone cluster (executors run in ``work/<app id>/<executor id>``)."""
    return tmp_path_factory.mktemp("spark-cluster")


@pytest.fixture(scope="session")
def standalone_cluster(standalone_cluster_dir: Path) -> Iterator[str]:
    """A Spark standalone cluster on this machine: one master and one worker (2 cores, 2 GB) started from
    pyspark's own distribution (``SPARK_HOME`` = the pyspark package, ``bin/spark-class``), on free
    ports of 127.0.0.1; yields its ``spark://`` URL and stops both processes at the end of the session.

    The worker starts its executors with this environment: ``PYSPARK_PYTHON`` is this interpreter and
    ``PYTHONPATH`` the one of the tests, so the executors' Python workers import the riskml under test
    (on a real cluster, riskml installed on every node; ``docs/spark.md``)."""
    _skip_without_spark()
    import pyspark

    home = Path(pyspark.__file__).parent
    root = standalone_cluster_dir
    env = {**os.environ, "SPARK_HOME": str(home), "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_LOG_DIR": str(root / "logs"), "SPARK_WORKER_DIR": str(root / "work"), "SPARK_NO_DAEMONIZE": "1"}
    env.pop("PYSPARK_GATEWAY_PORT", None)
    port, ui = _free_port(), _free_port()
    url = f"spark://127.0.0.1:{port}"
    spark_class = str(home / "bin" / "spark-class")
    procs: list[subprocess.Popen] = []
    logs = {"master": root / "master.log", "worker": root / "worker.log"}
    try:
        procs.append(_start([spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                             "--port", str(port), "--webui-port", str(ui)], env, logs["master"]))
        procs.append(_start([spark_class, "org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1",
                             "--port", str(_free_port()), "--webui-port", str(_free_port()), "--cores", "2",
                             "--memory", "2g", "--work-dir", str(root / "work")], env, logs["worker"]))
        deadline = time.monotonic() + 120
        while _alive_workers(ui) < 1:
            dead = [name for name, p in zip(logs, procs, strict=True) if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                tail = "\n".join(logs[n].read_text(errors="replace")[-2000:] for n in (dead or list(logs)))
                pytest.fail(f"the standalone Spark cluster did not start ({', '.join(dead) or 'timeout'}):\n{tail}")
            time.sleep(0.5)
        yield url
    finally:
        for proc in reversed(procs):
            _stop(proc)


@pytest.fixture(scope="session", params=MASTERS)
def spark(request: pytest.FixtureRequest) -> Iterator[object]:
    """The session every Spark test runs on, once per master of :data:`MASTERS`: ``local[2]``, then the
    standalone cluster (pytest groups the tests by master: one session at a time, one cluster per run).
    2 shuffle partitions, Arrow on."""
    _skip_without_spark()
    from riskml.spark.engine import spark_session

    conf = dict(_TEST_CONF)
    if request.param == "local[2]":
        master = "local[2]"
    else:
        master = request.getfixturevalue("standalone_cluster")
        os.environ["PYSPARK_PYTHON"] = sys.executable  # the executors' Python workers: this interpreter
        conf.update({"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
                     "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
                     "spark.executor.memory": "1g", "spark.cores.max": "2"})
    session = spark_session(master, app_name="riskml-tests", conf=conf)
    yield session
    session.stop()


# ------------------------------------------------------------------------------- a ledger with errors
def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _row(df: pd.DataFrame, **values: str) -> dict[str, str]:
    return {**{c: "" for c in df.columns}, **values}


def make_dirty_ledger(clean: Path, out: Path) -> Path:
    """A copy of the ledger in ``clean`` with rows that break every rule of riskml.data.validate, cells
    in the many forms exports use (blanks, spaces, other date layouts, yes/no flags, GBP amounts), a
    malformed line and a blank line, and a data config (base currency EUR, a GBP rate, an as-of)."""
    out.mkdir(parents=True, exist_ok=True)
    for f in clean.glob("*.csv"):
        shutil.copy(f, out / f.name)
    (out / "data.yaml").write_text(f"base_currency: EUR\nfx_rates:\n  GBP: 1.15\nas_of: '{AS_OF}'\n")

    cust = _read(out / "customers.csv")
    inv = _read(out / "invoices.csv")
    pay = _read(out / "payments.csv")
    adj = _read(out / "adjustments.csv")
    orders = _read(out / "orders.csv")
    c = cust["customer_id"].tolist()
    # the master: every parse rule, value rule and a duplicate; tricky but valid cells accepted alike
    cust.loc[cust["customer_id"] == c[3], "credit_limit"] = "-5"  # rejected: its rows become customer_rejected
    cust.loc[cust["customer_id"] == c[4], "payment_terms_days"] = "30.5"
    cust.loc[cust["customer_id"] == c[5], "onboarded_date"] = "31/12/2020"
    cust.loc[cust["customer_id"] == c[6], "credit_limit"] = " 1e5 "
    cust.loc[cust["customer_id"] == c[7], "onboarded_date"] = "2024-05-06T23:30:00+02:00"
    cust.loc[cust["customer_id"] == c[8], "onboarded_date"] = "20240506"
    cust.loc[cust["customer_id"] == c[9], "last_review_date"] = "2024-5-6"
    cust.loc[cust["customer_id"] == c[10], "payment_terms_days"] = "45.0"
    cust.loc[cust["customer_id"] == c[11], "credit_limit"] = ""
    cust.loc[cust["customer_id"] == c[12], "name"] = "Smith, Jones & \"Partners\""
    cust.loc[cust["customer_id"] == c[13], "last_review_date"] = "2026-12-01"  # future_date
    extra = [
        _row(cust, customer_id="", credit_limit="1000", payment_terms_days="30"),
        _row(cust, customer_id="CX001", credit_limit="abc", payment_terms_days="30"),
        _row(cust, customer_id="CX002", credit_limit="2000", payment_terms_days="0"),
        _row(cust, customer_id="CX003", credit_limit="2000", payment_terms_days=""),
        _row(cust, customer_id="CX004", credit_limit="inf", payment_terms_days="x"),
        _row(cust, customer_id="CX006", credit_limit="2000", payment_terms_days="30", insured_limit="-5"),
        _row(cust, customer_id="  CX005\t", credit_limit="5000", payment_terms_days=" 60 ",
             onboarded_date=" 2025-01-15 "),
        cust.iloc[20].to_dict(),  # a duplicate id: the second copy is rejected
    ]
    cust = pd.concat([cust, pd.DataFrame(extra)], ignore_index=True)

    i0 = inv.iloc[0].to_dict()
    # rows away from those modified here, of customers left valid
    untouched = ~inv["customer_id"].isin(c[:25]) & (inv.index > 100)
    paid = pay.loc[pay["invoice_id"].isin(inv.loc[untouched, "invoice_id"])].iloc[0]
    inv_paid = inv.loc[inv["invoice_id"] == paid["invoice_id"]].iloc[0]
    other = inv.loc[untouched & (inv["customer_id"] != paid["customer_id"])].iloc[0]
    inv.loc[1, "amount"] = "0"
    inv.loc[13, "amount"] = "2e12"  # amount_too_large
    inv.loc[2, "amount"] = "1,234.50"
    inv.loc[3, "amount"] = ""
    inv.loc[4, "due_date"] = "2020-01-01"  # due before issued
    inv.loc[5, "customer_id"] = "C999999"
    inv.loc[6, "disputed"] = "maybe"
    inv.loc[7, "disputed"] = "yes"
    inv.loc[8, "disputed"] = "1.0"
    inv.loc[9, "currency"] = "USD"  # no rate
    inv.loc[10, "currency"] = "GBP"  # converted at 1.15
    inv.loc[11, "invoice_date"] = "2026-10-05"  # after the data's as-of
    inv.loc[12, "currency"] = " EUR "
    inv = pd.concat([inv, pd.DataFrame([
        {**i0},  # duplicate invoice id
        _row(inv, invoice_id="INVX1", customer_id="CX005", invoice_date="2026-01-10", due_date="2026-02-09",
             amount="1500.00", currency="EUR"),
    ])], ignore_index=True)

    pay = pd.concat([pay, pd.DataFrame([
        _row(pay, payment_id="PAYX1", customer_id=paid["customer_id"], invoice_id="INV-NOPE",
             payment_date="2026-01-05", amount="10", currency="EUR"),
        _row(pay, payment_id="PAYX2", customer_id=paid["customer_id"], invoice_id=other["invoice_id"],
             payment_date="2026-01-05", amount="10", currency="EUR"),
        _row(pay, payment_id="PAYX3", customer_id=inv_paid["customer_id"], invoice_id=inv_paid["invoice_id"],
             payment_date="2020-01-01", amount="10", currency="EUR"),
        _row(pay, payment_id="PAYX4", customer_id=inv_paid["customer_id"], invoice_id=inv_paid["invoice_id"],
             payment_date=AS_OF, amount=inv_paid["amount"], currency="EUR"),  # pays it a second time
        _row(pay, payment_id="PAYX5", customer_id=inv_paid["customer_id"], invoice_id="", payment_date="2026-02-01",
             amount="-10", currency="EUR"),
        _row(pay, payment_id="PAYX6", customer_id="CX005", invoice_id="INVX1", payment_date="2026-02-01",
             amount="700", currency="GBP"),
        _row(pay, payment_id="PAYX7", customer_id="CX005", invoice_id="INVX1", payment_date="2026-02-01",
             amount="800", currency="EUR"),  # 700 GBP = 805 EUR + 800 > 1500 x 1.01 + 1: rejected
        _row(pay, payment_id="PAYX8", customer_id=c[3], invoice_id="", payment_date="2026-02-01",
             amount="50", currency="EUR"),
    ])], ignore_index=True)
    adj = pd.concat([adj, pd.DataFrame([
        _row(adj, adjustment_id="ADJX1", customer_id="CX005", invoice_id="INVX1", date="2026-02-01", amount="20",
             kind="refund", currency="EUR"),
        _row(adj, adjustment_id="ADJX2", customer_id="CX005", invoice_id="INVX1", date="2026-01-01", amount="20",
             kind="credit_note", currency="EUR"),
        # same day as PAYX6/7: taken after them; 20 + 805 (PAYX7 not counted) + 700 > 1516: rejected
        _row(adj, adjustment_id="ADJX3", customer_id="CX005", invoice_id="INVX1", date="2026-02-01", amount="700",
             kind="write_off", currency="EUR"),
        _row(adj, adjustment_id="ADJX4", customer_id="CX005", invoice_id="INVX1", date="2026-02-02", amount="5",
             kind="deduction", currency="EUR"),  # still fits after the rejected ones
    ])], ignore_index=True)
    orders = pd.concat([orders, pd.DataFrame([
        _row(orders, order_id="ORDX1", customer_id="C999999", order_date="2026-03-01", amount="100", currency="EUR"),
        _row(orders, order_id="ORDX2", customer_id="CX005", order_date="2026-11-01", amount="100", currency="EUR"),
    ])], ignore_index=True)

    for name, df in (("customers", cust), ("invoices", inv), ("payments", pay), ("adjustments", adj),
                     ("orders", orders)):
        df.to_csv(out / f"{name}.csv", index=False, quoting=csv.QUOTE_MINIMAL)
    with open(out / "invoices.csv", "a", encoding="utf-8") as fh:
        fh.write("INVX9,C000001,2026-01-01,2026-02-01,100,False,,EUR,surplus field\n\n")
    return out


@pytest.fixture(scope="session")
def dirty_ledger_dir(small_ledger_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small ledger with rows breaking every validation rule (see :func:`make_dirty_ledger`)."""
    return make_dirty_ledger(small_ledger_dir, tmp_path_factory.mktemp("dirty") / "ledger")


# ----------------------------------------------------------------------------------- a registered model
@pytest.fixture(scope="session")
def registered_model(small_synth: SyntheticLedger, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``models:/riskml-spark-test@champion`` in a throwaway sqlite store (MLFLOW_TRACKING_URI points at it
    for the session): a small RiskModel on quarterly snapshots of the small ledger, logged as riskml's
    pyfunc with its signature, as ``riskml train`` does."""
    import mlflow

    from riskml.config import ScoringConfig
    from riskml.serving.pyfunc import log_pyfunc

    model, X = train_tiny_model(small_synth)
    cfg = ScoringConfig()
    model = model.with_metadata(master_scale=cfg.master_scale, n_reasons=cfg.n_reasons)

    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", uri)
    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    exp = mlflow.create_experiment("spark-tests", artifact_location=(root / "artifacts").as_uri())
    with mlflow.start_run(experiment_id=exp):
        model_uri = log_pyfunc(model, X.head(5), pip_requirements=[])
    mlflow.register_model(model_uri, "riskml-spark-test")
    mlflow.MlflowClient().set_registered_model_alias("riskml-spark-test", "champion", "1")
    yield "models:/riskml-spark-test@champion"
    mlflow.set_tracking_uri(previous_uri)
    mp.undo()
