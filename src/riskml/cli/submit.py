"""The ``riskml`` command as a file ``spark-submit`` can run (it takes a Python file, not a console script):

    spark-submit --master yarn "$(python -c 'import riskml.cli.submit as m; print(m.__file__)')" \\
        score --engine spark --data s3a://lake/ar --as-of 2026-09-30 --out s3a://lake/risk/scores.parquet

The session is the one spark-submit configured (master, executors, ``--conf`` settings); see docs/spark.md.
It sits with the CLI (it runs it): the Spark package never imports the CLI.
"""

from riskml.cli.main import app

if __name__ == "__main__":
    app(prog_name="riskml")
