"""Headless Chromium: print a report to PDF, read the rendered DOM, take a screenshot.

Chromium is a system package (Debian's ``chromium``, installed by ``make test``'s set-up), not a Python
dependency: PDF output is available when a Chromium binary is found and refused with a clear message
otherwise. Every call uses a fresh temporary profile and no network features.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from riskml.errors import RiskmlError
from riskml.io import atomic_path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars",
)
TIMEOUT_S = 120


class BrowserError(RiskmlError):
    """No Chromium binary, or Chromium failed on a page."""


def find_chromium() -> str | None:
    """Path of a Chromium binary (``RISKML_CHROMIUM`` first, then the usual names on PATH), or None."""
    env = os.environ.get("RISKML_CHROMIUM")
    if env and Path(env).exists():
        return env
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args: list[str], what: str) -> subprocess.CompletedProcess[str]:
    binary = find_chromium()
    if binary is None:
        raise BrowserError(
            f"{what}: no Chromium found (tried {', '.join(CANDIDATES)} and $RISKML_CHROMIUM); install Debian's "
            "`chromium` package, or open the HTML report in a browser and print it to PDF"
        )
    with tempfile.TemporaryDirectory(prefix="riskml-chromium-") as profile:
        cmd = [binary, *FLAGS, f"--user-data-dir={profile}", *args]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise BrowserError(f"{what}: Chromium did not finish within {TIMEOUT_S} s") from None
    if res.returncode != 0:
        tail = (res.stderr or "").strip().splitlines()[-3:]
        raise BrowserError(f"{what}: Chromium exited with code {res.returncode}: {' | '.join(tail)}")
    return res


def print_pdf(html_path: str | Path, pdf_path: str | Path) -> Path:
    """Print an HTML file to PDF (A4, the page's print CSS), written atomically."""
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    with atomic_path(pdf_path) as tmp:
        _run(["--no-pdf-header-footer", f"--print-to-pdf={tmp}", html_path.as_uri()], f"{pdf_path}")
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise BrowserError(f"{pdf_path}: Chromium wrote no PDF")
    return pdf_path


def dump_dom(html_path: str | Path) -> str:
    """The DOM after Chromium rendered the page (as HTML text)."""
    return _run(["--dump-dom", Path(html_path).resolve().as_uri()], f"{html_path}").stdout


def screenshot(html_path: str | Path, png_path: str | Path, width: int = 1200, height: int = 3000) -> Path:
    """A PNG screenshot of the rendered page."""
    png_path = Path(png_path).resolve()
    _run([f"--screenshot={png_path}", f"--window-size={width},{height}", Path(html_path).resolve().as_uri()],
         f"{html_path}")
    if not png_path.exists():
        raise BrowserError(f"{png_path}: Chromium wrote no screenshot")
    return png_path
