"""Every shipped template parses and validates; a bad file stops with a ConfigError naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hdr.config import TEMPLATES_DIR
from hdr.errors import ConfigError, ReasonCode
from hdr.fields.templates import Template, load_template, load_templates

SHIPPED = sorted(TEMPLATES_DIR.glob("*.yaml"))


def test_shipped_templates_cover_both_kinds_and_currencies() -> None:
    templates = load_templates()
    assert len(templates) == len(SHIPPED) >= 5
    assert {t.kind for t in templates} == {"cheque", "deposit_slip"}
    assert {"₹", "$", "€"} <= {t.currency for t in templates}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_template_is_consistent(path: Path) -> None:
    t = load_template(path)
    assert t.name == path.stem
    # the account field is the printed cell row, the amount field lies inside the amount box
    cells = t.anchor("account_cells")
    assert cells is not None and cells.box == t.fields.account.box
    assert cells.cells == t.fields.account.cells
    rect = t.anchor("amount_box")
    assert rect is not None and t.fields.amount.boxed
    ax0, ay0, ax1, ay1 = t.fields.amount.box
    assert rect.box[0] <= ax0 < ax1 <= rect.box[2] and rect.box[1] <= ay0 < ay1 <= rect.box[3]
    # cells split the row evenly
    boxes = t.fields.account.cell_boxes()
    assert len(boxes) == t.fields.account.cells
    assert boxes[0][0] == pytest.approx(t.fields.account.box[0])
    assert boxes[-1][2] == pytest.approx(t.fields.account.box[2])


def test_to_pixels_scales_with_dpi() -> None:
    t = load_template(TEMPLATES_DIR / "in_cts2010.yaml")
    small = t.to_pixels(t.fields.amount.box, 800, 364)
    large = t.to_pixels(t.fields.amount.box, 1600, 728)
    assert all(abs(2 * s - big) <= 2 for s, big in zip(small, large, strict=True))


def _write(tmp_path: Path, data: dict, name: str = "in_cts2010") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _good() -> dict:
    return yaml.safe_load((TEMPLATES_DIR / "in_cts2010.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("mutate", "where", "what"),
    [
        (
            lambda d: d["fields"]["amount"].update(box=[0.9, 0.4, 0.8, 0.5]),
            "fields.amount.box",
            "x0 < x1",
        ),
        (lambda d: d["fields"]["account"].update(length=[9, 20]), "fields.account", "<= cells"),
        (lambda d: d.update(kind="letter"), "kind", "cheque"),
        (lambda d: d.update(colour="red"), "colour", "Extra inputs"),
        (lambda d: d["anchors"].append(dict(d["anchors"][0])), "(top level)", "repeat"),
        (
            lambda d: d["fields"]["account"].update(box=d["fields"]["amount"]["box"]),
            "fields",
            "overlap",
        ),
    ],
)
def test_bad_template_names_file_and_place(tmp_path: Path, mutate, where: str, what: str) -> None:
    data = _good()
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_templates(tmp_path)
    err = info.value
    assert err.code is ReasonCode.CONFIG_INVALID
    assert err.message.startswith(f"{path}: {where}: ")
    assert what in err.message


def test_name_must_match_file(tmp_path: Path) -> None:
    path = _write(tmp_path, _good(), name="renamed")
    with pytest.raises(ConfigError, match=r"renamed\.yaml: name:"):
        load_template(path)


def test_invalid_yaml_and_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.yaml: not valid YAML"):
        load_templates(tmp_path)
    with pytest.raises(ConfigError, match="templates folder not found"):
        load_templates(tmp_path / "nowhere")


def test_template_is_frozen() -> None:
    t = load_templates()[0]
    with pytest.raises(ValueError):
        t.name = "other"  # type: ignore[misc]
    assert isinstance(t, Template)
