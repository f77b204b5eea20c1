"""Issue 14, item 10: a reason compares the customer's figure with the median in the same unit."""

from __future__ import annotations

import re

import pandas as pd

from riskml.explain.reasons import render
from riskml.features import REGISTRY


def test_a_percentage_reason_quotes_the_median_as_a_percentage() -> None:
    spec = REGISTRY["sales_ratio_3m_12m"]
    text = render(spec, pd.DataFrame({"sales_ratio_3m_12m": [0.27]}), 2.04)[0]
    assert text == "Sales of the last 3 months are 27% of the 12-month level (portfolio median 204%)"


def test_every_percentage_reason_writes_its_median_in_percent() -> None:
    for name, spec in REGISTRY.items():
        if "{value:.0%}" not in spec.reason or spec.kind == "flag":
            continue
        frame = pd.DataFrame({c: [0.5] for c in [name, *re.findall(r"\{(\w+)", spec.reason)] if c != "value"})
        text = render(spec, frame, 0.25)[0]
        if "median" in text:
            assert "median 25%" in text, (name, text)
