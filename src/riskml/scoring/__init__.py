"""Stage 4: batch scoring of the customer master.

``score_customers(features, model, config, model_info)`` predicts, words the reasons and calls the pure
``apply_policy(features, pd, config, previous)`` (:mod:`~riskml.scoring.policy`), which gives every customer a PD, a grade on the
master scale (:mod:`~riskml.scoring.grades`), a suggested limit and action (:mod:`~riskml.scoring.limits`),
an order hold and review flag (:mod:`~riskml.scoring.actions`), a collector persona
(:mod:`~riskml.scoring.personas`) and reason codes; ``docs/scoring.md`` documents every column and rule.
"""

from riskml.scoring.grades import UNSCORED, assign_grades, grade_bands, grade_positions, notch, notches
from riskml.scoring.policy import DECISION_COLUMNS, apply_policy
from riskml.scoring.score import (
    ScoreResult,
    contributions_path,
    load_previous,
    output_columns,
    previous_scores,
    score_customers,
    summarise,
    write_outputs,
)

__all__ = [
    "DECISION_COLUMNS",
    "apply_policy",
    "UNSCORED",
    "ScoreResult",
    "assign_grades",
    "contributions_path",
    "grade_bands",
    "grade_positions",
    "load_previous",
    "previous_scores",
    "notch",
    "notches",
    "output_columns",
    "score_customers",
    "summarise",
    "write_outputs",
]
