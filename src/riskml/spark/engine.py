"""The Spark session riskml runs on, and the check that the optional Spark extra and Java are there.

``pyspark`` is an optional dependency (``pip install 'riskml[spark]'``) and Spark needs a Java 17+
runtime from the system packages; without either, :func:`require_spark` raises a
:class:`SparkUnavailable` that says how to install them, and the pandas engine keeps working.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskml.errors import RiskmlError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

MIN_JAVA = 17
INSTALL_HINT = (
    "Spark engine needs the optional extra: pip install 'riskml[spark]' (and Java {java}+ from your system "
    "packages, e.g. apt-get install openjdk-17-jre-headless, with `java` on PATH or JAVA_HOME set)"
)

# a Python worker receives whole groups as Arrow record batches of at most this many rows
DEFAULT_ARROW_BATCH = 10_000


class SparkUnavailable(RiskmlError):
    """pyspark or a suitable Java runtime is missing: the Spark engine cannot run here."""


def _quiet_pandas3_warning() -> None:
    """pyspark warns on every pandas UDF that it 'does not yet fully support pandas >= 3.0.0'.

    The Spark path is tested against the pandas path on pandas 3 (``tests/spark``), so the warning
    is noise for riskml users; only that message is silenced."""
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)


def java_binary() -> str | None:
    """The ``java`` Spark will launch: ``$JAVA_HOME/bin/java`` when JAVA_HOME is set, else ``java`` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        cand = Path(home) / "bin" / "java"
        return str(cand) if cand.exists() else None
    return shutil.which("java")


def parse_java_major(version_text: str) -> int | None:
    """The major version from ``java -version`` output: '17.0.15' -> 17, legacy '1.8.0_402' -> 8."""
    m = re.search(r'version "(\d+)(?:\.(\d+))?', version_text)
    if not m:
        return None
    major = int(m.group(1))
    if major == 1 and m.group(2) is not None:  # Java 8 and older report 1.x
        major = int(m.group(2))
    return major


@lru_cache(maxsize=4)
def _java_major(binary: str) -> int | None:
    try:
        res = subprocess.run([binary, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_java_major(res.stderr + res.stdout)


def spark_missing_reason() -> str | None:
    """Why the Spark engine cannot run here (None when it can): pyspark not installed, no Java, old Java."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed"
    java = java_binary()
    if java is None:
        where = "JAVA_HOME/bin/java" if os.environ.get("JAVA_HOME") else "`java` on PATH"
        return f"no Java runtime found ({where})"
    major = _java_major(java)
    if major is None:
        return f"could not read the Java version from `{java} -version`"
    if major < MIN_JAVA:
        return f"Java {major} found at {java}; Spark 4 needs Java {MIN_JAVA} or newer"
    return None


def require_spark() -> None:
    """Raise :class:`SparkUnavailable` (with the install hint) unless pyspark and Java 17+ are available."""
    reason = spark_missing_reason()
    if reason is not None:
        raise SparkUnavailable(f"{INSTALL_HINT.format(java=MIN_JAVA)}: {reason}")
    _quiet_pandas3_warning()


def is_local(master: str | None) -> bool:
    return master is None or master.startswith("local")


def default_conf(master: str | None) -> dict[str, str]:
    """Settings riskml needs on every cluster, plus small-machine defaults for ``local[...]`` masters.

    * Arrow on, with a bounded batch size: pandas UDFs exchange data with Python workers as Arrow.
    * Parquet nanosecond timestamps (what pandas writes) readable, as int64 nanoseconds.
    * Session time zone UTC: ledger dates are calendar dates; a local time zone must not shift them.
    * Local masters: few shuffle partitions (the default 200 is for clusters and only adds overhead),
      no web UI or console progress bar (quiet command-line runs, no port clashes between runs)."""
    conf = {
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(DEFAULT_ARROW_BATCH),
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.showConsoleProgress": "false",
        # pandas writes datetime64[ns] as Parquet TIMESTAMP(NANOS), which Spark refuses to read as a
        # timestamp; read it as the raw int64 nanoseconds (riskml.spark.tables turns them into dates)
        "spark.sql.legacy.parquet.nanosAsLong": "true",
    }
    if is_local(master):
        m = re.match(r"local\[(\d+|\*)", master or "local[2]")
        cores = (os.cpu_count() or 2) if (m is None or m.group(1) == "*") else int(m.group(1))
        conf.update({
            "spark.sql.shuffle.partitions": str(max(2, 2 * cores)),
            "spark.default.parallelism": str(max(2, 2 * cores)),
            "spark.ui.enabled": "false",
            "spark.driver.memory": "2g",
        })
    return conf


def spark_session(
    master: str | None = "local[2]",
    app_name: str = "riskml",
    conf: Mapping[str, Any] | None = None,
    log_level: str = "ERROR",
) -> SparkSession:
    """A Spark session with riskml's defaults (see :func:`default_conf`); ``conf`` overrides them.

    ``master=None`` leaves the master to ``spark-submit`` / the cluster (Databricks, YARN, Kubernetes).
    On a local master the Python workers run this interpreter (``PYSPARK_PYTHON`` is set to it unless
    already set), so they see the same riskml and pandas. An active session is reused (its SQL
    settings updated), as ``SparkSession.builder.getOrCreate`` does.

    Example: ``spark = spark_session("local[2]", conf={"spark.sql.shuffle.partitions": "8"})``
    """
    require_spark()
    from pyspark.errors import PySparkRuntimeError
    from pyspark.sql import SparkSession

    if is_local(master):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    settings = {**default_conf(master), **{k: str(v) for k, v in (conf or {}).items()}}
    builder = SparkSession.builder.appName(app_name)
    if master is not None:
        builder = builder.master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except PySparkRuntimeError as exc:  # the JVM did not start: an environment problem, not a bug
        raise SparkUnavailable(f"could not start Spark (master {master!r}): {str(exc).splitlines()[0]}") from None
    spark.sparkContext.setLogLevel(log_level)
    return spark
