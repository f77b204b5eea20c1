"""The scored book the service holds in memory, and the order-time check (pure: no clock, no database).

At startup the service reads the last batch scores (``riskml score`` output: PD, grade, limits, actions,
model version, data fingerprint) and each customer's policy inputs (:data:`POLICY_INPUTS`: exposure, open
orders, limit, days past due, ...) as of the scores' as-of date -- built from the ledger with
:func:`riskml.features.build_features`, or read from the scores file when it carries them.

:func:`check_order` decides one order exactly as the batch policy would: the customer's feature row with
the orders released since the scoring and this order added to ``exposure`` and ``open_orders_amount``, the
scored PD, and the policy's own steps (:mod:`riskml.scoring.policy`): the customer's context (grade,
persona, collections track, ...: no exposure in it) computed once for the whole book at load
(:func:`prepare_policy`), then per order only :func:`~riskml.scoring.policy.limits_and_holds`, where the
exposure enters (limit floor and cover, need with the open orders, over-limit hold, release amount). No hold:
``release``; else ``soft_hold`` or ``hard_hold`` by the policy's ``hold_type``, with the policy's
``release_amount`` (the service computes no tolerance or amount of its own). Overrides go into the policy
through :func:`~riskml.scoring.policy.limits_and_holds_overridden`, the function batch scoring calls too: a
``limit`` override is the limit the exposure is measured against and the suggested limit; an ``action``
override replaces the limit policy's revoke decision before the holds are decided (lifting a revoke lets the
past-due and over-limit holds it covered apply again); a ``hold_release`` override releases a held order when
its approver's level may release that hold and the order fits in its ``max_amount``
(:func:`~riskml.scoring.overrides.release_applies`). An override whose approver's level no longer allows it
does not apply.

A customer not in the book is a new account: no history, the new-account limit (default the scoring
config's thin-file starter limit), no PD; the same policy decides (over the limit: soft hold).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from riskml.config import ScoringConfig
from riskml.errors import RiskmlError
from riskml.scoring.actions import HOLD_CODES, review_calendar
from riskml.scoring.money import cents
from riskml.scoring.overrides import (
    ActiveOverride,
    release_applies,
    release_level,
    release_levels,
    release_text,
)
from riskml.scoring.policy import (
    POLICY_INPUTS,
    POLICY_OPTIONAL_INPUTS,
    CustomerContext,
    customer_context,
    limits_and_holds_overridden,
)

# scores columns the customer endpoint returns (when present)
CUSTOMER_COLUMNS = ("pd", "grade", "current_limit", "suggested_limit", "limit_change", "action", "limit_rationale",
                    "order_hold", "hold_reason", "hold_codes", "review_due", "review_reason", "review_priority",
                    "persona", "reason_codes", "hold_type", "release_amount", "approval_level", "treatment",
                    "expected_loss", "next_review", "scored")
_EXTRA_INPUTS = POLICY_OPTIONAL_INPUTS
# optional inputs the policy compares as text (segments of the money rules, adverse-action countries)
TEXT_INPUTS = frozenset({"country", "industry"})


def _clean(v: Any) -> Any:
    """JSON-ready scalar: NaN -> None, numpy -> Python, timestamps -> ISO date."""
    if v is None:
        return None
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        return None if pd.isna(v) else str(pd.Timestamp(v).date())
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not math.isfinite(float(v)) else float(v)
    return v


@dataclass
class Book:
    """The last batch scoring, as the service uses it."""

    as_of: pd.Timestamp
    model_version: str
    data_fingerprint: str
    currency: str
    fx_rates: dict[str, float]
    config: ScoringConfig
    new_account_limit: float
    scores: dict[str, dict[str, Any]] = field(repr=False)
    inputs: dict[str, dict[str, Any]] = field(repr=False)
    n_reasons: int = 3
    level_cache: dict[tuple[str, float, str], str] = field(default_factory=dict, repr=False)
    # the policy's view of the book, built once (:func:`prepare_policy`): one row per known customer and a last
    # row for a new account, their positions, and each row's context (grade, persona, ...: no exposure in it)
    frame: pd.DataFrame | None = field(default=None, repr=False)
    positions: dict[str, int] = field(default_factory=dict, repr=False)
    context: CustomerContext | None = field(default=None, repr=False)
    # the same rows as numpy columns (what a check hands the limit and hold rules, :class:`Rows`), each row's
    # routine-review flag at its exposure at the scoring, and whether that flag stands at any higher exposure
    columns: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    at_review: np.ndarray | None = field(default=None, repr=False)
    review_fixed: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.scores)

    def to_base(self, amount: float, currency: str) -> float | None:
        """``amount`` in the book's currency, or None when the currency is unknown."""
        if currency == self.currency:
            return amount
        rate = self.fx_rates.get(currency)
        return None if rate is None else amount * rate

    def customer(self, customer_id: str) -> dict[str, Any] | None:
        row = self.scores.get(customer_id)
        if row is None:
            return None
        out = {c: _clean(row[c]) for c in CUSTOMER_COLUMNS if c in row}
        out["reasons"] = [row[f"reason_{j + 1}"] for j in range(self.n_reasons)
                          if row.get(f"reason_{j + 1}") not in (None, "") and not pd.isna(row.get(f"reason_{j + 1}"))]
        inp = self.inputs.get(customer_id, {})
        out["exposure_at_scoring"] = _clean(inp.get("exposure"))
        return out


def build_book(scores: pd.DataFrame, inputs: pd.DataFrame, config: ScoringConfig, currency: str = "EUR",
               fx_rates: dict[str, float] | None = None, new_account_limit: float | None = None) -> Book:
    """A :class:`Book` from a scores frame and a frame of policy inputs (one row per customer, with
    ``customer_id`` and :data:`POLICY_INPUTS`; e.g. ``build_features`` as of the scores' as-of)."""
    if not len(scores):
        raise RiskmlError("--scores: the scores file has no rows")
    need = {"customer_id", "as_of", "pd"}
    if missing := sorted(need - set(scores.columns)):
        raise RiskmlError(f"--scores: not a riskml scores file (missing columns {missing})")
    dates = pd.to_datetime(scores["as_of"]).dt.normalize().unique()
    if len(dates) != 1:
        raise RiskmlError(f"--scores: one as-of date expected; the file holds {len(dates)}")
    if missing := sorted(set(POLICY_INPUTS) - set(inputs.columns)):
        raise RiskmlError(f"the policy inputs lack columns {missing}")
    # numeric inputs; the as-of date is the book's (the policy's review calendar reads it)
    cols = [c for c in dict.fromkeys((*POLICY_INPUTS, *_EXTRA_INPUTS)) if c in inputs.columns and c != "as_of"]
    num = [c for c in cols if c not in TEXT_INPUTS]
    txt = [c for c in cols if c in TEXT_INPUTS]
    ids = inputs["customer_id"].astype(str).to_numpy()
    values = inputs[num].apply(pd.to_numeric, errors="coerce").to_numpy("float64")
    texts = inputs[txt].astype(object).where(inputs[txt].notna(), None).to_numpy(dtype=object)
    input_map = {cid: {**dict(zip(num, row.tolist(), strict=True)), **dict(zip(txt, trow.tolist(), strict=True))}
                 for cid, row, trow in zip(ids, values, texts, strict=True)}
    sc = scores.copy()
    sc["customer_id"] = sc["customer_id"].astype(str)
    score_map = {r["customer_id"]: r for r in sc.to_dict("records")}
    first = sc.iloc[0]
    n_reasons = sum(1 for c in sc.columns if c.startswith("reason_") and c[7:].isdigit())
    book = Book(
        as_of=pd.Timestamp(dates[0]), model_version=str(first.get("model_version", "") or ""),
        data_fingerprint=str(first.get("data_fingerprint", "") or ""), currency=currency.upper(),
        fx_rates={k.upper(): float(v) for k, v in (fx_rates or {}).items()}, config=config,
        new_account_limit=float(config.limits.thin_file_starter_limit if new_account_limit is None
                                else new_account_limit),
        scores=score_map, inputs=input_map, n_reasons=n_reasons,
    )
    prepare_policy(book)
    return book


def prepare_policy(book: Book) -> None:
    """The book's policy frame and :class:`~riskml.scoring.policy.CustomerContext`, computed once for all
    customers by :func:`~riskml.scoring.policy.customer_context` (the first step of ``apply_policy``); a check
    then re-decides only :func:`~riskml.scoring.policy.limits_and_holds` with its order's exposure."""
    ids = [c for c in book.inputs if c in book.scores]
    rows = [book.inputs[c] for c in ids]
    new_row, _, _ = policy_row(book, "")
    rows.append(new_row)
    cols = list(dict.fromkeys(c for r in rows for c in r))
    n = len(rows)
    # texts stay Python objects (not pandas' Arrow strings, whose take costs more than the rest of the row)
    frame = pd.DataFrame({
        "customer_id": pd.Series(np.array([*ids, ""], dtype=object), dtype=object),
        "as_of": np.full(n, book.as_of.to_datetime64(), dtype="datetime64[ns]"),
        **{c: pd.Series(np.array([r.get(c) for r in rows], dtype=object), dtype=object) if c in TEXT_INPUTS else
           np.array([r.get(c, math.nan) for r in rows], dtype="float64") for c in cols}})
    pds = np.array([_pd_of(book.scores[c]) for c in ids] + [math.nan], dtype="float64")
    book.frame = frame
    book.positions = {c: i for i, c in enumerate(ids)}
    book.context = customer_context(frame, pds, book.config)
    book.columns = {}
    for c in frame.columns:
        arr = (frame[c].to_numpy("float64", copy=True) if frame[c].dtype == "float64"
               else frame[c].to_numpy(copy=True) if c == "as_of" else frame[c].to_numpy(dtype=object, copy=True))
        arr.flags.writeable = False
        book.columns[c] = arr
    # the review calendar reads the exposure (a small account is renewed automatically): a check's exposure is the
    # one at the scoring plus orders, so where the calendar gives the same flag at the scoring's exposure and at an
    # unbounded one, that flag is the check's too; the other rows (and new accounts, whose slot is their own id's,
    # and limit overrides) run the calendar per check
    book.at_review = review_calendar(frame, book.context.grades, book.config.actions)[0]
    high = frame.assign(exposure=np.inf)
    book.review_fixed = book.at_review == review_calendar(high, book.context.grades, book.config.actions)[0]
    book.review_fixed[-1] = False
    # the release level of no hold, a soft and a hard hold of every customer at its own limit, in one call each (a
    # check looks it up; a limit override or an unseen combination is computed and cached on first use)
    lim = np.nan_to_num(frame["credit_limit"].to_numpy("float64"), nan=0.0)
    grades = [str(g or "") for g in book.context.grades]
    for hold in ("none", "soft", "hard"):
        levels = release_levels(np.full(n, hold, dtype=object), lim, np.array(grades, dtype=object), book.config)
        book.level_cache.update({(hold, float(v), g): str(lv) for v, g, lv in zip(lim, grades, levels, strict=True)})


def _pd_of(score: dict[str, Any]) -> float:
    v = score.get("pd")
    return float(v) if v is not None and not pd.isna(v) else math.nan


def load_book(scores_path: Path, data: Path | None, config: ScoringConfig, data_config: Path | None = None,
              currency: str | None = None, new_account_limit: float | None = None,
              features_config: Path | None = None,
              read_ledger: Callable[[Path, Path | None], Any] | None = None) -> Book:
    """Read the scores file and the policy inputs (from ``data`` as of the scores' as-of, else from the
    scores file itself). ``read_ledger(data, data_config)`` loads and validates the ledger (default
    :func:`riskml.data.validate.load_ledger`; the CLI passes its own, which prints the summary)."""
    from riskml.io import read_table

    if not Path(scores_path).exists():
        raise RiskmlError(f"--scores: file not found: {scores_path}")
    scores = read_table(scores_path)
    if "as_of" not in scores.columns or not len(scores):
        raise RiskmlError(f"--scores: {scores_path} is not a riskml scores file (no as_of column or no rows)")
    fx: dict[str, float] = {}
    base = currency
    if data is not None:
        from riskml.config import load_config
        from riskml.data.validate import load_ledger, resolve_data_config
        from riskml.features import build_features

        as_of = pd.to_datetime(scores["as_of"]).max().normalize()
        cfg = resolve_data_config(data, data_config)
        ledger = read_ledger(data, data_config) if read_ledger is not None else load_ledger(data, cfg)[0]
        inputs = build_features(ledger, as_of, load_config("features", features_config))
        fx = dict(cfg.fx_rates)
        base = base or cfg.base_currency
    elif set(POLICY_INPUTS) <= set(scores.columns):
        inputs = scores
    else:
        raise RiskmlError("--data is needed: the scores file does not carry the policy inputs (exposure, open "
                          "orders, limit, days past due); give the ledger the scores were made from")
    return build_book(scores, inputs, config, currency=base or "EUR", fx_rates=fx,
                      new_account_limit=new_account_limit)


# an active override as the check uses it (the policy's own type: the service and the batch apply the same)
OverrideView = ActiveOverride


def policy_row(book: Book, customer_id: str, limit_override: float | None = None) -> tuple[dict[str, Any], float, bool]:
    """(the customer's policy inputs as of the scoring, the scored PD, known customer)."""
    row = book.inputs.get(customer_id)
    sc = book.scores.get(customer_id)
    if row is None or sc is None:
        base = {c: math.nan for c in POLICY_INPUTS if c != "as_of"}
        base.update({"credit_limit": book.new_account_limit, "exposure": 0.0, "open_orders_amount": 0.0,
                     "no_payment_history": 1.0, "invoices_total": 0.0, "tenure_months": 0.0})
        p, known = math.nan, False
    else:
        base = dict(row)
        p = float(sc["pd"]) if sc.get("pd") is not None and not pd.isna(sc.get("pd")) else math.nan
        known = True
    if limit_override is not None:
        base["credit_limit"] = float(limit_override)
    return base, p, known


@dataclass(frozen=True)
class OrderInput:
    """One order to decide: ``amount`` in the book currency, ``released_since`` the orders released since
    the scoring, ``overrides`` the customer's active overrides."""

    customer_id: str
    amount: float
    released_since: float = 0.0
    overrides: tuple[OverrideView, ...] = ()


def check_order(book: Book, customer_id: str, amount: float, released_since: float,
                overrides: list[OverrideView] | None = None) -> dict[str, Any]:
    """The decision on one order of ``amount`` (book currency) for ``customer_id``, with ``released_since``
    of orders released since the scoring already counted, and the customer's active ``overrides``."""
    return check_orders(book, [OrderInput(customer_id, amount, released_since, tuple(overrides or ()))])[0]


def _release_level_cached(book: Book, hold_type: str, limit: float, grade: str) -> str:
    key = (hold_type, limit, grade)
    if (level := book.level_cache.get(key)) is None:
        level = book.level_cache[key] = release_level(hold_type, limit, grade, book.config)
    return level


def check_orders(book: Book, orders: list[OrderInput], reference: bool = False) -> list[dict[str, Any]]:
    """:func:`check_order` for many orders at once. Each order's row is the customer's policy row (the
    new-account row for a customer not in the book) with the orders released since the scoring and this order
    added to ``exposure`` and ``open_orders_amount`` and a ``limit`` override as ``credit_limit``; its
    context (grade, persona, collections track, ...) is the one :func:`prepare_policy` computed, and the
    exposure-dependent rules run through :func:`~riskml.scoring.policy.limits_and_holds` -- the functions
    ``apply_policy`` itself calls, on all the orders' rows at once (each row is decided from its own inputs,
    so a batch decides each order as it would alone); the orders' overrides go in through
    :func:`~riskml.scoring.policy.limits_and_holds_overridden`, as in the batch.

    The rules run on the rows as numpy columns (:class:`Rows`) with each row's routine-review flag from the
    load (:func:`prepare_policy`; the calendar runs per check only where the order's exposure can move it, and
    at the limit in force where a ``limit`` override applies). ``reference``: the same rules on a pandas frame of
    the rows, with the calendar run for every row -- the form ``apply_policy`` gives them, against which the
    tests hold the fast form."""
    if not orders:
        return []
    if book.frame is None or book.context is None:
        prepare_policy(book)
    assert book.frame is not None and book.context is not None
    assert book.at_review is not None and book.review_fixed is not None
    cfg = book.config
    n = len(orders)
    new_row = len(book.frame) - 1
    idx = np.array([book.positions.get(o.customer_id, new_row) for o in orders], dtype=np.int64)
    cols = {c: v[idx] for c, v in book.columns.items()}
    new = idx == new_row
    if new.any():  # a new account's row carries its own id, as the batch would
        cols["customer_id"] = np.array([o.customer_id for o in orders], dtype=object)
    since = np.array([o.released_since for o in orders], dtype="float64")
    amount = np.array([o.amount for o in orders], dtype="float64")
    exp0 = np.nan_to_num(cols["exposure"], nan=0.0) + since
    cols["exposure"] = exp0 + amount
    cols["open_orders_amount"] = np.nan_to_num(cols["open_orders_amount"], nan=0.0) + since + amount
    ovs = [{v.kind: v for v in o.overrides} for o in orders]
    part = Rows(cols, n)
    ctx = book.context.take(idx)
    at_review = book.at_review[idx]
    if reference:
        frame = part.to_frame()
        at_review = review_calendar(frame, ctx.grades, cfg.actions)[0]
    else:
        slow = ~book.review_fixed[idx]
        if slow.any():
            rows = np.flatnonzero(slow)
            at_review = at_review.copy()
            at_review[rows] = review_calendar(part.iloc[rows].to_frame(), ctx.grades[rows], cfg.actions)[0]
        frame = cast(pd.DataFrame, part)  # the rule functions read a frame's columns; Rows gives them as numpy
    dec = limits_and_holds_overridden(frame, ctx, cfg, ovs, at_review)
    limits, holds, lim = dec.limits, dec.holds, dec.limit
    known = idx != new_row
    suggested = cents(limits["suggested_limit"].to_numpy("float64"))
    action = limits["action"].to_numpy(dtype=object)
    hold_codes = holds["hold_codes"].to_numpy(dtype=object)
    hold_reason = holds["hold_reason"].to_numpy(dtype=object)
    hold_type = holds["hold_type"].to_numpy(dtype=object)
    release = holds["release_amount"].to_numpy("float64")
    return [_finish(book, o, ov, {"hold_codes": hold_codes[k], "hold_reason": hold_reason[k],
                                  "hold_type": hold_type[k], "release_amount": release[k],
                                  "grade": ctx.grades[k], "persona": ctx.personas[k],
                                  "suggested_limit": suggested[k], "action": action[k]},
                    float(lim[k]), float(ctx.p[k]), bool(known[k]), float(exp0[k]), [v.id for v in dec.applied[k]])
            for k, (o, ov) in enumerate(zip(orders, ovs, strict=True))]


class Rows:
    """A few rows as numpy columns, standing in for a pandas frame where the limit and hold rules of a check
    run: :func:`~riskml.scoring.limits.suggest_limits`, :func:`~riskml.scoring.actions.order_holds`,
    :func:`~riskml.scoring.limits.freeze_limits` and :func:`~riskml.scoring.policy.limits_and_holds` use a frame
    only through ``len``, ``col in``, ``.columns``, ``[col]`` (``.to_numpy``, ``.dtype``, ``.astype``; a float64
    input column is read as it is), ``[col] = values``, ``.copy()``, ``.index`` (their result tables are built
    on it: Rows again) and ``.iloc[rows].reset_index(drop=True)``. That gives the rules' own code without
    pandas' cost per call on a one-row frame (a check decides one to a few rows).
    ``tests/serving/test_parity.py`` holds the check to ``apply_policy`` on the same rows."""

    def __init__(self, columns: dict[str, np.ndarray], n: int):
        self._cols = columns
        self._n = n

    @property
    def columns(self) -> list[str]:
        return list(self._cols)

    def __len__(self) -> int:
        return self._n

    def __contains__(self, col: object) -> bool:
        return col in self._cols

    def __getitem__(self, col: str) -> _Column:
        return self._cols[col].view(_Column)

    def __setitem__(self, col: str, values: Any) -> None:
        arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
        if arr.shape != (self._n,):
            raise ValueError(f"Rows: column {col!r} needs {self._n} values, got shape {arr.shape}")
        self._cols[col] = arr.view(np.ndarray)

    def copy(self) -> Rows:
        return Rows(dict(self._cols), self._n)

    @property
    def index(self) -> _RowsIndex:
        return _RowsIndex(self._n)

    @property
    def iloc(self) -> _RowsAt:
        return _RowsAt(self)

    def take(self, rows: np.ndarray) -> Rows:
        rows = np.asarray(rows, dtype=np.int64)
        return Rows({c: v[rows] for c, v in self._cols.items()}, len(rows))

    def reset_index(self, drop: bool = True) -> Rows:
        assert drop, "Rows have no index to keep"
        return self

    def to_frame(self) -> pd.DataFrame:
        """The rows as a pandas frame (the form ``apply_policy`` takes; texts stay Python objects)."""
        return pd.DataFrame({c: pd.Series(v, dtype=object) if v.dtype == object else v for c, v in self._cols.items()})


class _Column(np.ndarray):
    """A column of :class:`Rows` as the rules read a pandas column: ``to_numpy`` gives a copy."""

    def to_numpy(self, dtype: Any = None, copy: bool = True) -> np.ndarray:
        return np.array(self, dtype=dtype, copy=True, subok=False)


class _RowsIndex:
    """The positions of :class:`Rows` (an array-like, so a ``pd.Series`` can be built on it); the rule modules'
    result tables are made by :meth:`frame_of`."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Any:
        return iter(range(self.n))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.arange(self.n, dtype=dtype or np.int64)

    def frame_of(self, cols: dict[str, np.ndarray]) -> Rows:
        return Rows({c: np.asarray(v) for c, v in cols.items()}, self.n)


class _RowsAt:
    def __init__(self, rows: Rows):
        self._rows = rows

    def __getitem__(self, rows: np.ndarray) -> Rows:
        return self._rows.take(rows)


def _finish(book: Book, o: OrderInput, ovs: dict[str, OverrideView], dec: dict[str, Any], limit: float, p: float,
            known: bool, exp0: float, applied: list[int]) -> dict[str, Any]:
    """The response for one order from its policy decision, its overrides and the ids of the ``limit`` and
    ``action`` overrides that applied."""
    cfg = book.config
    amount = o.amount
    codes = [c for c in str(dec["hold_codes"]).split(";") if c]
    texts = [t for t in str(dec["hold_reason"]).split("; ") if t]
    applied = list(applied)
    grade = str(dec["grade"] or "")
    hold_type = str(dec["hold_type"]) if codes else "none"
    release_amount = float(np.nan_to_num(dec["release_amount"], nan=0.0))
    needed = _release_level_cached(book, hold_type, limit if math.isfinite(limit) else 0.0, grade)
    decision = "release" if hold_type == "none" else f"{hold_type}_hold"
    released_by: int | None = None
    rel_ov = ovs.get("hold_release")
    if rel_ov is not None and decision != "release" and release_applies(rel_ov, needed, amount, cfg.approvals):
        decision, released_by = "release", rel_ov.id
        applied.append(rel_ov.id)
        texts.append(release_text(rel_ov))
    reason_codes = list(codes) + ([] if known else ["new_account"])
    if not known:
        texts.append(f"new account: no history; new-account limit {book.new_account_limit:,.0f}")
    headroom = limit - (exp0 + amount) if math.isfinite(limit) else None
    return {
        "decision": decision, "released": decision == "release", "customer_id": o.customer_id,
        "known_customer": known, "reason_codes": reason_codes, "reasons": texts,
        "reason_texts": {c: HOLD_CODES.get(c, "") for c in codes},
        "hold_type": hold_type, "exposure_before": exp0, "exposure_after": exp0 + amount,
        "limit": _clean(limit), "headroom": _clean(headroom), "grade": grade or None, "pd": _clean(p),
        "persona": str(dec["persona"]) or None, "suggested_limit": _clean(dec["suggested_limit"]),
        "action": str(dec["action"]), "approval_level": needed or None,
        "release_amount": _clean(release_amount) if hold_type != "none" else 0.0,
        "overrides_applied": applied, "released_by_override": released_by,
        "as_of": str(book.as_of.date()), "model_version": book.model_version,
        "data_fingerprint": book.data_fingerprint, "currency": book.currency,
    }
