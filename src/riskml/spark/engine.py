"""The Spark session riskml runs on, and the check that the optional Spark extra and Java are there.

``pyspark`` is an optional dependency (``pip install 'riskml[spark]'``) and Spark needs a Java 17+
runtime from the system packages; without either, :func:`require_spark` raises a
:class:`SparkUnavailable` that says how to install them, and the pandas engine keeps working.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
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
    return master is not None and master.startswith("local")


def required_conf() -> dict[str, str]:
    """Settings the results depend on, set on every session riskml uses (also a shared one).

    * Session time zone UTC: ledger dates are calendar dates; a local time zone must not shift them.
    * Parquet nanosecond timestamps (what pandas writes) readable, as int64 nanoseconds
      (:mod:`riskml.spark.tables` turns them into dates).
    * CSV column pruning off: with it, Spark parses only the columns a query uses and no longer
      notices lines with the wrong number of fields (the ``malformed_row`` rule)."""
    return {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.legacy.parquet.nanosAsLong": "true",
        "spark.sql.csv.parser.columnPruning.enabled": "false",
    }


def tunable_conf() -> dict[str, str]:
    """riskml's defaults for settings a submission may set itself (``spark-submit --conf``, the
    cluster's Spark config), which then win: Arrow for pandas conversions, and the Arrow batch size
    (rows per batch exchanged with the Python workers of the model UDF)."""
    return {
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(DEFAULT_ARROW_BATCH),
    }


def local_conf(master: str) -> dict[str, str]:
    """Defaults for a ``local[N]`` master that riskml starts itself: shuffle partitions 2 x cores (the
    default 200 is for clusters and only adds overhead on one machine), no web UI or progress bar
    (quiet command-line runs, no port clashes), 2 GB for the driver (which is also the executor)."""
    m = re.match(r"local\[(\d+|\*)", master)
    cores = (os.cpu_count() or 2) if (m is None or m.group(1) == "*") else int(m.group(1))
    return {
        "spark.sql.shuffle.partitions": str(max(2, 2 * cores)),
        "spark.default.parallelism": str(max(2, 2 * cores)),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": "2g",
    }


def default_conf(master: str | None) -> dict[str, str]:
    """The settings of a session riskml starts itself on ``master``."""
    return {**tunable_conf(), **(local_conf(master) if is_local(master) else {}), **required_conf()}


_LOG4J = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
# the two warnings of every local start (host name on a loopback address, no native Hadoop library)
logger.utils.name = org.apache.spark.util.Utils
logger.utils.level = error
logger.native.name = org.apache.hadoop.util.NativeCodeLoader
logger.native.level = error
"""


@lru_cache(maxsize=1)
def _quiet_log4j() -> str:
    """A log4j2 config without the start-up warnings Spark's default prints on every local run (the
    session then logs errors only, see ``log_level``), written once to the temporary directory."""
    path = Path(tempfile.gettempdir()) / f"riskml-log4j2-{hashlib.sha1(_LOG4J.encode()).hexdigest()[:10]}.properties"
    if not path.exists() or path.read_text(encoding="utf-8") != _LOG4J:
        fd, tmp = tempfile.mkstemp(prefix=".riskml-log4j2-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(_LOG4J)
        os.replace(tmp, path)
    return str(path)


def launched_by_spark() -> bool:
    """Whether this Python process runs where Spark is already set up: a driver started by
    ``spark-submit`` (its JVM is up, with the master and settings of the submission), a Databricks
    cluster, or a Spark Connect client (``SPARK_REMOTE``)."""
    return any(k in os.environ for k in ("PYSPARK_GATEWAY_PORT", "DATABRICKS_RUNTIME_VERSION", "SPARK_REMOTE"))


def spark_session(
    master: str | None = None,
    app_name: str = "riskml",
    conf: Mapping[str, Any] | None = None,
    log_level: str = "ERROR",
) -> SparkSession:
    """The Spark session riskml runs on, with its settings (:func:`required_conf`, :func:`tunable_conf`).

    When there is a session already (``spark-submit``, a Databricks job or notebook, a test fixture) it
    is used as it is: master, resources and the tunable settings it was given are kept, riskml's
    required settings and the ``spark.sql.*`` entries of ``conf`` are set on it. Otherwise riskml starts
    one on ``master`` (default ``local[*]``) with :func:`default_conf` and ``conf``; on a local master
    the Python workers run this interpreter (``PYSPARK_PYTHON`` is set to it unless already set) and
    Spark logs errors only.

    Example: ``spark = spark_session("local[2]", conf={"spark.sql.shuffle.partitions": "8"})``
    """
    require_spark()
    from pyspark.errors import PySparkRuntimeError
    from pyspark.sql import SparkSession

    user = {k: str(v) for k, v in (conf or {}).items()}
    if SparkSession.getActiveSession() is not None or launched_by_spark():
        spark = SparkSession.builder.appName(app_name).getOrCreate()
        try:
            submitted = spark.sparkContext.getConf()
        except Exception:  # Spark Connect: no SparkContext; the server's settings stay as they are
            submitted = None
        for key, value in tunable_conf().items():
            if submitted is not None and not submitted.contains(key):
                spark.conf.set(key, value)
        for key, value in {**required_conf(), **user}.items():
            if key.startswith("spark.sql."):  # runtime settings; the others belong to the submission
                spark.conf.set(key, value)
        return spark
    master = master or "local[*]"
    settings = {**default_conf(master), **user}
    if is_local(master):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        settings.setdefault("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{_quiet_log4j()}")
    builder = SparkSession.builder.appName(app_name).master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except PySparkRuntimeError as exc:  # the JVM did not start: an environment problem, not a bug
        raise SparkUnavailable(f"could not start Spark (master {master!r}): {str(exc).splitlines()[0]}") from None
    spark.sparkContext.setLogLevel(log_level)
    return spark
