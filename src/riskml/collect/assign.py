"""Assignment of worklist lines to collectors: by capacity, balanced by money and by count within a
tolerance, stable from one run to the next.

Rules, in order:

1. **Pools.** A collector with a portfolio takes only customers whose portfolio value (the customer-master
   column ``collections.portfolio_column``) equals it; customers of a portfolio nobody covers go to the
   collectors without a portfolio. Each pool is balanced on its own.
2. **Targets.** Each collector's share of the pool is its capacity over the pool's (a collector without a
   capacity counts as the average of the others, or 1 when none has one): target accounts = share x accounts,
   target money = share x amount to collect.
3. **Stable.** A customer keeps its previous collector (``--previous-assignment``) when that collector is still
   in its pool and within capacity (the highest-priority customers are kept first).
4. **New customers**, largest amount first, go to the collector with room whose load after taking them is
   lowest: max(money / target money, accounts / target accounts).
5. **Balance.** While a collector's money or accounts lie outside target x (1 +- tolerance), the single move
   or swap that most reduces the total excess is made, new customers first, then kept ones (reassigned).
   It stops when no move helps; an account larger than the tolerance allows can leave a residual excess,
   which the summary reports (``within_tolerance``).
6. Customers beyond the pool's total capacity (lowest priority first) stay unassigned, with the reason.

The result does not depend on the order of the input rows beyond the worklist rank: ties break on names and
customer ids.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ASSIGNMENT_COLUMNS = ("customer_id", "collector", "assignment_status", "assignment_note")
SUMMARY_COLUMNS = ("collector", "portfolio", "capacity", "accounts", "amount_to_collect", "expected_loss",
                   "target_accounts", "target_amount", "accounts_deviation", "amount_deviation", "within_tolerance",
                   "kept", "new", "reassigned")


def _weights(caps: np.ndarray) -> np.ndarray:
    finite = np.isfinite(caps)
    fill = caps[finite].mean() if finite.any() else 1.0
    w = np.where(finite, caps, fill)
    return w / w.sum()


class _Pool:
    """Loads of one pool's collectors and the excess over the tolerance band."""

    def __init__(self, names: list[str], caps: np.ndarray, amounts: np.ndarray, tol: float):
        self.names, self.caps, self.a, self.tol = names, caps, amounts, tol
        share = _weights(caps)
        self.tm = share * amounts.sum()
        self.tn = share * len(amounts)
        self.owner = np.full(len(amounts), -1)
        self.m = np.zeros(len(names))
        self.n = np.zeros(len(names))

    def put(self, i: int, k: int) -> None:
        if self.owner[i] >= 0:
            self.m[self.owner[i]] -= self.a[i]
            self.n[self.owner[i]] -= 1
        self.owner[i] = k
        if k >= 0:
            self.m[k] += self.a[i]
            self.n[k] += 1

    def _excess(self, m: np.ndarray, n: np.ndarray, k: np.ndarray | int) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            dm = np.where(self.tm[k] > 0, np.abs(m / self.tm[k] - 1.0), 0.0)
            dn = np.where(self.tn[k] > 0, np.abs(n / self.tn[k] - 1.0), 0.0)
        return np.clip(dm - self.tol, 0.0, None) + np.clip(dn - self.tol, 0.0, None)

    def excess(self) -> np.ndarray:
        return self._excess(self.m, self.n, np.arange(len(self.names)))

    def best_move(self, movable: np.ndarray) -> tuple[float, tuple[int, ...]]:
        """(gain, move): the single move (i, to) or swap (i, j) that most reduces the total excess."""
        ex = self.excess()
        best: tuple[float, tuple[int, ...]] = (1e-12, ())
        for a in range(len(self.names)):
            mine = np.flatnonzero((self.owner == a) & movable)
            if not len(mine):
                continue
            amt = self.a[mine]
            for b in range(len(self.names)):
                if b == a or ex[a] + ex[b] <= 0:  # only pairs with a collector outside its band
                    continue
                base = ex[a] + ex[b]
                if self.n[b] < self.caps[b]:  # move one of a's customers to b
                    new = (self._excess(self.m[a] - amt, self.n[a] - 1, a)
                           + self._excess(self.m[b] + amt, self.n[b] + 1, b))
                    j = int(np.argmax(base - new))
                    if base - new[j] > best[0] + 1e-12:
                        best = (float(base - new[j]), (int(mine[j]), b))
                theirs = np.flatnonzero((self.owner == b) & movable)
                if len(theirs):  # swap one of a's with one of b's (counts unchanged)
                    d = amt[:, None] - self.a[theirs][None, :]
                    new = (self._excess(self.m[a] - d, self.n[a], a) + self._excess(self.m[b] + d, self.n[b], b))
                    flat = int(np.argmax(base - new))
                    gain = float((base - new).ravel()[flat])
                    if gain > best[0] + 1e-12:
                        x, y = np.unravel_index(flat, new.shape)
                        best = (gain, (int(mine[x]), -1 - int(theirs[y])))
        return best


def _assign_pool(ids: list[str], amounts: np.ndarray, prev: list[str], names: list[str], caps: np.ndarray,
                 tol: float) -> tuple[list[str], list[str], list[str]]:
    """(collector, status, note) per customer of one pool; ``ids`` in worklist rank order."""
    n = len(ids)
    status = ["new"] * n
    note = [""] * n
    col = {c: k for k, c in enumerate(names)}
    total_cap = caps.sum() if np.isfinite(caps).all() else np.inf
    inside = np.arange(n) < total_cap  # lowest priority beyond the team's capacity stay out
    pool = _Pool(names, caps, np.where(inside, amounts, 0.0)[inside], tol) if inside.any() else None
    out = [""] * n
    if pool is None:
        return out, ["unassigned"] * n, ["no collector covers this customer"] * n
    idx = np.flatnonzero(inside)
    # 3. keep previous collectors, highest priority first, within capacity
    for pos, i in enumerate(idx):
        k = col.get(prev[i], -1)
        if prev[i] and k < 0:
            status[i], note[i] = "reassigned", f"previous collector {prev[i]} is not available"
        elif k >= 0 and pool.n[k] < caps[k]:
            pool.put(pos, k)
            status[i] = "kept"
        elif k >= 0:
            status[i], note[i] = "reassigned", f"previous collector {prev[i]} is at capacity"
    # 4. the others, largest amount first
    todo = [pos for pos in range(len(idx)) if pool.owner[pos] < 0]
    todo.sort(key=lambda pos: (-pool.a[pos], pos))
    for pos in todo:
        room = np.flatnonzero(pool.n < caps)
        with np.errstate(invalid="ignore", divide="ignore"):
            lm = np.where(pool.tm[room] > 0, (pool.m[room] + pool.a[pos]) / pool.tm[room], 0.0)
            ln = np.where(pool.tn[room] > 0, (pool.n[room] + 1) / pool.tn[room], 0.0)
        load = np.maximum(lm, ln)
        k = int(room[np.lexsort((np.array([names[r] for r in room]), load))[0]])
        pool.put(pos, k)
    # 5. balance: new customers first, then kept ones
    kept_mask = np.array([status[i] == "kept" for i in idx])
    for movable in (~kept_mask, np.ones(len(idx), bool)):
        for _ in range(10 * len(idx) + 10):
            gain, move = pool.best_move(movable)
            if not move:
                break
            mover, to = move
            if to >= 0:
                pool.put(mover, to)
            else:
                j = -1 - to
                ki, kj = pool.owner[mover], pool.owner[j]
                pool.put(mover, kj)
                pool.put(j, ki)
    for pos, i in enumerate(idx):
        out[i] = names[pool.owner[pos]]
        if status[i] == "kept" and prev[i] != out[i]:
            status[i], note[i] = "reassigned", f"moved from {prev[i]} to balance the workload"
        elif status[i] == "new" and prev[i]:
            status[i] = "reassigned"
    for i in np.flatnonzero(~inside):
        status[i], note[i] = "unassigned", "beyond the collectors' capacity (lowest priority)"
    return out, status, note


def assign_collectors(lines: pd.DataFrame, collectors: pd.DataFrame, previous: pd.DataFrame | None,
                      tolerance: float, amount_column: str = "amount_to_collect") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(assignment, summary) for the worklist ``lines`` (ranked; ``customer_id``, ``portfolio``, the amount and
    ``expected_loss``) and ``collectors`` (``collector``, ``capacity``, ``portfolio``; see
    :func:`riskml.collect.inputs.read_collectors`), following the module docstring.

    The assignment has :data:`ASSIGNMENT_COLUMNS` in the order of ``lines``; the summary one row per collector
    (:data:`SUMMARY_COLUMNS`)."""
    ids = lines["customer_id"].astype("str").tolist()
    prev_map = {} if previous is None else dict(zip(previous["customer_id"].astype("str"),
                                                    previous["collector"].astype("str"), strict=True))
    seg = lines["portfolio"].astype("str").fillna("").tolist() if "portfolio" in lines else [""] * len(ids)
    special = {p for p in collectors["portfolio"].astype("str") if p}
    pool_of = [s if s in special else "" for s in seg]
    amounts = np.nan_to_num(lines[amount_column].to_numpy("float64"), nan=0.0)
    collector = [""] * len(ids)
    status = ["unassigned"] * len(ids)
    note = [""] * len(ids)
    for key in sorted(set(pool_of)):
        rows = [i for i, p in enumerate(pool_of) if p == key]
        members = collectors.loc[collectors["portfolio"].astype("str") == key].sort_values("collector", kind="stable")
        if not len(members):
            for i in rows:
                note[i] = "no collector without a portfolio to take customers outside the portfolios"
            continue
        names = members["collector"].astype("str").tolist()
        caps = members["capacity"].to_numpy("float64")
        c, s, nt = _assign_pool([ids[i] for i in rows], amounts[rows], [prev_map.get(ids[i], "") for i in rows],
                                names, caps, tolerance)
        for j, i in enumerate(rows):
            collector[i], status[i], note[i] = c[j], s[j], nt[j]
    assignment = pd.DataFrame({"customer_id": ids, "collector": collector, "assignment_status": status,
                               "assignment_note": note})
    return assignment, summarise_assignment(lines, assignment, collectors, tolerance, amount_column)


def summarise_assignment(lines: pd.DataFrame, assignment: pd.DataFrame, collectors: pd.DataFrame, tolerance: float,
                         amount_column: str = "amount_to_collect") -> pd.DataFrame:
    """One row per collector: load, target, relative deviations and whether both lie within the tolerance."""
    df = lines[["customer_id", amount_column, "expected_loss"]].merge(assignment, on="customer_id")
    rows = []
    for key, members in collectors.groupby(collectors["portfolio"].astype("str"), sort=True):
        names = members["collector"].astype("str").tolist()
        share = _weights(members["capacity"].to_numpy("float64"))
        pool = df.loc[df["collector"].isin(names)]
        for name, cap, w in zip(names, members["capacity"].to_numpy("float64"), share, strict=True):
            mine = pool.loc[pool["collector"] == name]
            ta, tm = w * len(pool), w * pool[amount_column].sum()
            da = len(mine) / ta - 1.0 if ta > 0 else 0.0
            dm = mine[amount_column].sum() / tm - 1.0 if tm > 0 else 0.0
            rows.append({
                "collector": name, "portfolio": key, "capacity": cap, "accounts": len(mine),
                "amount_to_collect": float(mine[amount_column].sum()), "expected_loss": float(mine["expected_loss"].sum()),
                "target_accounts": ta, "target_amount": tm, "accounts_deviation": da, "amount_deviation": dm,
                "within_tolerance": bool(abs(da) <= tolerance + 1e-9 and abs(dm) <= tolerance + 1e-9),
                "kept": int((mine["assignment_status"] == "kept").sum()),
                "new": int((mine["assignment_status"] == "new").sum()),
                "reassigned": int((mine["assignment_status"] == "reassigned").sum()),
            })
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
