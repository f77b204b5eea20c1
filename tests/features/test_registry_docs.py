"""The feature registry is the single source of the docs page and of the reason texts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from riskml.features import REGISTRY, build_features
from riskml.features.docs import render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "features.md"


def test_docs_page_is_generated_from_the_registry() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), "docs/features.md is stale: run `make docs`"


@pytest.fixture(scope="module")
def feats(small_ledger):
    return build_features(small_ledger, "2026-09-30")


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_reason_template_renders_with_real_figures(name: str, feats) -> None:
    """Every reason template formats with the figures of real customers (no KeyError fallback)."""
    spec = REGISTRY[name]
    rows = feats.loc[feats[name].notna()].head(3)
    assert len(rows), f"no customer of the small ledger has a value for {name}"
    for _, row in rows.iterrows():
        values = row.to_dict()
        text = spec.reason.format(value=values[name], **values)
        assert text == spec.render_reason(values)
        assert "{" not in text and "nan" not in text.lower(), text


def test_monotone_features_move_the_right_way_on_the_generated_ledger(small_synth) -> None:
    """Sanity of the declared directions: among customers that default within a year, the +1 features
    that most matter (DBT, past due) are higher on average than among those that do not."""
    feats = build_features(small_synth.ledger, "2025-09-30").set_index("customer_id")
    default = small_synth.truth.set_index("customer_id")["default_date"].reindex(feats.index)
    bad = ((default > "2025-09-30") & (default <= "2026-09-30")).to_numpy()
    assert bad.sum() >= 5
    for name in ("dbt_avg_6m", "late_paid_share_12m", "past_due_share"):
        assert REGISTRY[name].monotone == 1
        assert np.nanmean(feats.loc[bad, name]) > np.nanmean(feats.loc[~bad, name]), name
