"""Layouts the reading pipeline has no template for, to measure the generic field locator.

They live here, not in ``configs/templates/``, on purpose: the pipeline loads that folder, and
these must stay unknown to it. Their names start with ``unseen_`` so results split cleanly.

>>> from hdr.synth.unseen import UNSEEN_TEMPLATES
>>> sorted(t.name for t in UNSEEN_TEMPLATES)
['unseen_bottom_amount', 'unseen_tall_slip', 'unseen_underlined']
"""

from __future__ import annotations

from typing import Any

from hdr.fields.templates import Template


def _t(**data: Any) -> Template:
    return Template.model_validate(data)


def _a(kind: str, name: str, box: list[float], **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "name": name, "box": box, **extra}


UNSEEN_TEMPLATES: tuple[Template, ...] = (
    # amount box low on the left above the code line; account row at the top right
    _t(
        name="unseen_bottom_amount",
        kind="cheque",
        currency="₹",
        description="cheque with the amount box bottom left and the account row top right",
        page={"width_mm": 200, "height_mm": 88},
        amount_styles=["plain", "indian", "slash_dash", "currency"],
        style={"background": "waves", "tint": [240, 232, 246]},
        fields={
            "amount": {"box": [0.085, 0.635, 0.385, 0.785], "boxed": True},
            "account": {"box": [0.50, 0.05, 0.97, 0.15], "cells": 15, "length": [9, 15]},
        },
        anchors=[
            _a("text", "account_label", [0.36, 0.07, 0.49, 0.13], text="SB A/c"),
            _a("cells", "account_cells", [0.50, 0.05, 0.97, 0.15], cells=15),
            _a("text", "bank", [0.03, 0.20, 0.50, 0.30], text="{bank}"),
            _a("text", "pay_label", [0.03, 0.36, 0.10, 0.42], text="Pay to"),
            _a("line", "payee_line", [0.11, 0.42, 0.96, 0.425]),
            _a("line", "words_line", [0.03, 0.54, 0.96, 0.545]),
            _a("rect", "amount_box", [0.05, 0.62, 0.39, 0.80]),
            _a("text", "amount_mark", [0.055, 0.65, 0.082, 0.77], text="₹"),
            _a("line", "signature_line", [0.60, 0.78, 0.96, 0.785]),
            _a("micr", "micr", [0.10, 0.87, 0.90, 0.96], text="{micr}"),
        ],
    ),
    # no amount rectangle at all: the amount is written on a short underline
    _t(
        name="unseen_underlined",
        kind="cheque",
        currency="$",
        description="cheque whose amount sits on an underline, no printed box",
        page={"width_mm": 160, "height_mm": 72},
        amount_styles=["plain", "grouped", "cents", "filler"],
        style={"background": "guilloche", "tint": [250, 240, 226]},
        fields={
            "amount": {"box": [0.70, 0.40, 0.96, 0.55], "boxed": False},
            "account": {"box": [0.05, 0.62, 0.45, 0.74], "cells": 10, "length": [8, 10]},
        },
        anchors=[
            _a("text", "bank", [0.05, 0.05, 0.55, 0.16], text="{bank}"),
            _a("text", "number", [0.85, 0.05, 0.96, 0.12], text="{number}"),
            _a("text", "pay_label", [0.05, 0.26, 0.20, 0.33], text="Pay to the order of"),
            _a("line", "payee_line", [0.21, 0.33, 0.96, 0.335]),
            _a("text", "amount_label", [0.56, 0.44, 0.69, 0.52], text="Amount $"),
            _a("line", "amount_line", [0.70, 0.55, 0.96, 0.556]),
            _a("cells", "account_cells", [0.05, 0.62, 0.45, 0.74], cells=10),
            _a("line", "signature_line", [0.58, 0.78, 0.96, 0.785]),
            _a("micr", "micr", [0.05, 0.87, 0.75, 0.96], text="{micr}"),
        ],
    ),
    # a tall slip: big amount box in the middle, account row near the top
    _t(
        name="unseen_tall_slip",
        kind="deposit_slip",
        currency="€",
        decimal_mark=",",
        description="narrow portrait deposit slip",
        page={"width_mm": 105, "height_mm": 148},
        amount_styles=["plain", "grouped", "cents"],
        style={"background": "lines", "tint": [238, 246, 238]},
        fields={
            "amount": {"box": [0.32, 0.505, 0.93, 0.595], "boxed": True},
            "account": {"box": [0.06, 0.23, 0.94, 0.31], "cells": 12, "length": [10, 12]},
        },
        anchors=[
            _a("text", "bank", [0.06, 0.03, 0.94, 0.09], text="{bank}"),
            _a("text", "title", [0.06, 0.11, 0.70, 0.16], text="PAYING-IN"),
            _a("text", "account_label", [0.06, 0.18, 0.50, 0.22], text="Account"),
            _a("cells", "account_cells", [0.06, 0.23, 0.94, 0.31], cells=12),
            _a("text", "holder_label", [0.06, 0.36, 0.40, 0.40], text="Name"),
            _a("line", "holder_line", [0.06, 0.45, 0.94, 0.453]),
            _a("text", "amount_label", [0.06, 0.52, 0.30, 0.58], text="EUR"),
            _a("rect", "amount_box", [0.31, 0.50, 0.94, 0.60]),
            _a("text", "date_label", [0.06, 0.68, 0.25, 0.72], text="Date"),
            _a("line", "date_line", [0.27, 0.72, 0.94, 0.723]),
            _a("line", "signature_line", [0.27, 0.84, 0.94, 0.843]),
        ],
    ),
)
