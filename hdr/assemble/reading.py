"""What an assembly rule returns: a value (or None) and the flags that explain it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reading:
    """A field's value as assembled from its glyph labels.

    ``value`` is None whenever the labels do not make a valid value; ``flags`` say why, or warn
    about something that needs a person even though a value was found.
    """

    value: str | None
    flags: tuple[str, ...] = ()
