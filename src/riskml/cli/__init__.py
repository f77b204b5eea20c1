"""The ``riskml`` command line: one module per command, assembled in :mod:`riskml.cli.main`."""
