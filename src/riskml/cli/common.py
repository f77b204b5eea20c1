"""Helpers shared by the CLI commands: user errors to stderr with exit code 1, never a traceback."""

from __future__ import annotations

import contextlib
import functools
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from riskml.errors import RiskmlError

F = TypeVar("F", bound=Callable[..., Any])

# markup off: paths, ids, column names and config values are printed as they are (a header cell "[/]" or a
# folder "[final]" is text, not a Rich tag); the few styled lines pass markup=True and escape what they embed
console = Console(stderr=False, highlight=False, soft_wrap=True, markup=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


# a hostile file can make a message huge (100,000 column names in a header): what is printed is bounded
MAX_LINE_CHARS = 1_000
MAX_LINES = 100


def bounded_lines(message: str) -> list[str]:
    """``message`` as lines of at most :data:`MAX_LINE_CHARS`, at most :data:`MAX_LINES` of them."""
    lines = str(message).splitlines() or [str(message)]
    out = [line if len(line) <= MAX_LINE_CHARS else f"{line[:MAX_LINE_CHARS]}... ({len(line):,} characters)"
           for line in lines[:MAX_LINES]]
    if len(lines) > MAX_LINES:
        out.append(f"... and {len(lines) - MAX_LINES:,} more lines")
    return out


def fail(message: str) -> typer.Exit:
    """Print ``message`` (one line per problem) to stderr and return the exit to raise."""
    for line in bounded_lines(message):
        err_console.print(f"[bold red]error:[/] {escape(line)}", markup=True)
    return typer.Exit(code=1)


def warn(message: str) -> None:
    """Print a warning to stderr, as text, bounded like :func:`fail`."""
    for line in bounded_lines(message):
        err_console.print(f"warning: {line}")


# signals that stop a command like Ctrl-C does, so that it unwinds: temporaries are removed, an MLflow run
# is ended as FAILED (kill -9 cannot be caught: the next run cleans up after it)
STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise KeyboardInterrupt (main thread only; restored after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {}
    for sig in STOP_SIGNALS:
        try:
            old[sig] = signal.signal(sig, _interrupt)
        except (ValueError, OSError):
            continue
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def user_errors(func: F) -> F:
    """Turn :class:`RiskmlError` (and a missing optional extra) into a clean exit 1; SIGTERM/SIGHUP unwind
    like Ctrl-C (exit 130)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with signals_interrupt():
                return func(*args, **kwargs)
        except RiskmlError as exc:
            raise fail(str(exc)) from None
        except KeyboardInterrupt:
            err_console.print("interrupted; no output was written")
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value: str, option: str = "--as-of"):
    """A date option as a midnight Timestamp: ISO ``YYYY-MM-DD`` only (as the ledger's dates), so that
    ``10/09/2026`` is never read month-first, ``2026-09`` never becomes the 1st and ``today`` never
    reads the clock; anything else is a user error naming the option and the value."""
    import pandas as pd

    text = str(value).strip()
    if text.lower() in ("today", "now", "yesterday", "tomorrow"):
        raise RiskmlError(f"{option} must be a date like 2026-09-30; got {value!r} (riskml never reads the "
                          "clock: give the date)")
    ts = pd.NaT
    if _ISO_DATE.fullmatch(text):
        try:
            ts = pd.Timestamp(text)
        except (ValueError, TypeError):
            ts = pd.NaT
    if ts is pd.NaT or pd.isna(ts):
        raise RiskmlError(f"{option} must be a date like 2026-09-30; got {value!r} (ISO dates only: YYYY-MM-DD)")
    return ts.normalize()


def valid_dates(ledger, export_as_of: str | None = None):
    """(first, last) date an as-of may take on ``ledger``: its first invoice date, and its export date
    (the data config's ``as_of``, else the date of its last event)."""
    import pandas as pd

    first, last_event = ledger.date_range()
    last = pd.Timestamp(export_as_of).normalize() if export_as_of else pd.Timestamp(last_event).normalize()
    return pd.Timestamp(first).normalize(), last


def check_in_ledger(as_of, ledger, data=None, data_config=None, option: str = "--as-of",
                    allow_future: bool = False, export_as_of: str | None = None) -> None:
    """Refuse an as-of date before the ledger's first date, or after its export date unless
    ``allow_future``, with one line saying which dates are valid. The export date is ``export_as_of``,
    else the ``as_of`` of the data config of ``data`` / ``data_config``, else the last event."""
    import pandas as pd

    if export_as_of is None and data is not None:
        from riskml.data.validate import resolve_data_config

        export_as_of = resolve_data_config(data, data_config).as_of
    first, last = valid_dates(ledger, export_as_of)
    ts = pd.Timestamp(as_of).normalize()
    where = "the data config's as_of" if export_as_of else "the last event in the ledger"
    if ts < first:
        raise RiskmlError(f"{option} {ts.date()} is before the ledger's first invoice ({first.date()}); valid dates "
                          f"are {first.date()} to {last.date()} ({where})")
    if ts > last and not allow_future:
        raise RiskmlError(f"{option} {ts.date()} is after the ledger's export date {last.date()} ({where}); valid "
                          f"dates are {first.date()} to {last.date()}, or pass --allow-future if you mean a date "
                          "with no data yet")
