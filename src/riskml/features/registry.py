"""The feature registry: every feature declared once, with its meaning, unit, window, monotone
direction toward risk and everything the reason codes need to word it: the plain-language reason, the
adverse side of an unconstrained feature, what a missing figure means and the customer's own earlier
figure to compare with (:mod:`riskml.explain.reasons` reads them from here; it keeps no table of its own).

Features are Hamilton-style functions (see :mod:`riskml.features.definitions`): one small typed function
per feature, named after the column it produces, whose parameters name the point-in-time aggregates
(computed by :mod:`riskml.features.engine`) or other features it is made from. A feature made by a small
factory (one function for several windows or buckets) names its inputs explicitly with ``inputs=``,
positionally. The registry resolves those dependencies, so a feature is defined in exactly one place.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import pandas as pd

Kind = Literal["numeric", "flag", "categorical"]


@dataclass(frozen=True)
class FeatureSpec:
    """What a feature is, for the model (monotone), the docs and the reason codes."""

    name: str
    family: str
    description: str
    unit: str
    window: str
    monotone: Literal[-1, 0, 1]
    reason: str
    kind: Kind = "numeric"
    func: Callable[..., pd.Series] | None = None
    inputs: tuple[str, ...] = ()
    model: bool = True  # False: computed for reports and policies, not given to the model
    # the adverse side of a feature the model leaves unconstrained (monotone 0): +1 = high values are
    # adverse, -1 = low values are; 0 = it may be cited on either side. A constrained feature's adverse
    # side is its monotone direction.
    adverse: Literal[-1, 0, 1] = 0
    # how a missing figure reads, where the generic "<description>: no figure" would mislead
    missing: str = ""
    # the customer's own earlier figure shown beside the current one: (earlier feature, its window in words)
    comparison: tuple[str, str] | None = None

    @property
    def adverse_side(self) -> int:
        """+1 when high values are adverse, -1 when low ones are, 0 when either can be."""
        return int(self.monotone or self.adverse)

    def render_reason(self, values: dict[str, object]) -> str:
        """The reason template filled with this customer's figures (``value`` is this feature)."""
        try:
            return self.reason.format(value=values.get(self.name), **values)
        except (KeyError, ValueError, TypeError):
            return f"{self.description}: {values.get(self.name)}"


# family -> the heading a credit manager reads (reason codes are grouped by family)
FAMILIES: dict[str, str] = {
    "dbt": "Days beyond terms",
    "partial": "Partial and short payments",
    "lateness": "Late-payment history",
    "aging": "Aging of the open balance",
    "exposure": "Exposure and limit utilisation",
    "disputes": "Disputes, credits and unapplied cash",
    "volume": "Sales volume and relationship",
    "history": "Length of payment history",
    "attributes": "Customer attributes",
}

REGISTRY: dict[str, FeatureSpec] = {}


def feature(
    *,
    family: str,
    description: str,
    unit: str,
    monotone: Literal[-1, 0, 1],
    reason: str,
    window: str = "",
    kind: Kind = "numeric",
    model: bool = True,
    name: str | None = None,
    adverse: Literal[-1, 0, 1] = 0,
    missing: str = "",
    comparison: tuple[str, str] | None = None,
    inputs: tuple[str, ...] | None = None,
) -> Callable[[Callable[..., pd.Series]], Callable[..., pd.Series]]:
    """Register a feature function under its own name (or ``name``).

    ``inputs`` names the aggregates or features passed to the function, in the order of its parameters
    (default: the parameter names); ``adverse``, ``missing`` and ``comparison`` are the
    :class:`FeatureSpec` fields of the same names."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {sorted(FAMILIES)}; got {family!r}")
    if monotone not in (-1, 0, 1):
        raise ValueError(f"monotone must be -1, 0 or 1; got {monotone!r}")
    if adverse not in (-1, 0, 1):
        raise ValueError(f"adverse must be -1, 0 or 1; got {adverse!r}")
    if adverse and monotone:
        raise ValueError("adverse is the side of an unconstrained feature (monotone 0); a constrained "
                         f"feature's adverse side is its monotone direction (monotone {monotone}, adverse {adverse})")
    if comparison is not None and (len(comparison) != 2 or not all(isinstance(c, str) and c for c in comparison)):
        raise ValueError(f"comparison must be (earlier feature, its window in words); got {comparison!r}")

    def deco(func: Callable[..., pd.Series]) -> Callable[..., pd.Series]:
        fname = name or func.__name__
        if fname in REGISTRY:
            raise ValueError(f"feature {fname!r} is declared twice")
        params = tuple(inspect.signature(func).parameters)
        if inputs is not None and len(inputs) != len(params):
            raise ValueError(f"feature {fname!r}: inputs={inputs!r} name {len(inputs)} columns for "
                             f"{len(params)} parameters {params!r}")
        REGISTRY[fname] = FeatureSpec(
            name=fname, family=family, description=description, unit=unit, window=window,
            monotone=monotone, reason=reason, kind=kind, func=func,
            inputs=params if inputs is None else tuple(inputs), model=model,
            adverse=adverse, missing=missing,
            comparison=(comparison[0], comparison[1]) if comparison else None,
        )
        return func

    return deco


def resolve(base: pd.DataFrame, names: list[str] | None = None) -> pd.DataFrame:
    """Compute registered features from the base aggregates, following their dependencies.

    ``base`` holds the engine's aggregates (plus ``as_of``); the result holds one column per feature,
    in registry order, on ``base``'s index."""
    wanted = list(REGISTRY) if names is None else names
    done: dict[str, pd.Series] = {}

    def get(name: str, stack: tuple[str, ...]) -> pd.Series:
        if name in done:
            return done[name]
        if name in base.columns:
            return base[name]
        spec = REGISTRY.get(name)
        if spec is None or spec.func is None:
            raise KeyError(f"feature input {name!r} is neither an aggregate nor a feature (needed by {stack})")
        if name in stack:
            raise ValueError(f"feature dependency cycle: {' -> '.join(stack + (name,))}")
        args = [get(i, stack + (name,)) for i in spec.inputs]
        out = spec.func(*args)
        if not isinstance(out, pd.Series):
            out = pd.Series(out, index=base.index)
        done[name] = out.rename(name)
        return done[name]

    cols = {n: get(n, ()) for n in wanted}
    return pd.DataFrame(cols, index=base.index)


def model_features(extra: dict[str, object] | None = None, exclude: list[str] | None = None) -> list[str]:
    """Names of the features the model uses: registry features marked ``model`` plus declared extras."""
    names = [n for n, s in REGISTRY.items() if s.model]
    names += list(extra or {})
    excl = set(exclude or [])
    return [n for n in names if n not in excl]


def spec_for(name: str, extra_specs: dict[str, FeatureSpec] | None = None) -> FeatureSpec:
    """The spec of a registry feature or of a user-declared extra attribute."""
    if extra_specs and name in extra_specs:
        return extra_specs[name]
    if name in REGISTRY:
        return REGISTRY[name]
    raise KeyError(f"unknown feature {name!r}")


def extra_attribute_specs(extra: Mapping[str, object]) -> dict[str, FeatureSpec]:
    """Specs for the customer attributes a user declared in ``DataConfig.extra_attributes``."""
    out = {}
    for col, attr in extra.items():
        desc = getattr(attr, "description", "") or col
        reason = getattr(attr, "reason", "") or f"{desc}: {{value}}"
        out[col] = FeatureSpec(
            name=col, family="attributes", description=desc, unit="", window="",
            monotone=getattr(attr, "monotone", 0),
            reason=reason, kind="categorical" if getattr(attr, "kind", "numeric") == "categorical" else "numeric",
        )
    return out
