"""The Jinja2 environment of the pages, with the few filters they use."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates

WEB_DIR = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))


def _when(value: str | datetime | None) -> str:
    """``2026-11-25 02:13 UTC`` from an ISO string or a datetime."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _pct(value: float | None) -> str:
    """Rounded down: 0.996 is 99%, never a 100% the model did not give."""
    return "" if value is None else f"{math.floor(100 * value + 1e-9)}%"


templates.env.filters["when"] = _when
templates.env.filters["pct"] = _pct
