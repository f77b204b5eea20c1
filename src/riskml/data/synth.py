"""The demo-ledger generator: a realistic accounts-receivable ledger driven by customer personas.

Each customer gets a persona (prompt payer, strong but stretching terms, slowly deteriorating,
distressed ending in default, disorganised/disputing, new with a thin history) whose parameters drive
its sales, payment delays, partial payments, disputes, credit notes and deductions over time. Customers
heading for a default show it first: a "stress ramp" raises their days beyond terms, their share of
partial payments and their disputes and lowers their sales over the months before the default date;
after it they stop paying, their invoices go 90+ days past due and some are written off. A small rate of
sudden defaults among good customers, with little or no warning, keeps the problem from being trivially
separable. ``docs/synthetic-ledger.md`` describes the personas, their parameters and the limitations.

Everything is vectorised with numpy: draws are made per customer, per customer-month and per invoice,
never in a Python loop over invoices, so 100,000 customers x 36 months (8.6 million invoices, 8.5
million payments, 8.9 million orders) take a minute or two. The output depends only on the arguments:
the same seed gives identical tables.

All internal dates are integer day numbers (days since 1970-01-01) and all amounts integer cents; they
become ``datetime64[ns]`` and ``float64`` euros only when the frames are assembled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskml.data.contract import ADJUSTMENT_KINDS, TABLES
from riskml.data.ledger import Ledger
from riskml.data.writer import LedgerFormat, write_ledger
from riskml.errors import ConfigError
from riskml.io import write_table

DEFAULT_END = "2026-09-30"
# where a generated directory keeps the truth: outside the table names, so the validator ignores it
TRUTH_PATH = Path("_truth") / "personas.csv"
CURRENCY = "EUR"
DAYS_PER_MONTH = 365.25 / 12
DAYS_PER_YEAR = 365.25


# ------------------------------------------------------------------------------------------- personas
@dataclass(frozen=True)
class StressRamp:
    """How a customer deteriorates before its default date (or, for ``drift_share``, without one).

    The ramp goes from 0 to 1 over ``months`` before the default date (convex: the worst comes last);
    at ramp level r the customer pays ``dbt_amp * r`` days later, partially pays with probability
    raised by ``partial_amp * r``, disputes more (``dispute_amp * r``) and buys ``sales_drop * r`` less.
    """

    default_share: float  # share of the persona that defaults
    default_after_start_months: float  # earliest default, months after the window start
    default_after_end_months: float  # latest scheduled default, months after the end date
    months: tuple[float, float]  # length of the ramp before the default
    dbt_amp: tuple[float, float]
    partial_amp: float
    dispute_amp: float
    sales_drop: tuple[float, float]
    noise_amp: float  # the payment-delay noise grows by this factor at full stress
    drift_months: tuple[float, float] = (12.0, 30.0)  # ramp length of those that do not default
    drift_recover_months: tuple[float, float] = (6.0, 18.0)  # after which they recover over this long
    drift_scale: float = 0.5  # their amplitudes relative to the defaulters'


@dataclass(frozen=True)
class Persona:
    """The behaviour parameters of one persona (ranges are uniform draws per customer)."""

    name: str
    share: float
    description: str
    size_log_shift: float  # log shift of the lognormal monthly sales (large customers > 0)
    terms_probs: tuple[float, float, float]  # probabilities of net 30 / 45 / 60
    dbt_base: tuple[float, float]  # days beyond terms when not stressed (negative = early)
    dbt_sd: float  # per-invoice noise of the payment delay (days)
    late_spike: tuple[float, float]  # (probability, mean days) of an occasional extra delay
    partial_prob: float  # share of invoices settled in 2-3 pieces
    dispute_prob: tuple[float, float]
    credit_note_prob: float
    deduction_prob: float
    unapplied_prob: float  # probability of a payment on account per customer-month
    sudden_hazard: float  # annual hazard of a sudden, barely signalled default
    ramp: StressRamp | None = None


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "prompt", 0.43, "pays on or before the due date, an occasional small delay",
        size_log_shift=0.0, terms_probs=(0.55, 0.25, 0.20), dbt_base=(-5.0, 0.0), dbt_sd=1.0,
        late_spike=(0.10, 6.0), partial_prob=0.02, dispute_prob=(0.003, 0.01), credit_note_prob=0.01,
        deduction_prob=0.005, unapplied_prob=0.01, sudden_hazard=0.004,
    ),
    Persona(
        "stretcher", 0.14, "large and financially strong, pays 15-45 days beyond terms, steadily",
        size_log_shift=1.2, terms_probs=(0.30, 0.30, 0.40), dbt_base=(15.0, 45.0), dbt_sd=5.0,
        late_spike=(0.04, 8.0), partial_prob=0.03, dispute_prob=(0.01, 0.02), credit_note_prob=0.015,
        deduction_prob=0.01, unapplied_prob=0.02, sudden_hazard=0.003,
    ),
    Persona(
        "deteriorating", 0.12, "DBT trends up over many months, more partial payments, falling sales",
        size_log_shift=0.0, terms_probs=(0.55, 0.25, 0.20), dbt_base=(0.0, 12.0), dbt_sd=4.0,
        late_spike=(0.08, 10.0), partial_prob=0.04, dispute_prob=(0.01, 0.03), credit_note_prob=0.02,
        deduction_prob=0.01, unapplied_prob=0.02, sudden_hazard=0.0,
        ramp=StressRamp(
            default_share=0.45, default_after_start_months=3, default_after_end_months=12,
            months=(12.0, 24.0), dbt_amp=(25.0, 55.0), partial_amp=0.35, dispute_amp=0.04,
            sales_drop=(0.3, 0.6), noise_amp=1.5,
        ),
    ),
    Persona(
        "distressed", 0.09, "DBT rises over 6-12 months, short payments, sales drop, then default",
        size_log_shift=-0.2, terms_probs=(0.55, 0.25, 0.20), dbt_base=(0.0, 20.0), dbt_sd=5.0,
        late_spike=(0.10, 12.0), partial_prob=0.05, dispute_prob=(0.01, 0.03), credit_note_prob=0.03,
        deduction_prob=0.01, unapplied_prob=0.02, sudden_hazard=0.0,
        ramp=StressRamp(
            default_share=1.0, default_after_start_months=3, default_after_end_months=6,
            months=(6.0, 12.0), dbt_amp=(30.0, 75.0), partial_amp=0.5, dispute_amp=0.08,
            sales_drop=(0.4, 0.8), noise_amp=2.0,
        ),
    ),
    Persona(
        "disputing", 0.12, "disorganised: many disputes, deductions and credit notes; money is not the problem",
        size_log_shift=0.2, terms_probs=(0.50, 0.30, 0.20), dbt_base=(3.0, 18.0), dbt_sd=7.0,
        late_spike=(0.10, 12.0), partial_prob=0.12, dispute_prob=(0.08, 0.22), credit_note_prob=0.06,
        deduction_prob=0.08, unapplied_prob=0.05, sudden_hazard=0.006,
    ),
    Persona(
        "new", 0.10, "onboarded in the last months before the end: a thin history",
        size_log_shift=-0.3, terms_probs=(0.60, 0.25, 0.15), dbt_base=(-4.0, 20.0), dbt_sd=4.0,
        late_spike=(0.08, 10.0), partial_prob=0.03, dispute_prob=(0.01, 0.03), credit_note_prob=0.015,
        deduction_prob=0.01, unapplied_prob=0.02, sudden_hazard=0.03,
    ),
)
PERSONA_NAMES: tuple[str, ...] = tuple(p.name for p in PERSONAS)

# persona mixes by name: shares of customers, plus "downturn", the share of the scheduled defaults of the
# deteriorating and distressed customers moved into the 12 months after the end (their stress ramp ending
# there, so it shows in the ledger). "demo" is the shares above; "harsh" a book with more weak, distressed
# and disorganised customers and a downturn (about 10% of the customers alive at the end default in the
# following year), for judging decisions on a ledger the defaults were not tuned on
MIXES: dict[str, dict[str, float]] = {
    "demo": {**{p.name: p.share for p in PERSONAS}, "downturn": 0.0},
    "harsh": {"prompt": 0.24, "stretcher": 0.16, "deteriorating": 0.20, "distressed": 0.12, "disputing": 0.18,
              "new": 0.10, "downturn": 0.35},
}

# customers that are not "new": share onboarded before the window (their ledger starts at its start)
PRE_WINDOW_SHARE = 0.65
PRE_WINDOW_TENURE_DAYS = (30, 3650)
NEW_MONTHS = 6  # "new" customers are onboarded within this many months before the end
MEDIAN_MONTHLY_SALES = 15_000.0
SALES_LOG_SD = 1.1
INVOICES_PER_MONTH = 3.0  # for a customer of median size; grows with size to the power 0.25
INVOICE_AMOUNT_LOG_SD = 0.6
MIN_INVOICE_CENTS = 5_000
GROWTH_SD = 0.08  # per year, log scale
# sudden defaults: a short, weak warning at most
SUDDEN_RAMP_DAYS = (0, 60)
SUDDEN_DBT_AMP = (0.0, 15.0)
SUDDEN_PARTIAL_AMP = 0.15
SUDDEN_SALES_DROP = (0.0, 0.15)
# after the default: orders are held for a while, then cancelled; some debts are written off
HOLD_DAYS = 45
WRITE_OFF_SHARE = 0.7
WRITE_OFF_LAG_DAYS = (120, 240)
# disputes
DISPUTE_CREDIT_SHARE = 0.5  # disputes resolved by a credit note (the rest are paid late)
DISPUTE_FULL_CREDIT_SHARE = 0.4
DISPUTE_LAG_TAIL = (0.025, 60, 180)  # (probability, min, max) of a dispute dragging on
CREDIT_NOTE_FULL_SHARE = 0.3
# credit limits
LIMIT_GRACE_DAYS = 15
LIMIT_NOISE_SD = 0.4
LIMIT_ROUND = 1000.0
REVIEWED_SHARE = 0.3
NO_LIMIT_SHARE = 0.03
CANCELLED_ORDER_SHARE = 0.02

INDUSTRIES: tuple[tuple[str, int, float], ...] = (
    # (industry, peak month, seasonal amplitude)
    ("manufacturing", 3, 0.10),
    ("wholesale", 10, 0.15),
    ("construction", 6, 0.30),
    ("retail", 11, 0.35),
    ("transport", 9, 0.10),
    ("food and beverage", 7, 0.20),
    ("chemicals", 4, 0.08),
    ("business services", 1, 0.05),
)
INDUSTRY_WEIGHTS = (0.22, 0.18, 0.12, 0.12, 0.10, 0.10, 0.06, 0.10)
AUGUST_DIP = 0.12  # European summer holidays
COUNTRIES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("DE", 0.28, ("GmbH", "AG", "GmbH & Co. KG")),
    ("FR", 0.18, ("SAS", "SARL", "SA")),
    ("NL", 0.10, ("B.V.",)),
    ("BE", 0.06, ("NV", "BV")),
    ("IT", 0.12, ("S.r.l.", "S.p.A.")),
    ("ES", 0.10, ("S.L.", "S.A.")),
    ("AT", 0.06, ("GmbH",)),
    ("PL", 0.10, ("Sp. z o.o.", "S.A.")),
)
NAME_STEMS = (
    "Nord", "Sud", "Alpen", "Rhein", "Atlas", "Vega", "Orion", "Delta", "Baltic", "Adria", "Iber",
    "Lumen", "Ferro", "Agri", "Terra", "Aqua", "Helio", "Nova", "Castel", "Monte", "Vall", "Flor",
    "Brix", "Kron", "Lind", "Mar", "Sol", "Stein", "Berg", "Wald",
)
NAME_ENDINGS = (
    "tech", "tex", "form", "plast", "metal", "log", "chem", "food", "bau", "trans", "print", "pack",
    "tron", "med", "line", "werk", "star", "port", "fin", "core",
)


@dataclass(frozen=True)
class SyntheticLedger:
    """A generated ledger and the truth behind it (persona and default date per customer)."""

    ledger: Ledger
    # customer_id, persona, default_date (NaT = no default up to the end date), scheduled_default_date
    # (also when after the end: the future the decisions are judged against), stress_at_end (0-1)
    truth: pd.DataFrame


# ------------------------------------------------------------------------------------------- calendar
@dataclass(frozen=True)
class _Calendar:
    """The data window as day numbers: ``month_starts`` has months + 2 entries (one month past the
    end's month, for orders still open at the end, and the boundary after it)."""

    start: int
    end: int
    month_starts: np.ndarray
    month_of_year: np.ndarray  # 1..12 for each of the months + 1 months

    @classmethod
    def build(cls, end: pd.Timestamp, months: int) -> _Calendar:
        first = pd.Timestamp(year=end.year, month=end.month, day=1) - pd.DateOffset(months=months - 1)
        starts = pd.date_range(first, periods=months + 2, freq="MS")
        days = starts.values.astype("datetime64[D]").astype(np.int64)
        return cls(
            start=int(days[0]),
            end=_day(end),
            month_starts=days,
            month_of_year=starts.month.to_numpy()[:-1].astype(np.int64),
        )


def _day(ts: pd.Timestamp) -> int:
    return int(np.datetime64(ts.date(), "D").astype(np.int64))


def _dates(days: np.ndarray) -> np.ndarray:
    """Day numbers to ``datetime64[ns]``; :data:`NO_DATE` becomes NaT."""
    missing = days == NO_DATE
    out = np.where(missing, 0, days).astype("datetime64[D]").astype("datetime64[ns]")
    out[missing] = np.datetime64("NaT")
    return out


# ---------------------------------------------------------------------------------------- arguments
def _check_args(n_customers: int, months: int, seed: int, end: object) -> pd.Timestamp:
    if int(n_customers) < 1:
        raise ConfigError(f"customers must be >= 1; got {n_customers}")
    if not 1 <= int(months) <= 600:
        raise ConfigError(f"months must be between 1 and 600; got {months}")
    if int(seed) < 0:
        raise ConfigError(f"seed must be >= 0; got {seed}")
    try:
        ts = pd.Timestamp(end)
    except (ValueError, TypeError):
        raise ConfigError(f"end must be a date like 2026-09-30; got {end!r}") from None
    if ts is pd.NaT or pd.isna(ts):
        raise ConfigError(f"end must be a date like 2026-09-30; got {end!r}")
    if ts.tz is not None:
        ts = ts.tz_localize(None)
    if not 1900 <= ts.year <= 2200:
        raise ConfigError(f"end must be between 1900-01-01 and 2200-12-31; got {ts.date()}")
    return ts.normalize()


# ------------------------------------------------------------------------------------------ customers
@dataclass
class _Customers:
    """Per-customer latent parameters, one array entry per customer."""

    persona: np.ndarray
    onboard: np.ndarray
    start: np.ndarray  # first day of the ledger (onboarding or the window start)
    default: np.ndarray  # scheduled default day; a huge number when there is none
    stop: np.ndarray  # last day on which slots (orders) are generated
    terms: np.ndarray
    size: np.ndarray  # expected monthly sales (EUR)
    rate: np.ndarray  # expected invoices per month
    growth: np.ndarray  # per year, log scale
    industry: np.ndarray
    country: np.ndarray
    r0: np.ndarray  # ramp start and end days
    r1: np.ndarray
    recover: np.ndarray  # days over which the stress fades after r1 (for those that do not default)
    dbt_base: np.ndarray
    dbt_amp: np.ndarray
    dbt_sd: np.ndarray
    noise_amp: np.ndarray
    spike_prob: np.ndarray
    spike_mean: np.ndarray
    partial_prob: np.ndarray
    partial_amp: np.ndarray
    dispute_prob: np.ndarray
    dispute_amp: np.ndarray
    sales_drop: np.ndarray
    credit_note_prob: np.ndarray
    deduction_prob: np.ndarray
    unapplied_prob: np.ndarray
    writes_off: np.ndarray
    write_off_lag: np.ndarray

    @property
    def n(self) -> int:
        return len(self.persona)

    def ramp(self, idx: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Stress level in [0, 1] of customers ``idx`` on days ``day``: rises (convex in time) from
        r0 to r1, then fades linearly over ``recover`` days."""
        r0, r1 = self.r0[idx], self.r1[idx]
        up = np.clip((day - r0) / (r1 - r0), 0.0, 1.0) ** 1.5
        return up * np.clip(1.0 - np.maximum(day - r1, 0.0) / self.recover[idx], 0.0, 1.0)

    def sales_multiplier(self, idx: np.ndarray, day: np.ndarray, end: int) -> np.ndarray:
        """Sales level relative to the customer's size: growth trend times the stress drop."""
        trend = np.exp(self.growth[idx] * (day - end) / DAYS_PER_YEAR)
        return trend * (1.0 - self.sales_drop[idx] * self.ramp(idx, day))


NO_DAY = 10**7  # a day number far beyond any window: "never" (for defaults and ramps)
NO_DATE = np.iinfo(np.int64).min  # a missing date (NaT) in a day-number column


def _by_persona(persona: np.ndarray, values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)[persona]


def _uniform_by_persona(rng: np.random.Generator, persona: np.ndarray, ranges: list[tuple[float, float]]
                        ) -> np.ndarray:
    lo = _by_persona(persona, [r[0] for r in ranges])
    hi = _by_persona(persona, [r[1] for r in ranges])
    return lo + (hi - lo) * rng.random(len(persona))


def resolve_mix(mix: str | dict[str, float] | None) -> tuple[np.ndarray, float]:
    """(persona shares in :data:`PERSONAS` order summing to 1, downturn share) from a mix name in
    :data:`MIXES`, a dict ``{persona: share}`` or a string ``"prompt=0.3,stretcher=0.2,downturn=0.3"``
    (personas not named get 0, the downturn 0). Raises :class:`ConfigError` for unknown names or
    impossible shares."""
    if mix is None:
        mix = "demo"
    if isinstance(mix, str):
        text = mix.strip()
        if "=" not in text:
            if text not in MIXES:
                raise ConfigError(f"mix must be one of {sorted(MIXES)} or shares like 'prompt=0.4,stretcher=0.2'; "
                                  f"got {mix!r}")
            mix = MIXES[text]
        else:
            parsed: dict[str, float] = {}
            for part in text.split(","):
                name, _, value = part.partition("=")
                try:
                    parsed[name.strip()] = float(value)
                except ValueError:
                    raise ConfigError(f"mix: share of {name.strip()!r} must be a number; got {value!r}") from None
            mix = parsed
    unknown = sorted(set(mix) - set(PERSONA_NAMES) - {"downturn"})
    if unknown:
        raise ConfigError(f"mix: unknown persona(s) {unknown}; the personas are {list(PERSONA_NAMES)} "
                          "(and downturn)")
    shares = np.array([float(mix.get(name, 0.0)) for name in PERSONA_NAMES])
    if not np.isfinite(shares).all() or (shares < 0).any() or shares.sum() <= 0:
        raise ConfigError("mix: shares must be >= 0 and not all 0; got "
                          f"{dict(zip(PERSONA_NAMES, shares.tolist(), strict=True))}")
    downturn = float(mix.get("downturn", 0.0))
    if not 0.0 <= downturn <= 1.0:
        raise ConfigError(f"mix: downturn must be between 0 and 1; got {downturn}")
    return shares / shares.sum(), downturn


def _draw_customers(rng: np.random.Generator, n: int, cal: _Calendar, shares: np.ndarray | None = None,
                    downturn: float = 0.0) -> _Customers:
    """Personas (drawn with ``shares``, default the demo mix), onboarding, size, terms, defaults and
    stress ramps of ``n`` customers (``downturn``: see :data:`MIXES`)."""
    if shares is None:
        shares = np.array([p.share for p in PERSONAS])
    persona = rng.choice(len(PERSONAS), size=n, p=shares / shares.sum()).astype(np.int64)
    is_new = persona == PERSONA_NAMES.index("new")

    # onboarding: "new" ones in the last NEW_MONTHS months; others before the window or within it
    # but at least NEW_MONTHS before the end
    new_lo = max(cal.start, cal.end - int(NEW_MONTHS * DAYS_PER_MONTH))
    in_hi = cal.end - int(NEW_MONTHS * DAYS_PER_MONTH)
    pre = rng.random(n) < PRE_WINDOW_SHARE
    if in_hi <= cal.start:
        pre[:] = True
    onboard = np.where(
        is_new,
        rng.integers(new_lo, cal.end - 6, size=n, endpoint=True) if new_lo <= cal.end - 6
        else np.full(n, cal.end),
        np.where(pre, cal.start - rng.integers(*PRE_WINDOW_TENURE_DAYS, size=n, endpoint=True),
                 rng.integers(cal.start, max(in_hi, cal.start), size=n, endpoint=True)),
    )
    start = np.maximum(onboard, cal.start)

    size = MEDIAN_MONTHLY_SALES * np.exp(
        SALES_LOG_SD * rng.standard_normal(n) + _by_persona(persona, [p.size_log_shift for p in PERSONAS])
    )
    rate = np.clip(INVOICES_PER_MONTH * (size / MEDIAN_MONTHLY_SALES) ** 0.25, 0.4, 12.0)
    terms_cum = np.cumsum(np.array([p.terms_probs for p in PERSONAS]), axis=1)[persona]
    terms = np.array([30, 45, 60])[(rng.random(n)[:, None] > terms_cum[:, :2]).sum(axis=1)]
    growth = GROWTH_SD * rng.standard_normal(n)
    industry = rng.choice(len(INDUSTRIES), size=n, p=np.array(INDUSTRY_WEIGHTS) / sum(INDUSTRY_WEIGHTS))
    cw = np.array([c[1] for c in COUNTRIES])
    country = rng.choice(len(COUNTRIES), size=n, p=cw / cw.sum())

    default, r0, r1, recover, amps = _draw_defaults_and_ramps(rng, persona, onboard, start, cal, downturn)
    dbt_amp, partial_amp, dispute_amp, sales_drop, noise_amp = amps

    return _Customers(
        persona=persona,
        onboard=onboard,
        start=start,
        default=default,
        stop=np.minimum(default + HOLD_DAYS, cal.month_starts[-1] - 1),
        terms=terms,
        size=size,
        rate=rate,
        growth=growth,
        industry=industry,
        country=country,
        r0=r0,
        r1=r1,
        recover=recover,
        dbt_base=_uniform_by_persona(rng, persona, [p.dbt_base for p in PERSONAS]),
        dbt_amp=dbt_amp,
        dbt_sd=_by_persona(persona, [p.dbt_sd for p in PERSONAS]),
        noise_amp=noise_amp,
        spike_prob=_by_persona(persona, [p.late_spike[0] for p in PERSONAS]),
        spike_mean=_by_persona(persona, [p.late_spike[1] for p in PERSONAS]),
        partial_prob=_by_persona(persona, [p.partial_prob for p in PERSONAS]),
        partial_amp=partial_amp,
        dispute_prob=_uniform_by_persona(rng, persona, [p.dispute_prob for p in PERSONAS]),
        dispute_amp=dispute_amp,
        sales_drop=sales_drop,
        credit_note_prob=_by_persona(persona, [p.credit_note_prob for p in PERSONAS]),
        deduction_prob=_by_persona(persona, [p.deduction_prob for p in PERSONAS]),
        unapplied_prob=_by_persona(persona, [p.unapplied_prob for p in PERSONAS]),
        writes_off=rng.random(n) < WRITE_OFF_SHARE,
        write_off_lag=rng.integers(*WRITE_OFF_LAG_DAYS, size=n, endpoint=True),
    )


def _draw_defaults_and_ramps(
    rng: np.random.Generator, persona: np.ndarray, onboard: np.ndarray, start: np.ndarray, cal: _Calendar,
    downturn: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """Default day and stress ramp of each customer.

    Personas with a :class:`StressRamp` default with ``default_share`` somewhere between a few months
    after the window start (and a ramp's length after onboarding) and some months after the end date
    (customers onboarded in the window: the same span later), with the ramp
    ending on the default day; their non-defaulting members drift on a longer, weaker ramp placed
    anywhere from four years before the window to shortly before the end, and then recover (so the
    share of stressed customers stays about constant over time). Other personas default suddenly at
    their ``sudden_hazard`` with a short, weak ramp at most. Returns (default, r0, r1, recover,
    (dbt_amp, partial_amp, dispute_amp, sales_drop, noise_amp)).
    """
    n = len(persona)
    default = np.full(n, NO_DAY, dtype=np.int64)
    r0 = np.full(n, float(NO_DAY))
    r1 = np.full(n, float(NO_DAY + 1))
    recover = np.full(n, float(NO_DAY))
    dbt_amp, partial_amp, dispute_amp, sales_drop, noise_amp = (np.zeros(n) for _ in range(5))
    u = rng.random((n, 8))  # one fixed block of draws per customer keeps the stream stable

    for k, p in enumerate(PERSONAS):
        m = persona == k
        if p.ramp is not None:
            rp = p.ramp
            # the same span for everyone, so that customers onboarded late in the window are not
            # squeezed into its end (which would make the default rate rise over time)
            first = cal.start + rp.default_after_start_months * DAYS_PER_MONTH
            span = cal.end + rp.default_after_end_months * DAYS_PER_MONTH - first
            lo = np.maximum(first, onboard + rp.months[0] * DAYS_PER_MONTH)
            hi = lo + span
            defaults = m & (u[:, 0] < rp.default_share)
            drift = m & ~defaults
            d_day = (lo + (hi - lo) * u[:, 1]).astype(np.int64)
            if downturn > 0:  # a downturn: some defaults move into the year after the end (u[:, 7] is free here)
                moved = u[:, 7] < downturn
                in_year = (cal.end + 1 + u[:, 1] * (DAYS_PER_YEAR - 1)).astype(np.int64)
                d_day = np.where(moved, np.maximum(in_year, lo.astype(np.int64)), d_day)
            default[defaults] = d_day[defaults]
            length = (rp.months[0] + (rp.months[1] - rp.months[0]) * u[:, 2]) * DAYS_PER_MONTH
            r1[defaults] = d_day[defaults]
            r0[defaults] = d_day[defaults] - length[defaults]
            # drifting ones: a ramp starting from 48 months before the window to 3 before the end
            d_len = (rp.drift_months[0] + (rp.drift_months[1] - rp.drift_months[0]) * u[:, 2]) * DAYS_PER_MONTH
            d_lo, d_hi = cal.start - 48 * DAYS_PER_MONTH, cal.end - 3 * DAYS_PER_MONTH
            d_start = d_lo + (d_hi - d_lo) * u[:, 1]
            rec = rp.drift_recover_months[0] + (rp.drift_recover_months[1] - rp.drift_recover_months[0]) * u[:, 5]
            r0[drift] = d_start[drift]
            r1[drift] = d_start[drift] + d_len[drift]
            recover[drift] = rec[drift] * DAYS_PER_MONTH
            scale = np.where(defaults, 1.0, rp.drift_scale)
            dbt_amp[m] = ((rp.dbt_amp[0] + (rp.dbt_amp[1] - rp.dbt_amp[0]) * u[:, 3]) * scale)[m]
            sales_drop[m] = ((rp.sales_drop[0] + (rp.sales_drop[1] - rp.sales_drop[0]) * u[:, 4]) * scale)[m]
            partial_amp[m] = (rp.partial_amp * scale)[m]
            dispute_amp[m] = (rp.dispute_amp * scale)[m]
            noise_amp[m] = rp.noise_amp
        elif p.sudden_hazard > 0:
            span = (cal.end + DAYS_PER_YEAR) - (start + 30.0)  # default possible up to a year after the end
            sudden = m & (u[:, 5] < np.clip(p.sudden_hazard * span / DAYS_PER_YEAR, 0, 1))
            d_day = (start + 30 + span * u[:, 6]).astype(np.int64)
            default[sudden] = d_day[sudden]
            warn = SUDDEN_RAMP_DAYS[0] + (SUDDEN_RAMP_DAYS[1] - SUDDEN_RAMP_DAYS[0]) * u[:, 7]
            r1[sudden] = d_day[sudden]
            r0[sudden] = d_day[sudden] - np.maximum(warn[sudden], 1.0)
            dbt_amp[sudden] = (SUDDEN_DBT_AMP[0] + (SUDDEN_DBT_AMP[1] - SUDDEN_DBT_AMP[0]) * u[:, 3])[sudden]
            sales_drop[sudden] = (SUDDEN_SALES_DROP[0]
                                  + (SUDDEN_SALES_DROP[1] - SUDDEN_SALES_DROP[0]) * u[:, 4])[sudden]
            partial_amp[sudden] = SUDDEN_PARTIAL_AMP
            noise_amp[sudden] = 1.0
    return default, r0, r1, recover, (dbt_amp, partial_amp, dispute_amp, sales_drop, noise_amp)


# ---------------------------------------------------------------------------------------------- slots
@dataclass
class _Slots:
    """Sales events (an order that becomes an invoice unless the customer defaulted first)."""

    cust: np.ndarray
    day: np.ndarray
    cents: np.ndarray


def _seasonality(cust: _Customers, month_of_year: np.ndarray) -> np.ndarray:
    """Seasonal sales factor per customer (rows) and month (columns), from the industry."""
    peak = np.array([i[1] for i in INDUSTRIES])[cust.industry][:, None]
    amp = np.array([i[2] for i in INDUSTRIES])[cust.industry][:, None]
    moy = month_of_year[None, :]
    return 1.0 + amp * np.cos(2 * np.pi * (moy - peak) / 12.0) - AUGUST_DIP * (moy == 8)


def _active_days(cust: _Customers, cal: _Calendar) -> tuple[np.ndarray, np.ndarray]:
    """First and last active day of each customer (rows) in each month (columns); lo > hi = inactive."""
    ms = cal.month_starts
    lo = np.maximum(ms[None, :-1], cust.start[:, None])
    hi = np.minimum(ms[None, 1:] - 1, cust.stop[:, None])
    return lo, hi


def _draw_slots(rng: np.random.Generator, cust: _Customers, cal: _Calendar) -> _Slots:
    """Sales events: Poisson counts per customer-month, uniform days within the active part of the
    month, lognormal amounts around the customer's size times seasonality and stress."""
    lo, hi = _active_days(cust, cal)
    ndays = np.maximum(hi - lo + 1, 0)
    month_len = np.diff(cal.month_starts)[None, :]
    season = _seasonality(cust, cal.month_of_year)
    idx = np.broadcast_to(np.arange(cust.n)[:, None], lo.shape)
    mid = (lo + hi) / 2.0
    level = np.sqrt(np.clip(cust.sales_multiplier(idx, mid, cal.end), 0.05, None))
    lam = cust.rate[:, None] * season * level * (ndays / month_len)
    counts = rng.poisson(lam).ravel()

    c_idx = np.repeat(idx.ravel(), counts)
    s_lo = np.repeat(lo.ravel(), counts)
    s_n = np.repeat(ndays.ravel(), counts)
    day = s_lo + (rng.random(len(c_idx)) * s_n).astype(np.int64)
    s_season = np.repeat(season.ravel(), counts)
    del s_lo, s_n
    level = np.sqrt(np.clip(cust.sales_multiplier(c_idx, day.astype(np.float64), cal.end), 0.05, None))
    mean_amount = cust.size[c_idx] / cust.rate[c_idx] * s_season * level
    noise = np.exp(INVOICE_AMOUNT_LOG_SD * rng.standard_normal(len(c_idx)) - INVOICE_AMOUNT_LOG_SD**2 / 2)
    cents = np.maximum(np.round(mean_amount * noise * 100.0), MIN_INVOICE_CENTS).astype(np.int64)
    # chronological order, so that invoice and order numbers increase with time
    order = np.lexsort((c_idx, day))
    return _Slots(cust=c_idx[order], day=day[order], cents=cents[order])


# ------------------------------------------------------------------------------------------- invoices
@dataclass
class _Invoices:
    cust: np.ndarray
    day: np.ndarray
    due: np.ndarray
    cents: np.ndarray
    dispute_day: np.ndarray  # NO_DATE = not disputed (or not yet raised at the end date)


@dataclass
class _Events:
    """Payments and adjustments, in integer cents and day numbers; ``inv`` = -1 for none."""

    cust: np.ndarray
    inv: np.ndarray
    day: np.ndarray
    cents: np.ndarray
    kind: np.ndarray | None = None  # adjustments: index into ADJUSTMENT_KINDS


def _settle(rng: np.random.Generator, cust: _Customers, inv_cust: np.ndarray, inv_day: np.ndarray,
            inv_cents: np.ndarray, cal: _Calendar) -> tuple[_Invoices, _Events, _Events]:
    """Dispute, credit, deduct and pay every invoice; cut what falls after the default or the end.

    Returns the invoices (with their dispute dates), the applied payments and the adjustments
    (credit notes, deductions and write-offs)."""
    n = len(inv_cust)
    c = inv_cust
    r = cust.ramp(c, inv_day.astype(np.float64))
    due = inv_day + cust.terms[c]

    # disputes, and how they end: a credit note or a (late) payment
    disputed = rng.random(n) < cust.dispute_prob[c] + cust.dispute_amp[c] * r
    dispute_day = inv_day + rng.integers(2, cust.terms[c] + 15, endpoint=True)
    tail_p, tail_lo, tail_hi = DISPUTE_LAG_TAIL
    lag = np.round(rng.gamma(2.0, 10.0, n) + (rng.random(n) < tail_p) * rng.uniform(tail_lo, tail_hi, n))
    lag = lag.astype(np.int64)
    by_credit = disputed & (rng.random(n) < DISPUTE_CREDIT_SHARE)
    credit_note = ~disputed & (rng.random(n) < cust.credit_note_prob[c])
    u_frac = rng.random(n)
    credit_frac = np.where(
        by_credit,
        np.where(u_frac < DISPUTE_FULL_CREDIT_SHARE, 1.0, rng.uniform(0.1, 0.6, n)),
        np.where(u_frac < CREDIT_NOTE_FULL_SHARE, 1.0, rng.uniform(0.05, 0.5, n)),
    )
    credited = by_credit | credit_note
    credit_cents = np.where(credited, np.round(inv_cents * credit_frac), 0).astype(np.int64)
    credit_day = np.where(by_credit, dispute_day + lag, inv_day + rng.integers(2, 45, n, endpoint=True))

    deducted = (rng.random(n) < cust.deduction_prob[c]) & (credit_cents < inv_cents)
    ded_cents = np.where(deducted, np.floor((inv_cents - credit_cents) * rng.uniform(0.02, 0.15, n)), 0)
    ded_cents = ded_cents.astype(np.int64)
    payable = inv_cents - credit_cents - ded_cents

    # payment timing: the persona's delay plus the stress ramp, plus noise and an occasional spike
    spike = (rng.random(n) < cust.spike_prob[c]) * rng.exponential(1.0, n) * cust.spike_mean[c]
    sd = cust.dbt_sd[c] * (1.0 + cust.noise_amp[c] * r)
    delay = cust.dbt_base[c] + cust.dbt_amp[c] * r + sd * rng.standard_normal(n) + spike
    first = due + np.round(delay).astype(np.int64)
    first = np.where(by_credit, credit_day + rng.integers(2, 20, n, endpoint=True), first)
    # a dispute settled by payment: paid once resolved, and never earlier than it would have been
    first = np.where(disputed & ~by_credit,
                     np.maximum(first, dispute_day + lag) + rng.integers(0, 15, n, endpoint=True), first)
    first = np.maximum(first, inv_day)

    # partial payments: 2 or 3 pieces, spaced further apart under stress
    partial = rng.random(n) < cust.partial_prob[c] + cust.partial_amp[c] * r
    k = np.where(partial, np.where(rng.random(n) < 0.7, 2, 3), 1)
    k = np.where(payable < 200 * k, 1, k)
    k = np.where(payable <= 0, 0, k).astype(np.int64)
    pay_inv, pay_day, pay_cents = _split_payments(rng, k, first, payable, r)
    del r, delay, sd, spike

    last_day = first.copy()
    has_pay = k > 0
    last_day[has_pay] = pay_day[np.cumsum(k)[has_pay] - 1]

    # nothing happens after the default (the customer stops paying) or after the end date
    cutoff = np.minimum(cust.default, cal.end + 1)
    keep_pay = pay_day < cutoff[c[pay_inv]]
    pay_inv, pay_day, pay_cents = pay_inv[keep_pay], pay_day[keep_pay], pay_cents[keep_pay]
    inv_cut = cutoff[c]
    keep_credit = credited & (credit_day < inv_cut)
    keep_ded = deducted & (last_day < inv_cut)
    dispute_day = np.where(disputed & (dispute_day <= cal.end), dispute_day, NO_DATE)

    # write-offs: what a defaulted customer still owes, some 120-240 days after the due date
    settled = (np.bincount(pay_inv, weights=pay_cents, minlength=n).astype(np.int64)
               + np.where(keep_credit, credit_cents, 0) + np.where(keep_ded, ded_cents, 0))
    open_cents = inv_cents - settled
    d_cust = cust.default[c]
    wo_day = np.maximum(due + cust.write_off_lag[c] + rng.integers(0, 14, n, endpoint=True),
                        d_cust + rng.integers(30, 90, n, endpoint=True))
    write_off = (open_cents > 0) & (d_cust <= cal.end) & cust.writes_off[c] & (wo_day <= cal.end)

    code = {name: i for i, name in enumerate(ADJUSTMENT_KINDS)}
    adj_inv = np.concatenate([np.flatnonzero(keep_credit), np.flatnonzero(keep_ded), np.flatnonzero(write_off)])
    adj = _Events(
        cust=c[adj_inv],
        inv=adj_inv,
        day=np.concatenate([credit_day[keep_credit], last_day[keep_ded], wo_day[write_off]]),
        cents=np.concatenate([credit_cents[keep_credit], ded_cents[keep_ded], open_cents[write_off]]),
        kind=np.concatenate([np.full(keep_credit.sum(), code["credit_note"]),
                             np.full(keep_ded.sum(), code["deduction"]),
                             np.full(write_off.sum(), code["write_off"])]),
    )
    pay = _Events(cust=c[pay_inv], inv=pay_inv, day=pay_day, cents=pay_cents)
    invoices = _Invoices(cust=c, day=inv_day, due=due, cents=inv_cents, dispute_day=dispute_day)
    return invoices, pay, adj


def _split_payments(rng: np.random.Generator, k: np.ndarray, first: np.ndarray, payable: np.ndarray,
                    stress: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split each invoice's payable cents into ``k`` pieces (summing exactly to it), the first on day
    ``first`` and the next 5-30 days apart (up to twice that under full stress)."""
    inv = np.repeat(np.arange(len(k)), k)
    starts = np.cumsum(k) - k
    j = np.arange(len(inv)) - np.repeat(starts, k)
    is_last = j == k[inv] - 1
    w = rng.uniform(0.5, 1.5, len(inv))
    frac = w / np.bincount(inv, weights=w, minlength=len(k))[inv]
    cents = np.floor(frac * payable[inv]).astype(np.int64)
    others = np.bincount(inv[~is_last], weights=cents[~is_last], minlength=len(k)).astype(np.int64)
    cents[is_last] = payable[inv[is_last]] - others[inv[is_last]]
    gap = np.where(j == 0, 0, np.round(rng.integers(5, 30, len(inv), endpoint=True) * (1 + stress[inv])))
    cum = np.cumsum(gap.astype(np.int64))
    offset = cum - np.repeat(cum[starts[k > 0]], k[k > 0])
    return inv, first[inv] + offset, cents


# ----------------------------------------------------------------------------------- unapplied cash
def _unapplied_cash(rng: np.random.Generator, cust: _Customers, cal: _Calendar) -> _Events:
    """Small payments on account (no invoice): a few per customer and year, before any default."""
    last = np.minimum(cust.default - 1, cal.end)
    lo = np.maximum(cal.month_starts[None, :-2], cust.start[:, None])
    hi = np.minimum(cal.month_starts[None, 1:-1] - 1, last[:, None])
    ndays = np.maximum(hi - lo + 1, 0)
    hit = (rng.random(ndays.shape) < cust.unapplied_prob[:, None]) & (ndays > 0)
    ci, mi = np.nonzero(hit)
    day = lo[ci, mi] + (rng.random(len(ci)) * ndays[ci, mi]).astype(np.int64)
    cents = np.maximum(np.round(cust.size[ci] * rng.uniform(0.003, 0.03, len(ci)) * 100), 500).astype(np.int64)
    return _Events(cust=ci, inv=np.full(len(ci), -1), day=day, cents=cents)


# --------------------------------------------------------------------------------------------- orders
def _orders(rng: np.random.Generator, cust: _Customers, slots: _Slots, is_invoice: np.ndarray,
            cal: _Calendar) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One order per sales slot, placed 0-60 days before its invoice; closed on the invoice date, or
    cancelled some days after a default (orders on hold), or still open at the end. A few more orders
    are cancelled without ever being invoiced. Returns (cust, order_day, closed_day (NO_DATE = open), cents)
    in chronological order."""
    n = len(slots.cust)
    lead = np.where(rng.random(n) < 0.3, 0, np.minimum(rng.geometric(0.1, n), 60))
    order_day = np.maximum(slots.day - lead, cust.start[slots.cust])
    d = cust.default[slots.cust]
    held = ~is_invoice & (slots.day > d)
    closed = np.where(is_invoice, slots.day,
                      np.where(held, np.maximum(d, order_day) + rng.integers(3, 30, n, endpoint=True), NO_DATE))

    # orders cancelled before they were invoiced
    extra = rng.random(n) < CANCELLED_ORDER_SHARE
    x_order = order_day[extra]
    x_closed = x_order + rng.integers(1, 30, int(extra.sum()), endpoint=True)
    o_cust = np.concatenate([slots.cust, slots.cust[extra]])
    o_day = np.concatenate([order_day, x_order])
    o_closed = np.concatenate([closed, x_closed])
    o_cents = np.concatenate([slots.cents, slots.cents[extra]])

    keep = (o_day >= cal.start) & (o_day <= cal.end)
    o_cust, o_day, o_closed, o_cents = o_cust[keep], o_day[keep], o_closed[keep], o_cents[keep]
    o_closed = np.where(o_closed > cal.end, NO_DATE, o_closed)
    order = np.lexsort((o_cust, o_day))
    return o_cust[order], o_day[order], o_closed[order], o_cents[order]


# ----------------------------------------------------------------------------------- credit limits
def _credit_limits(rng: np.random.Generator, cust: _Customers, cal: _Calendar) -> tuple[np.ndarray, np.ndarray]:
    """Limit set at onboarding from the expected need (monthly sales x (terms + grace) / 30) with
    noise; some customers reviewed later (at the then need); a few without a limit.
    Returns (limit in EUR, NaN = none; last review day)."""
    n = cust.n
    review_lo = cust.onboard + 180
    reviewed = (rng.random(n) < REVIEWED_SHARE) & (review_lo < cal.end)
    review_day = np.where(
        reviewed, review_lo + (rng.random(n) * np.maximum(cal.end - review_lo, 1)).astype(np.int64), cust.onboard
    )
    at = np.where(reviewed, review_day, np.maximum(cust.onboard, cal.start)).astype(np.float64)
    need = cust.size * cust.sales_multiplier(np.arange(n), at, cal.end) * (cust.terms + LIMIT_GRACE_DAYS) / 30.0
    limit = need * np.exp(LIMIT_NOISE_SD * rng.standard_normal(n))
    limit = np.maximum(np.round(limit / LIMIT_ROUND), 1.0) * LIMIT_ROUND
    limit[rng.random(n) < NO_LIMIT_SHARE] = np.nan
    return limit, review_day


def _names(rng: np.random.Generator, n: int, country: np.ndarray) -> np.ndarray:
    stems = np.array(NAME_STEMS)[rng.integers(0, len(NAME_STEMS), n)]
    endings = np.array(NAME_ENDINGS)[rng.integers(0, len(NAME_ENDINGS), n)]
    forms_all = [f for c in COUNTRIES for f in c[2]]
    first = np.cumsum([0] + [len(c[2]) for c in COUNTRIES])
    pick = first[country] + (rng.random(n) * np.diff(first)[country]).astype(np.int64)
    forms = np.array(forms_all)[pick]
    return np.char.add(np.char.add(np.char.add(stems, endings), " "), forms)


# ---------------------------------------------------------------------------------------- assembly
def fixed_width_ids(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    """``prefix`` + zero-padded ``numbers`` as a ``str`` Series, built without a Python loop.

    Numbers below 0 become missing (NA); numbers need at most ``width`` digits."""
    numbers = np.asarray(numbers, dtype=np.int64)
    n, p = len(numbers), prefix.encode()
    size = len(p) + width
    buf = np.empty((n, size), dtype=np.uint8)
    buf[:, : len(p)] = np.frombuffer(p, dtype=np.uint8)
    x = np.maximum(numbers, 0)
    for pos in range(size - 1, len(p) - 1, -1):
        buf[:, pos] = 48 + x % 10
        x = x // 10
    offsets = np.arange(n + 1, dtype=np.int64) * size
    arr = pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf)])
    if (numbers < 0).any():
        arr = pc.if_else(pa.array(numbers >= 0), arr, pa.scalar(None, pa.large_string()))
    return pd.Series(pd.array(arr, dtype="str"))


def _constant_str(value: str, n: int) -> pd.Series:
    """A ``str`` Series of ``n`` copies of ``value`` (e.g. the currency)."""
    b = value.encode()
    offsets = np.arange(n + 1, dtype=np.int64) * len(b)
    arr = pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(b * n)])
    return pd.Series(pd.array(arr, dtype="str"))


def _euros(cents: np.ndarray) -> np.ndarray:
    return np.asarray(cents, dtype=np.float64) / 100.0


def _width(count: int, minimum: int) -> int:
    return max(minimum, len(str(max(count, 1))))


def _frame(table: str, cols: dict[str, object]) -> pd.DataFrame:
    """Assemble a table's columns in contract order."""
    return pd.DataFrame({name: cols[name] for name in TABLES[table].column_names if name in cols})


def _customers_frame(cust: _Customers, limit: np.ndarray, review_day: np.ndarray, names: np.ndarray,
                     width: int) -> pd.DataFrame:
    return _frame("customers", {
        "customer_id": fixed_width_ids("C", np.arange(1, cust.n + 1), width),
        "credit_limit": limit,
        "payment_terms_days": cust.terms.astype(np.int64),
        "name": pd.Series(names, dtype="str"),
        "industry": pd.Series(np.array([i[0] for i in INDUSTRIES])[cust.industry], dtype="str"),
        "country": pd.Series(np.array([c[0] for c in COUNTRIES])[cust.country], dtype="str"),
        "onboarded_date": _dates(cust.onboard),
        "last_review_date": _dates(review_day),
        **_insurance(limit, review_day),
    })


INSURERS = ("Allianz Trade", "Atradius", "Coface")


def _insurance(limit: np.ndarray, review_day: np.ndarray) -> dict[str, object]:
    """Credit insurance on every third customer with a limit (no random draws: the rest of the ledger is
    unchanged): insured up to 75% of the limit, cover for two years from the last review (some expired)."""
    idx = np.arange(len(limit))
    insured = (idx % 3 == 0) & np.isfinite(limit) & (limit > 0) & (review_day != NO_DATE)
    expiry = np.where(insured, review_day + 730, NO_DATE)
    return {
        "insured_limit": np.where(insured, np.floor(np.nan_to_num(limit) * 0.75 / 1000.0) * 1000.0, np.nan),
        "insurer": pd.Series(np.where(insured, np.array(INSURERS, dtype=object)[(idx // 3) % 3], None),
                             dtype="str"),
        "insurance_expiry": _dates(expiry),
    }


def _invoices_frame(inv: _Invoices, cw: int, iw: int) -> pd.DataFrame:
    n = len(inv.cust)
    return _frame("invoices", {
        "invoice_id": fixed_width_ids("INV", np.arange(1, n + 1), iw),
        "customer_id": fixed_width_ids("C", inv.cust + 1, cw),
        "invoice_date": _dates(inv.day),
        "due_date": _dates(inv.due),
        "amount": _euros(inv.cents),
        "disputed": inv.dispute_day != NO_DATE,
        "dispute_date": _dates(inv.dispute_day),
        "currency": _constant_str(CURRENCY, n),
    })


def _payments_frame(applied: _Events, cash: _Events, cw: int, iw: int) -> pd.DataFrame:
    """Applied payments and unapplied cash, numbered in date order."""
    cust = np.concatenate([applied.cust, cash.cust])
    inv = np.concatenate([applied.inv, cash.inv])
    day = np.concatenate([applied.day, cash.day])
    cents = np.concatenate([applied.cents, cash.cents])
    order = np.lexsort((inv, cust, day))
    n = len(order)
    inv = inv[order]
    return _frame("payments", {
        "payment_id": fixed_width_ids("PAY", np.arange(1, n + 1), _width(n, 8)),
        "customer_id": fixed_width_ids("C", cust[order] + 1, cw),
        "invoice_id": fixed_width_ids("INV", np.where(inv >= 0, inv + 1, -1), iw),
        "payment_date": _dates(day[order]),
        "amount": _euros(cents[order]),
        "currency": _constant_str(CURRENCY, n),
    })


def _adjustments_frame(adj: _Events, cw: int, iw: int) -> pd.DataFrame:
    order = np.lexsort((adj.kind, adj.inv, adj.day))
    n = len(order)
    return _frame("adjustments", {
        "adjustment_id": fixed_width_ids("ADJ", np.arange(1, n + 1), _width(n, 8)),
        "customer_id": fixed_width_ids("C", adj.cust[order] + 1, cw),
        "invoice_id": fixed_width_ids("INV", adj.inv[order] + 1, iw),
        "date": _dates(adj.day[order]),
        "amount": _euros(adj.cents[order]),
        "kind": pd.Series(np.array(ADJUSTMENT_KINDS)[adj.kind[order]], dtype="str"),
        "currency": _constant_str(CURRENCY, n),
    })


def _orders_frame(orders: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], cw: int) -> pd.DataFrame:
    cust, day, closed, cents = orders
    n = len(cust)
    return _frame("orders", {
        "order_id": fixed_width_ids("ORD", np.arange(1, n + 1), _width(n, 8)),
        "customer_id": fixed_width_ids("C", cust + 1, cw),
        "order_date": _dates(day),
        "amount": _euros(cents),
        "closed_date": _dates(closed),
        "currency": _constant_str(CURRENCY, n),
    })


def generate_ledger(
    n_customers: int = 2000,
    months: int = 36,
    seed: int = 7,
    end: str | dt.date | pd.Timestamp = DEFAULT_END,
    mix: str | dict[str, float] | None = None,
) -> SyntheticLedger:
    """Generate a persona-driven AR ledger of ``n_customers`` over the ``months`` months ending on
    ``end`` (the window starts on the first day of the month ``months - 1`` months before ``end``'s).

    Deterministic per ``seed``. Nothing is dated after ``end``; invoices unpaid at ``end`` stay open.
    ``mix`` sets the persona shares (see :func:`resolve_mix`; default: the demo mix, unchanged).
    Raises :class:`ConfigError` for impossible arguments.

    Example: ``generate_ledger(300, months=24, seed=1, end="2025-12-31").ledger.row_counts()``
    """
    end_ts = _check_args(n_customers, months, seed, end)
    shares, downturn = (None, 0.0) if mix is None or (isinstance(mix, str) and mix.strip() == "demo") \
        else resolve_mix(mix)
    n_customers, months = int(n_customers), int(months)
    rng = np.random.default_rng(int(seed))
    cal = _Calendar.build(end_ts, months)
    cust = _draw_customers(rng, n_customers, cal, shares, downturn)
    slots = _draw_slots(rng, cust, cal)
    is_invoice = (slots.day <= cal.end) & (slots.day <= cust.default[slots.cust])
    inv_idx = np.flatnonzero(is_invoice)
    inv, pay, adj = _settle(rng, cust, slots.cust[inv_idx], slots.day[inv_idx], slots.cents[inv_idx], cal)
    cash = _unapplied_cash(rng, cust, cal)
    orders = _orders(rng, cust, slots, is_invoice, cal)
    del slots, inv_idx, is_invoice
    limit, review_day = _credit_limits(rng, cust, cal)
    names = _names(rng, n_customers, cust.country)

    cw, iw = _width(n_customers, 6), _width(len(inv.cust), 8)
    customers = _customers_frame(cust, limit, review_day, names, cw)
    ledger = Ledger(
        customers=customers,
        invoices=_invoices_frame(inv, cw, iw),
        payments=_payments_frame(pay, cash, cw, iw),
        adjustments=_adjustments_frame(adj, cw, iw),
        orders=_orders_frame(orders, cw),
        source=f"synth(customers={n_customers}, months={months}, seed={seed}, end={end_ts.date().isoformat()}"
        + ("" if mix is None else f", mix={mix}") + ")",
    )
    truth = pd.DataFrame({
        "customer_id": customers["customer_id"],
        "persona": pd.Series(np.array(PERSONA_NAMES)[cust.persona], dtype="str"),
        "default_date": _dates(np.where(cust.default <= cal.end, cust.default, NO_DATE)),
        "scheduled_default_date": _dates(np.where(cust.default < NO_DAY, cust.default, NO_DATE)),
        "stress_at_end": np.round(cust.ramp(np.arange(cust.n), np.full(cust.n, float(cal.end))), 4),
    })
    return SyntheticLedger(ledger=ledger, truth=truth)


def write_synthetic(result: SyntheticLedger, out_dir: str | Path, fmt: LedgerFormat = "csv") -> dict[str, Path]:
    """Write a generated ledger as a ledger directory plus its truth in ``out_dir/_truth/personas.csv``.

    Returns {table: path} for the tables written and ``"_truth"`` for the truth file."""
    paths = write_ledger(result.ledger, out_dir, fmt)
    paths["_truth"] = write_table(result.truth, Path(out_dir) / TRUTH_PATH)
    return paths
