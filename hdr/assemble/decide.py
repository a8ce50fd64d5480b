"""From glyph probabilities to a field confidence and a status; from fields to a page status.

A field's confidence estimates the chance that its *value* is right: the product, over its
glyphs, of the probability mass of the labels that would give the same value (a ``,`` read as
``.`` between groups changes nothing; a ``1`` that might be the ``/`` of ``/-`` does), times a
segmentation score (lowered for every touching pair that had to be cut). A field is accepted only
with a value, a confidence over the threshold, every glyph over ``min_glyph_prob``, and no flag
other than the informational ones; anything else goes to a person.

>>> from hdr.config import DecisionConfig
>>> decide_field("amount", "12.50", 0.995, (), 0.99, DecisionConfig())
(<Status.ACCEPTED: 'accepted'>, ())
>>> decide_field("amount", "12.50", 0.80, (), 0.99, DecisionConfig())
(<Status.REVIEW: 'review'>, ('low_confidence',))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import numpy as np

from hdr.classify.labels import LABELS, REJECT
from hdr.config import DecisionConfig, PipelineConfig
from hdr.errors import ReasonCode
from hdr.types import FieldResult, Status

MIN_ALTERNATIVE = 1e-4  # labels less likely than this are not worth re-parsing
INVALID_WEIGHT = 0.1  # weight of labels that would leave no valid value (see same_value_probs)


def same_value_probs(
    labels: Sequence[str],
    probs: np.ndarray,
    value: str | None,
    parse: Callable[[list[str]], str | None],
    invalid_weight: float = INVALID_WEIGHT,
) -> list[float]:
    """Per glyph: the chance that its true label gives the same ``value`` as the one read.

    ``probs`` is N x len(LABELS); ``parse`` maps labels to a value (or None). Labels that would
    make the field unreadable count ``invalid_weight`` times their probability against the value
    (the writer meant a valid amount, but may have written something we do not read), except the
    reject class, which always counts in full: a letter among digits must never look sure.
    """
    out: list[float] = []
    chosen = list(labels)
    for i, label in enumerate(chosen):
        row = probs[i]
        same = float(row[LABELS.index(label)]) if label in LABELS else 0.0
        other = 0.0
        for k in np.nonzero(row >= MIN_ALTERNATIVE)[0]:
            alt = LABELS[int(k)]
            if alt == label:
                continue
            trial = [*chosen[:i], alt, *chosen[i + 1 :]]
            got = parse(trial)
            if value is not None and got == value:
                same += float(row[k])
            elif got is None and alt != REJECT:
                other += invalid_weight * float(row[k])
            else:
                other += float(row[k])
        out.append(min(1.0, same / max(same + other, 1e-12)))
    return out


def field_confidence(glyph_probs: Sequence[float], seg_score: float = 1.0) -> float:
    """Product of the glyphs' probabilities times the segmentation score (0 for no glyph)."""
    if not glyph_probs:
        return 0.0
    return float(np.prod(np.asarray(glyph_probs, np.float64)) * seg_score)


def threshold_for(name: str, cfg: DecisionConfig) -> float:
    return cfg.accept_account if name == "account" else cfg.accept_amount


def blocking(flags: Sequence[str], cfg: DecisionConfig) -> list[str]:
    """The flags that need a person (all but ``cfg.informational_flags``)."""
    return [f for f in flags if f not in cfg.informational_flags]


def decide_field(
    name: str,
    value: str | None,
    confidence: float,
    flags: Sequence[str],
    min_prob: float,
    cfg: DecisionConfig,
) -> tuple[Status, tuple[str, ...]]:
    """Status of one field and its flags (``low_confidence`` added when it applies).

    ``min_prob`` is the lowest probability among the field's glyphs.
    """
    out = list(dict.fromkeys(flags))
    if value is not None and (
        confidence < threshold_for(name, cfg) or min_prob < cfg.min_glyph_prob
    ):
        out.append("low_confidence")
    if value is None and not blocking(out, cfg):
        out.append("no_value")
    status = Status.ACCEPTED if value is not None and not blocking(out, cfg) else Status.REVIEW
    return status, tuple(out)


class LayoutLike(Protocol):
    """What the decision reads from :class:`hdr.fields.locate.Layout`."""

    @property
    def crops(self) -> Mapping[str, object]: ...

    @property
    def is_document(self) -> bool: ...

    @property
    def flags(self) -> tuple[str, ...]: ...


def decide_page(
    layout: LayoutLike,
    fields: Mapping[str, FieldResult],
    page_flags: Sequence[str],
    cfg: PipelineConfig,
) -> tuple[Status, tuple[str, ...]]:
    """Page status and the reasons that explain it.

    ``rejected`` when the page is not a bank document; ``accepted`` only when every field read
    is accepted, every required field (``decision.required_fields``) was found and read, and no
    quality or blocking layout flag is set; ``review`` otherwise.
    """
    if not layout.is_document:
        return Status.REJECTED, tuple(layout.flags) or (ReasonCode.NOT_A_DOCUMENT.value,)
    not_found = ReasonCode.FIELD_NOT_FOUND.value
    required = cfg.decision.required_fields

    def needed(flag: str) -> bool:
        """False for ``field_not_found:<name>`` of a field the page does not require."""
        kind, _, name = flag.partition(":")
        return kind != not_found or not name or name in required

    reasons: list[str] = []
    reasons += blocking(page_flags, cfg.decision)  # quality_* flags and the like
    reasons += [f for f in blocking(layout.flags, cfg.decision) if needed(f)]
    for name in layout.crops:
        if name not in fields and name in required:
            reasons.append(f"{not_found}:{name}")
    if not fields and not layout.crops:
        reasons.append(not_found)
    for name, result in fields.items():
        if result.status is not Status.ACCEPTED:
            problems = blocking(result.flags, cfg.decision) or [result.status.value]
            reasons += [f"{name}:{flag}" for flag in problems]
    unique = tuple(dict.fromkeys(reasons))
    return (Status.REVIEW if unique else Status.ACCEPTED), unique
