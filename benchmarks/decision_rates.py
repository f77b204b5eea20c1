"""Decision rates of scores files, kept in ``docs/decision_rates.json`` and shown as the "Decision rates"
table of ``docs/scoring.md`` (between the ``decision-rates`` markers; ``tests/scoring/test_rates.py`` checks
the table against the JSON and recomputes the small test ledger's column).

    python -m benchmarks.decision_rates --data DIR --scores FILE --name "demo, seed 7"

computes the rates of ``FILE`` (scored on the ledger ``DIR``: monthly sales from its features as of the
scores' as-of date), stores them under ``--name`` and rewrites the table. ``--remove NAME`` drops a column.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RATES = ROOT / "docs" / "decision_rates.json"
DOC = ROOT / "docs" / "scoring.md"
START, END = "<!-- decision-rates:start -->", "<!-- decision-rates:end -->"


def load_rates(path: Path = RATES) -> dict[str, dict[str, float]]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def doc_section(rates: dict[str, dict[str, float]]) -> str:
    from riskml.scoring.summary import rates_markdown

    return f"{START}\n{rates_markdown(rates)}{END}"


def save_rates(rates: dict[str, dict[str, float]], path: Path = RATES, doc: Path = DOC) -> None:
    path.write_text(json.dumps(rates, indent=1) + "\n", encoding="utf-8")
    text = doc.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{doc}: no {START} ... {END} block to replace")
    doc.write_text(pattern.sub(lambda _: doc_section(rates), text), encoding="utf-8")


def rates_of(data: Path, scores_file: Path) -> dict[str, float]:
    import pandas as pd

    from riskml.cli.ledger import load_ledger_for_cli
    from riskml.features import build_features
    from riskml.io import read_table
    from riskml.scoring.summary import decision_rates

    scores = read_table(scores_file)
    as_of = pd.to_datetime(scores["as_of"]).max()
    feats = build_features(load_ledger_for_cli(data, None), as_of).set_index("customer_id")
    sales = feats["sales_avg_3m"].reindex(scores["customer_id"].astype("str")).to_numpy()
    return decision_rates(scores, sales)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path)
    ap.add_argument("--scores", type=Path)
    ap.add_argument("--name")
    ap.add_argument("--remove")
    args = ap.parse_args()
    rates = load_rates()
    if args.remove:
        rates.pop(args.remove, None)
    if args.scores is not None:
        rates[args.name or args.scores.stem] = rates_of(args.data, args.scores)
    save_rates(rates)
    print(doc_section(rates))


if __name__ == "__main__":
    main()
