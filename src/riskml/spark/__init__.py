"""Features and scoring on Apache Spark (``--engine spark``): the same pandas feature code applied to
groups of whole customers with ``applyInPandas``, and the registered MLflow model as a Spark UDF.

Optional: needs ``pip install 'riskml[spark]'`` and a Java 17+ runtime. Importing this package does
not import pyspark; :func:`riskml.spark.engine.require_spark` says what is missing.
See ``docs/spark.md``.
"""
