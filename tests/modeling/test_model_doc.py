"""docs/model.md's figures come from a run (issue 18): the block between the model-card markers has the
format of a model card made by riskml.modeling.card.model_card, and refreshing it from a card replaces
exactly that block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from riskml.modeling.card import DOC_BEGIN, DOC_END, card_sections, model_card, refresh_doc

from .conftest import small_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "model.md"


def _structure(text: str) -> list[str]:
    """Headings, table header rows and the first words of each figure sentence: the card's format."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        header = line.startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---")
        if line.startswith("### ") or header:
            out.append(line)
        elif m := re.match(r"^(Features|Test window|Method|Mean predicted PD|AUC gain)\b", line):
            out.append(m.group(1))
    return out


def _block(doc: str) -> str:
    return doc.split(DOC_BEGIN)[1].split(DOC_END)[0]


@pytest.fixture(scope="module")
def card(small_data) -> str:
    """A card as ``riskml train`` makes it: with the calibration per persona of the test window."""
    from riskml.cli.train import persona_segmenter
    from riskml.config import ScoringConfig
    from riskml.modeling.train import fit_and_evaluate
    from riskml.scoring.personas import PERSONAS

    config = small_config()
    config.auc_bootstrap = 50
    result = fit_and_evaluate(small_data, config, segmenter=persona_segmenter(ScoringConfig()),
                              segment_order=list(PERSONAS))
    return model_card(result, config, {"model_name": "riskml-delinquency", "model_version": "7"})


def test_docs_block_has_the_model_card_format(card: str) -> None:
    block = _block(DOC.read_text(encoding="utf-8"))
    assert _structure(block) == _structure(card_sections(card))
    assert "(this model)" in block and "Method: **" in block  # not a hand-made table


def test_refresh_replaces_only_the_block(card: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    new = refresh_doc(doc, card, "test")
    assert new.split(DOC_BEGIN)[0] == doc.split(DOC_BEGIN)[0] and new.split(DOC_END)[1] == doc.split(DOC_END)[1]
    assert "version 7" in _block(new) and card_sections(card) in _block(new)
    assert refresh_doc(new, card, "test") == new  # idempotent
    with pytest.raises(ValueError, match="markers"):
        refresh_doc("no markers", card)
    with pytest.raises(ValueError, match="no section"):
        card_sections("# a card\n\n## Intended use\n\ntext\n")
