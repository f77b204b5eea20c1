"""Each master of the Spark tests is what it says: on the standalone cluster the tasks run in executors
the worker started (their own processes, in the worker's work folder), and their Python workers import
the riskml under test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import riskml
from tests.spark.conftest import SPARK_WARNINGS

pytestmark = [pytest.mark.spark, pytest.mark.slow, *SPARK_WARNINGS]


def test_tasks_run_where_the_master_says(spark, request: pytest.FixtureRequest) -> None:
    def _where() -> tuple[int, str, str]:  # nested: shipped by value (the executors cannot import tests/)
        import os

        import riskml as imported

        return os.getpid(), os.getcwd(), imported.__file__

    sc = spark.sparkContext
    seen = sc.parallelize(range(4), 2).map(lambda _: _where()).collect()
    assert {f for _, _, f in seen} == {riskml.__file__}  # the package under test, in every Python worker
    assert all(pid != os.getpid() for pid, _, _ in seen)
    if request.node.callspec.params["spark"] == "local[2]":
        assert sc.master == "local[2]"
    else:
        assert sc.master.startswith("spark://127.0.0.1:")
        # an executor runs in <worker dir>/<app id>/<executor id>: a process the worker started
        work = Path(request.getfixturevalue("standalone_cluster_dir")) / "work" / sc.applicationId
        assert {str(Path(cwd).parent) for _, cwd, _ in seen} == {str(work)}
