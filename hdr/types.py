"""The values that flow from stage to stage: file -> pages -> field crops -> glyphs -> results.

All frozen dataclasses; images are numpy arrays (uint8, grayscale unless said otherwise).
Boxes are ``(x0, y0, x1, y1)`` in pixels of the page they come from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

Box = tuple[int, int, int, int]


class Status(str, Enum):
    """Decision for a field, a page or a document."""

    ACCEPTED = "accepted"  # every field sure: no person needs to look
    REVIEW = "review"  # readable, but a person must check at least one field
    REJECTED = "rejected"  # read, but not a bank document we can read
    ERROR = "error"  # could not be read at all (reason code says why)


class FieldName(str, Enum):
    AMOUNT = "amount"
    ACCOUNT = "account"


@dataclass(frozen=True)
class Page:
    """One rasterised page, as decoded (colour or gray)."""

    index: int  # 0-based page number in the source
    image: np.ndarray  # HxW uint8 gray or HxWx3 uint8 BGR
    dpi: int | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldCrop:
    """A located field on a preprocessed page."""

    name: str  # "amount" | "account"
    image: np.ndarray  # gray uint8 crop, dark ink on light paper
    box: Box  # in page pixels
    located_by: str  # "template:<name>", "generic", "given" (--field mode)
    cells: tuple[Box, ...] = ()  # account cell boxes relative to the crop, when known
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Glyph:
    """One segmented symbol of a field."""

    image: np.ndarray  # 28x28 float32 in [0, 1], white ink on black (MNIST convention)
    box: Box  # in field-crop pixels
    split: bool = False  # came from splitting a touching component
    cell: int | None = None  # account cell index


@dataclass(frozen=True)
class GlyphResult:
    """A glyph after classification."""

    box: Box
    label: str  # from hdr.classify.labels.LABELS
    prob: float  # calibrated probability of `label`
    topk: tuple[tuple[str, float], ...]  # best classes first
    split: bool = False
    cell: int | None = None
    # the 28 x 28 float32 image the classifier was given (training data is harvested from it);
    # not part of equality or of any stored record
    image: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class FieldResult:
    name: str
    value: str | None  # amount "1250.00", account "0012345678", or None
    confidence: float  # 0..1
    status: Status
    flags: tuple[str, ...] = ()
    box: Box | None = None
    located_by: str | None = None
    glyphs: tuple[GlyphResult, ...] = ()
    raw_text: str = ""  # the glyph labels as read, before the grammar
    crop_png: bytes | None = None  # the field crop, so a reviewer needs no access to the file
    # the line reader's second opinion (hdr.classify.lines), when one is configured: its labels
    # as read ("?" for a reject) and their path probability
    line_text: str | None = None
    line_confidence: float | None = None


@dataclass(frozen=True)
class PageResult:
    index: int
    status: Status
    fields: dict[str, FieldResult] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()  # reason codes and flags that explain the status
    layout: str | None = None  # template name or "generic"
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class DocumentResult:
    """What `hdr.pipeline.read_document` returns for one input file."""

    source: str
    sha256: str | None  # None only when the file could not be read at all
    media_type: str | None
    status: Status  # worst page status; `error` when the file itself failed
    pages: tuple[PageResult, ...] = ()
    reason_code: str | None = None  # hdr.errors.ReasonCode value, for status error/rejected
    reason_message: str | None = None
    model_sha256: str | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
