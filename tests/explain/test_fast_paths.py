"""The fast paths of scoring give exactly what the straightforward ones give: the reasons (a one-pass
numba selection, texts worded once per distinct set of figures) against a reference written the plain way
(numpy selection, every row worded), the model matrix against the prepared frame, the text columns kept
as strings against the object round trip, and the contributions file against the frame it was written
from. Also: modeling does not import the explainer layer above it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import riskml.explain.explainer as ex
from riskml.config import ScoringConfig
from riskml.data.synth import SyntheticLedger
from riskml.explain import reasons as R
from riskml.features import build_features, feature_specs
from riskml.features.registry import FeatureSpec
from riskml.modeling.model import RiskModel
from riskml.scoring.score import output_columns, score_customers, scores_frame, write_outputs
from tests.scoring.tiny_model import train_tiny_model

AS_OF = pd.Timestamp("2026-09-30")


@pytest.fixture(scope="module")
def tiny_model(small_synth: SyntheticLedger) -> RiskModel:
    return train_tiny_model(small_synth)[0]


@pytest.fixture(scope="module")
def small_features(small_synth: SyntheticLedger) -> pd.DataFrame:
    return build_features(small_synth.ledger, AS_OF)


def reference_reason_codes(features: pd.DataFrame, contrib: np.ndarray, names: list[str], specs, medians,
                           n: int = 3) -> pd.DataFrame:
    """Reason codes the plain way: the numpy selection, every (slot, feature) group worded row by row
    through ``_render`` (no de-duplication), the codes joined per row."""
    perm, bounds = R._families(names, specs)
    slot_feat, slot_pos = R._select_numpy(np.asarray(contrib, dtype="float64"),
                                          R._on_side_inputs(features, names, specs, medians), perm, bounds, n)
    rows_n = len(features)
    out = {f"reason_{j + 1}": np.full(rows_n, "", dtype=object) for j in range(n)}
    columns = R._Columns(features)
    for j in range(n):
        for pos in (False, True):
            sel_slot = slot_pos[:, j] == pos
            for fi in np.unique(slot_feat[sel_slot, j]):
                if fi < 0:
                    continue
                name = names[fi]
                spec = specs.get(name) or FeatureSpec(name, "attributes", name, "", "", 0, f"{name}: {{value}}")
                sel = np.flatnonzero(sel_slot & (slot_feat[:, j] == fi))
                texts = R._render(spec, columns, sel, medians.get(name), favourable=pos)
                out[f"reason_{j + 1}"][sel] = R.POSITIVE_PREFIX + texts if pos else texts
    out["reason_1"][out["reason_1"] == ""] = R.NEUTRAL_STATEMENT
    codes = []
    for r in range(rows_n):
        codes.append(";".join(("+" if slot_pos[r, j] else "") + names[slot_feat[r, j]]
                              for j in range(n) if slot_feat[r, j] >= 0))
    out["reason_codes"] = np.array(codes, dtype=object)
    return pd.DataFrame({c: pd.Series(v, index=features.index, dtype=object) for c, v in out.items()})


@pytest.fixture(scope="module")
def scored_rows(tiny_model: RiskModel, small_features: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The small ledger's customers, three times: as they are, with figures repeated many times (the texts
    are then worded once per distinct figure), and with every figure nudged (all distinct), plus some -0.0
    figures (which read "-0", not "0") and missing ones."""
    base = small_features.reset_index(drop=True)
    rng = np.random.default_rng(3)
    nudged = base.copy()
    for f in tiny_model.feature_names_:
        v = nudged[f].to_numpy("float64")
        nudged[f] = v * rng.uniform(0.9, 1.1, len(v))
    odd = base.copy()
    for f in tiny_model.feature_names_[::3]:
        v = odd[f].to_numpy("float64").copy()
        v[rng.random(len(v)) < 0.2] = -0.0
        v[rng.random(len(v)) < 0.1] = np.nan
        odd[f] = v
    rows = pd.concat([base, base, nudged, odd], ignore_index=True)
    return rows, tiny_model.contributions(rows)


@pytest.mark.parametrize("n", [3, 5])
def test_reason_codes_equal_the_plain_reference(tiny_model: RiskModel, scored_rows, n: int) -> None:
    rows, contrib = scored_rows
    names, specs, medians = list(tiny_model.feature_names_), feature_specs(), dict(tiny_model.medians)
    got = R.reason_codes(rows, contrib, names, specs, medians, n=n)
    want = reference_reason_codes(rows, contrib, names, specs, medians, n=n)
    pd.testing.assert_frame_equal(got, want)
    # the -0.0 rows really are worded apart from the 0.0 ones somewhere (the de-duplication keys on bits)
    assert got.shape == (len(rows), n + 1)


def test_selection_kernel_equals_numpy_with_ties() -> None:
    """Random contributions from a handful of values (ties everywhere, values at the noise threshold),
    features with sides, medians, flags and missing figures: the kernel picks what numpy picks."""
    rng = np.random.default_rng(11)
    n_rows, k = 3000, 12
    c = rng.choice([-0.2, -0.01, -R.MIN_CONTRIBUTION, 0.0, R.MIN_CONTRIBUTION, 0.0005, 0.01, 0.2], size=(n_rows, k + 1))
    values = rng.choice([np.nan, -1.0, 0.0, 1.0, 2.0], size=(k, n_rows))
    check = rng.random(k) < 0.6
    side = np.where(rng.random(k) < 0.5, 1.0, -1.0) * check
    med = np.where(check, 1.0, 0.0)
    no_strength = rng.random(k) < 0.2
    fam = rng.integers(0, 4, k)
    perm = np.argsort(fam, kind="stable").astype(np.int64)
    bounds = np.searchsorted(fam[perm], np.arange(5)).astype(np.int64)
    inputs = (values, check, side, med, no_strength)
    for n in (1, 3, 6):
        a = R._select(c, inputs, perm, bounds, n)
        b = R._select_numpy(c, inputs, perm, bounds, n)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_model_matrix_equals_the_prepared_frame(tiny_model: RiskModel, scored_rows) -> None:
    rows, _ = scored_rows
    np.testing.assert_array_equal(ex.model_matrix(tiny_model, rows),
                                  ex.feature_matrix(tiny_model.prepare(rows)))
    # a column that is not a plain number goes through prepare
    texty = rows.assign(**{tiny_model.feature_names_[0]: rows[tiny_model.feature_names_[0]].astype("object")})
    np.testing.assert_array_equal(ex.model_matrix(tiny_model, texty), ex.feature_matrix(tiny_model.prepare(texty)))


def test_text_columns_kept_as_strings_equal_the_object_path(tiny_model: RiskModel, small_features) -> None:
    config = ScoringConfig(chunk_size=200, num_threads=2)
    res = score_customers(small_features, tiny_model, config, {"model_version": "t"})
    s = res.scores
    cols = {c: s[c].to_numpy(dtype=object) if s[c].dtype == "str" else s[c].to_numpy()
            for c in output_columns(config.n_reasons)[2:]}
    cols["grade"] = s["grade"].astype("str").to_numpy(dtype=object)
    again = scores_frame(small_features, cols, s["scored"].to_numpy(), s["score_error"].to_numpy(dtype=object),
                         config, {"model_version": "t"})
    pd.testing.assert_frame_equal(s, again)
    assert res.explainer in ("fast", "pred_contrib")


def test_contributions_file_equals_the_frame(tiny_model: RiskModel, small_features, tmp_path) -> None:
    res = score_customers(small_features, tiny_model, ScoringConfig(chunk_size=150), {"model_version": "t"})
    paths = write_outputs(res, tmp_path / "scores.parquet")
    back = pd.read_parquet(paths[1])
    # the as-of date, a categorical in memory, is a plain date column in the file
    want = res.contributions.assign(as_of=res.contributions["as_of"].astype("datetime64[ns]"))
    pd.testing.assert_frame_equal(back, want)
    pd.testing.assert_frame_equal(pd.read_parquet(paths[0]), res.scores)
    meta = pq.ParquetFile(paths[1]).metadata.row_group(0)
    enc = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(meta.num_columns)}
    assert all("PLAIN_DICTIONARY" in enc[c] or "RLE_DICTIONARY" in enc[c] for c in ("feature", "family"))
    assert not any("DICTIONARY" in e for e in enc["contribution"])


def test_modeling_does_not_import_the_explainer_layer() -> None:
    code = ("import sys, riskml.modeling.model, riskml.modeling.calibration; "
            "bad = sorted(m for m in sys.modules if m.startswith('riskml.explain')); "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
