"""Document layout templates: where the handwritten fields and the printed landmarks are.

A template describes one printed layout of a bank document (a cheque or a deposit slip). Every
position is *relative*: a box is ``[x0, y0, x1, y1]`` in fractions (0..1) of the page width and
height, origin top-left, so one template serves any scan resolution. Templates are YAML files in
``configs/templates/`` (one layout per file, the file stem equals ``name``); they are validated
once, on load, and a bad file stops with a :class:`hdr.errors.ConfigError` naming the file.

Used by two sides: the reading pipeline (``hdr.fields.locate``) matches a page to a template
through its ``anchors`` and crops ``fields`` from the boxes; the generator (``hdr.synth``) draws
documents from the same file, so what is read is what was drawn.

Schema, with a (shortened) example::

    name: in_cts2010              # slug, equals the file stem
    kind: cheque                  # cheque | deposit_slip
    description: Indian CTS-2010 cheque
    page: {width_mm: 202, height_mm: 92}
    currency: "₹"                 # printed currency mark: "₹" | "$" | "€" | null
    decimal_mark: "."             # how cents are written here: "." or ","
    amount_styles: [plain, indian, slash_dash, cents, currency, filler]
    style: {background: guilloche, tint: [226, 236, 248]}
    fields:
      amount:                     # the handwritten courtesy amount
        box: [0.748, 0.365, 0.968, 0.495]
        boxed: true               # written inside a printed rectangle (anchor "amount_box")
      account:                    # the handwritten account number, one digit per cell
        box: [0.12, 0.59, 0.56, 0.68]
        cells: 16                 # printed cells, equal widths, left to right
        length: [9, 16]           # how many digits a valid number has
    anchors:                      # printed features usable to recognise and register the page
      - {kind: rect, name: amount_box, box: [0.72, 0.36, 0.97, 0.50]}
      - {kind: cells, name: account_cells, box: [0.12, 0.59, 0.56, 0.68], cells: 16}
      - {kind: text, name: amount_mark, box: [0.722, 0.37, 0.745, 0.49], text: "₹"}
      - {kind: text, name: bank, box: [0.03, 0.04, 0.45, 0.14], text: "{bank}"}
      - {kind: line, name: payee_line, box: [0.08, 0.30, 0.85, 0.305]}
      - {kind: micr, name: micr, box: [0.15, 0.86, 0.85, 0.95], text: "{micr}"}

Anchor kinds: ``rect`` (a printed rectangle), ``cells`` (a row of ``cells`` equal boxes),
``line`` (a printed rule; its box is thin), ``text`` (printed text; text holding ``{...}`` is
variable, e.g. the bank name, any other text is printed verbatim), ``micr`` (the machine-readable
code line at the bottom). By convention the amount rectangle is named ``amount_box`` and the
account cell row ``account_cells``.

>>> from hdr.fields.templates import load_templates
>>> t = {x.name: x for x in load_templates()}["in_cts2010"]
>>> t.to_pixels(t.fields.amount.box, 1600, 729)
(1197, 266, 1549, 361)
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hdr.errors import ConfigError, ReasonCode

RelBox = tuple[float, float, float, float]
AMOUNT_STYLES = ("plain", "grouped", "indian", "cents", "slash_dash", "currency", "filler")
BACKGROUNDS = ("plain", "guilloche", "waves", "dots", "lines")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_box(box: RelBox) -> RelBox:
    x0, y0, x1, y1 = box
    if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
        raise ValueError(f"box {list(box)} must satisfy 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1")
    return box


def _overlap(a: RelBox, b: RelBox) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class PageSize(_Strict):
    width_mm: float = Field(gt=20, lt=600)
    height_mm: float = Field(gt=20, lt=600)

    @property
    def aspect(self) -> float:
        """Width over height."""
        return self.width_mm / self.height_mm


class AmountField(_Strict):
    box: RelBox
    boxed: bool = True

    _box = field_validator("box")(_check_box)


class AccountField(_Strict):
    box: RelBox
    cells: int = Field(ge=1, le=24)
    length: tuple[int, int] = (8, 16)

    _box = field_validator("box")(_check_box)

    @model_validator(mode="after")
    def _length_fits(self) -> AccountField:
        lo, hi = self.length
        if not 1 <= lo <= hi <= self.cells:
            raise ValueError(f"length {list(self.length)} must satisfy 1 <= min <= max <= cells")
        return self

    def cell_boxes(self) -> tuple[RelBox, ...]:
        """The relative box of every cell, left to right."""
        x0, y0, x1, y1 = self.box
        w = (x1 - x0) / self.cells
        return tuple((x0 + i * w, y0, x0 + (i + 1) * w, y1) for i in range(self.cells))


class Fields(_Strict):
    amount: AmountField
    account: AccountField

    @model_validator(mode="after")
    def _apart(self) -> Fields:
        if _overlap(self.amount.box, self.account.box):
            raise ValueError("the amount and account boxes overlap")
        return self


class Anchor(_Strict):
    kind: Literal["rect", "cells", "line", "text", "micr"]
    name: str = Field(min_length=1)
    box: RelBox
    text: str | None = None
    cells: int | None = Field(default=None, ge=1, le=64)

    _box = field_validator("box")(_check_box)

    @model_validator(mode="after")
    def _kind_needs(self) -> Anchor:
        if self.kind == "text" and not self.text:
            raise ValueError(f"text anchor {self.name!r} needs `text`")
        if self.kind == "cells" and self.cells is None:
            raise ValueError(f"cells anchor {self.name!r} needs `cells`")
        return self

    @property
    def variable(self) -> bool:
        """True for text that changes from document to document (``{bank}``, ``{micr}``...)."""
        return self.text is not None and "{" in self.text


class Style(_Strict):
    background: Literal["plain", "guilloche", "waves", "dots", "lines"] = "plain"
    tint: tuple[int, int, int] = (245, 245, 240)

    @field_validator("tint")
    @classmethod
    def _rgb(cls, tint: tuple[int, int, int]) -> tuple[int, int, int]:
        if not all(0 <= c <= 255 for c in tint):
            raise ValueError("tint components must be 0..255")
        return tint


class Template(_Strict):
    """One printed layout; see the module docstring for the schema."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    kind: Literal["cheque", "deposit_slip"]
    description: str = ""
    page: PageSize
    currency: Literal["₹", "$", "€"] | None = None
    decimal_mark: Literal[".", ","] = "."
    amount_styles: tuple[str, ...] = ("plain", "grouped", "cents")
    style: Style = Style()
    fields: Fields
    anchors: tuple[Anchor, ...] = ()

    @field_validator("amount_styles")
    @classmethod
    def _known_styles(cls, styles: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in styles if s not in AMOUNT_STYLES]
        if unknown or not styles:
            raise ValueError(f"amount_styles must be a non-empty subset of {list(AMOUNT_STYLES)}")
        return styles

    @model_validator(mode="after")
    def _unique_anchor_names(self) -> Template:
        names = [a.name for a in self.anchors]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"anchor names repeat: {dupes}")
        return self

    @property
    def aspect(self) -> float:
        return self.page.aspect

    def anchor(self, name: str) -> Anchor | None:
        return next((a for a in self.anchors if a.name == name), None)

    @staticmethod
    def to_pixels(box: RelBox, width: int, height: int) -> tuple[int, int, int, int]:
        """A relative box in pixels of a ``width`` x ``height`` page (rounded to the nearest)."""
        x0, y0, x1, y1 = box
        return (round(x0 * width), round(y0 * height), round(x1 * width), round(y1 * height))


def parse_template(data: object, source: str) -> Template:
    """Validate one template mapping; ConfigError("<source>: <where>: <what>") when it is bad."""
    try:
        return Template.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        msg = first["msg"].removeprefix("Value error, ")
        raise ConfigError(
            ReasonCode.CONFIG_INVALID,
            f"{source}: {where}: {msg}",
            "see the schema in hdr/fields/templates.py",
        ) from exc


def load_template(path: Path) -> Template:
    """Load and validate one template file."""
    from hdr.config import load_yaml

    template = parse_template(load_yaml(path), str(path))
    if template.name != path.stem:
        raise ConfigError(
            ReasonCode.CONFIG_INVALID,
            f"{path}: name: {template.name!r} differs from the file name {path.stem!r}",
        )
    return template


def load_templates(dir: Path | str | None = None) -> list[Template]:
    """Every ``*.yaml`` template in ``dir`` (default: configs/templates), sorted by name.

    >>> [t.name for t in load_templates()][:2]
    ['eu_cheque', 'eu_deposit_slip']
    """
    from hdr.config import TEMPLATES_DIR

    folder = Path(dir) if dir is not None else TEMPLATES_DIR
    if not folder.is_dir():
        raise ConfigError(ReasonCode.CONFIG_INVALID, f"{folder}: templates folder not found")
    templates = [load_template(p) for p in sorted(folder.glob("*.yaml"))]
    return sorted(templates, key=lambda t: t.name)
