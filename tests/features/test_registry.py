"""The registry is the one place a feature is known: its inputs are declared (no patching afterwards),
the reason-code knowledge (adverse side, comparison, missing text) sits on the feature, and every feature
name the later stages write as a string exists in it."""

from __future__ import annotations

import ast
import difflib
import re
from pathlib import Path

import pandas as pd
import pytest

from riskml.config import SECTIONS
from riskml.features import REGISTRY
from riskml.features.engine import AGGREGATES
from riskml.features.registry import FeatureSpec, feature, resolve

SRC = Path(__file__).resolve().parents[2] / "src" / "riskml"
# the stages above the features (they read feature columns by name)
READERS = ("modeling", "explain", "scoring", "collect", "reporting", "backtest", "serving", "spark", "cli")
# names that look like feature names but are not features (each says what it is instead)
NON_FEATURE_NAMES = {
    "dbt_12m": "a figure of the customer page's 12-month summary (reporting/customer.py)",
    "paid_12m": "a figure of the customer page's 12-month summary (reporting/customer.py)",
    "sales_12m": "a figure of the customer page's 12-month summary (reporting/customer.py)",
    "invoice_count": "a column of the monthly history table (reporting/history.py)",
    "unapplied_cash": "an amount kind and paperwork type of the collectors' worklist (collect/)",
}
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_WINDOW = re.compile(r"_\d+m$")


def registry_like(text: str, names: list[str]) -> bool:
    """A string that reads like a feature name: a window suffix (``_3m``) or close to a registry name."""
    return bool(_SNAKE.match(text)) and (
        bool(_WINDOW.search(text)) or bool(difflib.get_close_matches(text, names, n=1, cutoff=0.85)))


def quoted_names(package: Path) -> dict[str, set[str]]:
    """Every snake_case string literal in the modules under ``package`` -> the files using it."""
    out: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SNAKE.match(node.value):
                out.setdefault(node.value, set()).add(str(path.relative_to(SRC)))
    return out


def test_feature_names_used_as_strings_exist() -> None:
    names = list(REGISTRY)
    used: dict[str, set[str]] = {}
    for stage in READERS:
        for text, files in quoted_names(SRC / stage).items():
            used.setdefault(text, set()).update(files)
    # the scan sees the policies' reads (a scan that finds nothing would pass vacuously)
    assert {"dbt_avg_3m", "months_since_review", "utilisation_sustained_2m"} <= set(used)
    unknown = {t: sorted(f) for t, f in used.items()
               if registry_like(t, names) and t not in REGISTRY and t not in NON_FEATURE_NAMES}
    assert not unknown, f"feature names not in the registry (rename them, or declare them non-features): {unknown}"
    stale = sorted(n for n in NON_FEATURE_NAMES if n in REGISTRY or n not in used)
    assert not stale, f"NON_FEATURE_NAMES entries that are features or no longer used: {stale}"


def test_the_scan_catches_a_renamed_or_mistyped_feature() -> None:
    names = list(REGISTRY)
    for typo in ("dbt_avg_4m", "dbt_avrg_3m", "utilisaton", "months_since_reveiw", "oldest_dpdd"):
        assert registry_like(typo, names) and typo not in REGISTRY, typo
    for other in ("customer_id", "order_hold", "grade"):
        assert not registry_like(other, names), other


def test_policy_inputs_and_config_defaults_name_features() -> None:
    from riskml.scoring.policy import POLICY_INPUTS, POLICY_OPTIONAL_INPUTS

    columns = {"as_of", "customer_id", "country", "industry"}  # keys and customer-master attributes
    missing = [c for c in (*POLICY_INPUTS, *POLICY_OPTIONAL_INPUTS) if c not in REGISTRY and c not in columns]
    assert not missing, f"the policy reads columns no feature makes: {missing}"
    assert SECTIONS["train"]().rule_feature in REGISTRY


def test_every_declared_input_is_an_aggregate_or_a_feature() -> None:
    for spec in REGISTRY.values():
        assert spec.func is not None and spec.inputs, spec.name
        for name in spec.inputs:
            assert name in AGGREGATES or name in REGISTRY, f"{spec.name}: input {name!r} is unknown"
        assert len(spec.inputs) == spec.func.__code__.co_argcount, spec.name


def test_generated_features_take_their_windows_inputs() -> None:
    assert REGISTRY["dbt_avg_3m"].inputs == ("pay_dbt_amt_3m", "pay_amt_3m")
    assert REGISTRY["dbt_avg_12m"].inputs == ("pay_dbt_amt_12m", "pay_amt_12m")
    assert REGISTRY["aging_90p_share"].inputs == ("aging_90p_amt", "open_amt")
    assert REGISTRY["aging_1_30_amount"].inputs == ("aging_1_30_amt",)
    base = pd.DataFrame({"pay_dbt_amt_3m": [300.0, 0.0], "pay_amt_3m": [10.0, 0.0],
                         "pay_dbt_amt_12m": [1200.0, 5.0], "pay_amt_12m": [100.0, 1.0]})
    out = resolve(base, ["dbt_avg_3m", "dbt_avg_12m"])
    assert out["dbt_avg_3m"].iloc[0] == 30.0 and pd.isna(out["dbt_avg_3m"].iloc[1])
    assert out["dbt_avg_12m"].tolist() == [12.0, 5.0]


def test_reason_knowledge_lives_on_the_features() -> None:
    for spec in REGISTRY.values():
        assert spec.adverse == 0 or spec.monotone == 0, spec.name  # a constrained feature's side is its monotone
        assert spec.adverse_side == (spec.monotone or spec.adverse)
        if spec.comparison is not None:
            earlier = REGISTRY[spec.comparison[0]]
            assert earlier.unit == spec.unit and earlier.name != spec.name, spec.name
    assert REGISTRY["history_months"].adverse_side == -1 and REGISTRY["aging_current_share"].adverse_side == -1
    assert REGISTRY["dbt_avg_3m"].comparison == ("dbt_avg_12m", "over 12 months")
    assert REGISTRY["dbt_avg_12m"].comparison is None
    assert REGISTRY["dbt_avg_6m"].missing == "No payment received in the last 6 months"


def _declare(**kwargs: object) -> None:
    args: dict[str, object] = {"family": "dbt", "description": "d", "unit": "days", "monotone": 0, "reason": "r",
                               "name": "_test_only_feature"}
    args.update(kwargs)
    try:
        feature(**args)(lambda a, b: a)  # type: ignore[arg-type]
    finally:
        REGISTRY.pop("_test_only_feature", None)


@pytest.mark.parametrize("kwargs, match", [
    ({"inputs": ("pay_amt_3m",)}, "1 columns for 2 parameters"),
    ({"monotone": 1, "adverse": -1}, "unconstrained"),
    ({"adverse": 2}, "adverse must be"),
    ({"comparison": ("dbt_avg_12m",)}, "comparison must be"),
])
def test_bad_declarations_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _declare(**kwargs)


def test_spec_defaults_keep_positional_construction() -> None:
    spec = FeatureSpec("x", "attributes", "x", "", "", 0, "{value}")
    assert spec.adverse == 0 and spec.missing == "" and spec.comparison is None and spec.adverse_side == 0
