"""riskml: machine-learning credit risk for B2B trade credit.

Pipeline stages, one sub-package each: ``data`` (ledger contract, validation, demo ledger),
``features`` (point-in-time payment-behaviour features), ``modeling`` (labels, LightGBM, calibration,
MLflow), ``scoring`` (PD, grade, limit, actions, reasons), ``explain`` (contributions), ``reporting``
(customer and portfolio reports), ``cli`` (the ``riskml`` command).
"""

__version__ = "0.1.0"
