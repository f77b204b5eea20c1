"""What a worklist run produces (:class:`WorklistResult`): the frames the pages render and the files hold.
Apart from the run and the pages, so that both import it and neither imports the other."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class WorklistResult:
    """Everything ``riskml worklist`` writes, as frames."""

    as_of: pd.Timestamp
    lines: pd.DataFrame  # the collector worklist, ranked (WORKLIST_COLUMNS)
    escalations: pd.DataFrame
    paperwork: pd.DataFrame
    assignment: pd.DataFrame
    collectors: pd.DataFrame  # per-collector summary
    tolerance: float
    unscored_listed: int = 0
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"worklist": self.lines, "escalations": self.escalations, "paperwork": self.paperwork,
                "assignment": self.assignment, "collectors": self.collectors}
