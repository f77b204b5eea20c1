"""Writing Spark results: a Parquet dataset (a directory of part files) that replaces the previous one
only once it is complete, and the session bookkeeping the ``run_*`` entry points share."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from riskml.errors import RiskmlError
from riskml.spark.engine import require_spark, spark_session
from riskml.spark.tables import has_scheme

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

# file-system schemes whose URIs have an authority (bucket, container, name node): "s3a://bucket/key"
_AUTHORITY_SCHEMES = ("s3", "s3a", "s3n", "gs", "abfs", "abfss", "wasb", "wasbs", "adl", "hdfs", "oss", "cos")


def as_location(value: str | Path) -> str:
    """A path option as Spark should see it. Typer's ``Path`` turns ``s3a://bucket/key`` into
    ``s3a:/bucket/key``; the second slash is put back for schemes that need it."""
    text = str(value)
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):/(?!/)", text)
    if m and m.group(1).lower() in _AUTHORITY_SCHEMES:
        return f"{m.group(1)}://{text[m.end():]}"
    return text


@dataclass(frozen=True)
class SparkRun:
    """What a ``run_*`` entry point wrote: the output path and its row count, the ledger's validation
    summary (rows read, accepted, rejected per table) and warnings, and where the rejects went."""

    out: str
    rows: int
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: list[str] = field(default_factory=list)
    rejects_out: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_rejected(self) -> int:
        return int(self.summary["rejected"].sum()) if len(self.summary) else 0


def check_parquet_target(out: str | Path, option: str = "--out") -> str:
    """``out`` as a string, or a :class:`RiskmlError` when it names a CSV file (Spark writes Parquet)."""
    text = str(out)
    if text.lower().endswith(".csv"):
        raise RiskmlError(f"{option} {text}: the Spark engine writes Parquet (a directory of part files); "
                          "use a name ending in .parquet, or the pandas engine for CSV")
    return text


def _local(path: str) -> Path | None:
    if not has_scheme(path):
        return Path(path)
    return Path(path.removeprefix("file://").removeprefix("file:")) if path.startswith("file:") else None


def write_parquet(df: DataFrame, out: str | Path) -> str:
    """Write ``df`` as a Parquet dataset at ``out``, replacing what was there only once it is complete.

    Local paths: written into a temporary sibling directory, then renamed onto ``out`` (a failed run
    leaves the previous output or none). URIs (s3a://, abfss://, dbfs:/, hdfs://): the same through the
    Hadoop file system when Spark exposes it, else Spark's own overwrite (object stores have no atomic
    rename; readers should use the ``_SUCCESS`` marker Spark writes last)."""
    target = check_parquet_target(out)
    local = _local(target)
    if local is not None:
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{local.name}.", suffix=".tmp", dir=local.parent))
        try:
            df.write.mode("overwrite").parquet(str(tmp))
            old = None
            if local.exists():
                old = local.with_name(f".{local.name}.old")
                if old.exists():
                    shutil.rmtree(old) if old.is_dir() else old.unlink()
                os.replace(local, old)
            os.replace(tmp, local)
            if old is not None:
                shutil.rmtree(old) if old.is_dir() else old.unlink()
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
        return str(local)
    spark = df.sparkSession
    try:
        jvm = spark._jvm  # type: ignore[attr-defined]
        hadoop_conf = spark._jsc.hadoopConfiguration()  # type: ignore[attr-defined]
    except Exception:  # Spark Connect: no JVM handle
        df.write.mode("overwrite").parquet(target)
        return target
    dest = jvm.org.apache.hadoop.fs.Path(target)
    fs = dest.getFileSystem(hadoop_conf)
    tmp_path = jvm.org.apache.hadoop.fs.Path(dest.getParent(), f".{dest.getName()}.tmp")
    df.write.mode("overwrite").parquet(tmp_path.toString())
    if fs.exists(dest):
        fs.delete(dest, True)
    if not fs.rename(tmp_path, dest):
        raise RiskmlError(f"{target}: could not move the finished output from {tmp_path.toString()}")
    return target


def write_rejects(rejects: DataFrame, out: str | Path) -> str:
    """The rejected rows: CSV through pandas when ``out`` ends in .csv (reject lists are small), else Parquet."""
    if str(out).lower().endswith(".csv"):
        from riskml.io import write_table

        write_table(rejects.orderBy("table", "id").toPandas(), out)
        return str(out)
    return write_parquet(rejects, out)


@contextlib.contextmanager
def session_for_run(spark: SparkSession | None, master: str | None,
                    conf: Mapping[str, Any] | None) -> Iterator[SparkSession]:
    """``spark`` if given; else a new session (see :func:`spark_session`) that is stopped afterwards,
    unless a session was already active in this process (it is reused and left running)."""
    if spark is not None:
        yield spark
        return
    require_spark()
    from pyspark.sql import SparkSession

    had_active = SparkSession.getActiveSession() is not None
    session = spark_session(master, conf=conf)
    try:
        yield session
    finally:
        if not had_active:
            session.stop()
