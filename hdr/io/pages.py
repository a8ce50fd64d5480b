"""What the loaders yield besides pages: a page that failed on its own, and the time budget."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from hdr.errors import InputError, ReasonCode


@dataclass(frozen=True)
class PageError:
    """One page of a document that could not be loaded; the other pages are still read."""

    index: int
    error: InputError


@dataclass
class Deadline:
    """The per-document time budget, checked between stages.

    >>> d = Deadline(60.0, "cheque.pdf")
    >>> d.check("load")   # raises InputError(time_budget_exceeded) once 60 s have passed
    >>> d.remaining() > 59
    True
    """

    budget_s: float
    name: str
    start: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        return self.budget_s - (time.monotonic() - self.start)

    def check(self, stage: str) -> None:
        if self.remaining() < 0:
            raise self.exceeded(stage)

    def exceeded(self, stage: str) -> InputError:
        return InputError(
            ReasonCode.TIME_BUDGET_EXCEEDED,
            f"{self.name}: the time budget of {self.budget_s:g} s per document ran out during "
            f"{stage}",
            hint="raise limits.time_budget_s, or check the file (a very complex PDF?)",
        )
