"""Preprocessing on pages drawn in the test: deskew, illumination, binarisation, quality flags."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from hdr.config import PipelineConfig, PreprocessConfig, load_pipeline_config
from hdr.preprocess import PreparedPage, prepare_page
from hdr.types import Page

CFG = PipelineConfig()


def _cheque(dpi: int = 300, *, background: bool = True) -> np.ndarray:
    """A cheque-sized BGR page: printed rules and text, a boxed handwritten-ish amount, and a
    light wavy security pattern in a bluish tint."""
    w, h = int(8.5 * dpi), int(3.6 * dpi)
    s = dpi / 300
    img = np.full((h, w, 3), (240, 235, 225), np.uint8)
    if background:
        yy, xx = np.mgrid[0:h, 0:w]
        img[np.sin(xx / (7.0 * s) + np.sin(yy / (11.0 * s)) * 3) > 0.6] = (215, 205, 190)
    thick = max(1, round(3 * s))
    for y in (0.2, 0.45, 0.7):
        cv2.line(img, (int(0.1 * w), int(y * h)), (int(0.9 * w), int(y * h)), (60, 60, 60), thick)
        org = (int(0.1 * w), int(y * h) - int(10 * s))
        cv2.putText(
            img, "PAY TO THE ORDER OF", org, cv2.FONT_HERSHEY_SIMPLEX, 1.5 * s, (30,) * 3, thick
        )
    cv2.rectangle(
        img, (int(0.7 * w), int(0.05 * h)), (int(0.95 * w), int(0.15 * h)), (50,) * 3, thick
    )
    org = (int(0.72 * w), int(0.13 * h))
    cv2.putText(img, "1250.00", org, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 2 * s, (140, 40, 20), 4)
    return img


def _rotated(img: np.ndarray, angle: float) -> np.ndarray:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(img, m, (w, h), borderValue=(255, 255, 255))


def _prepare(img: np.ndarray, dpi: int | None = 300) -> PreparedPage:
    return prepare_page(Page(index=0, image=img, dpi=dpi), CFG)


def _row_peakiness(ink: np.ndarray) -> float:
    rows = (ink > 0).sum(axis=1).astype(float)
    return float(rows.max() / max(rows.mean(), 1e-9))


def test_clean_page_has_no_flags_and_keeps_its_geometry() -> None:
    img = _cheque()
    prepared = _prepare(img)
    assert prepared.flags == ()
    assert prepared.gray.shape == prepared.ink.shape == img.shape[:2]
    assert prepared.gray.dtype == prepared.ink.dtype == np.uint8
    assert set(np.unique(prepared.ink)) <= {0, 255}
    assert prepared.dpi == 300 and prepared.skew_deg == 0.0


@pytest.mark.parametrize("angle", [-12.0, -5.0, -2.5, 1.5, 4.0, 9.0, 14.5])
def test_deskew_recovers_a_known_rotation(angle: float) -> None:
    straight = _prepare(_cheque())
    prepared = _prepare(_rotated(_cheque(), angle))
    assert prepared.skew_deg == pytest.approx(angle, abs=0.2)
    # The printed rules are horizontal again: the row profile is as peaked as the straight page's.
    assert _row_peakiness(prepared.ink) > 0.7 * _row_peakiness(straight.ink)


def test_tiny_skew_is_left_alone() -> None:
    assert _prepare(_rotated(_cheque(), 0.1)).skew_deg == 0.0


def test_illumination_correction_flattens_a_shadow() -> None:
    img = _cheque(background=False)
    w = img.shape[1]
    shade = np.linspace(0.45, 1.0, w, dtype=np.float32)[None, :, None]  # dark left edge
    shaded = (img.astype(np.float32) * shade).astype(np.uint8)
    prepared = _prepare(shaded)
    paper = prepared.gray[prepared.ink == 0]
    assert np.percentile(paper, 5) > 200  # the shadow is gone from the paper
    left, right = prepared.ink[:, : w // 2], _prepare(img).ink[:, : w // 2]
    # the text under the shadow is still ink, about as much as without it
    assert 0.8 < np.count_nonzero(left) / np.count_nonzero(right) < 1.25


def test_security_background_is_not_ink() -> None:
    prepared = _prepare(_cheque(background=True))
    plain = _prepare(_cheque(background=False))
    h, w = prepared.ink.shape
    blank_band = prepared.ink[int(0.5 * h) : int(0.62 * h), int(0.1 * w) : int(0.9 * w)]
    assert np.count_nonzero(blank_band) / blank_band.size < 0.002  # the pattern is dropped
    # while the printed and written ink is the same as on plain paper
    assert abs(np.count_nonzero(prepared.ink) / np.count_nonzero(plain.ink) - 1) < 0.1


def test_too_dark_page_is_flagged() -> None:
    dark = (_cheque().astype(np.float32) * 0.2).astype(np.uint8)
    assert "quality_too_dark" in _prepare(dark).flags


def test_blank_or_washed_out_page_is_too_light() -> None:
    blank = np.full((1080, 2550), 250, np.uint8)
    assert "quality_too_light" in _prepare(blank).flags
    washed = np.clip(_cheque(background=False).astype(np.int16) + 215, 0, 255).astype(np.uint8)
    assert "quality_too_light" in _prepare(washed).flags


def test_blurred_page_is_flagged_and_a_sharp_one_is_not() -> None:
    img = _cheque()
    assert "quality_blurred" not in _prepare(cv2.GaussianBlur(img, (0, 0), 1.3)).flags
    assert "quality_blurred" in _prepare(cv2.GaussianBlur(img, (0, 0), 6)).flags


def test_low_resolution_page_is_too_small() -> None:
    assert "quality_too_small" in _prepare(_cheque(dpi=80), dpi=80).flags
    assert "quality_too_small" not in _prepare(_cheque(dpi=150), dpi=150).flags


def test_very_fine_scan_is_brought_down_to_300_dpi() -> None:
    shipped = load_pipeline_config().preprocess
    assert (shipped.max_dpi, shipped.target_dpi) == (400, 300)
    assert (CFG.preprocess.max_dpi, CFG.preprocess.target_dpi) == (400, 300)
    img = _cheque(dpi=600)
    prepared = _prepare(img, dpi=600)
    assert prepared.dpi == 300
    assert prepared.gray.shape == (img.shape[0] // 2, img.shape[1] // 2)
    assert prepared.flags == ()


def test_the_scale_down_is_set_in_the_config() -> None:
    cfg = CFG.model_copy(update={"preprocess": PreprocessConfig(max_dpi=250, target_dpi=200)})
    for dpi in (300, 600):
        prepared = prepare_page(Page(index=0, image=_cheque(dpi=dpi), dpi=dpi), cfg)
        assert prepared.dpi == 200
        assert prepared.gray.shape == prepared.ink.shape == (720, 1700)  # 8.5 x 3.6 in at 200
        assert prepared.flags == ()
    # at or under max_dpi a page keeps its size
    img = _cheque(dpi=250)
    assert prepare_page(Page(index=0, image=img, dpi=250), cfg).gray.shape == img.shape[:2]
    with pytest.raises(ValidationError, match="target_dpi"):
        PreprocessConfig(max_dpi=200, target_dpi=300)


def test_gray_input_and_unknown_dpi() -> None:
    gray = cv2.cvtColor(_cheque(dpi=200), cv2.COLOR_BGR2GRAY)
    prepared = _prepare(gray, dpi=None)
    assert prepared.dpi is None and prepared.flags == ()
