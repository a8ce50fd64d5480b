"""``--debug-dir``: what the pipeline saw, per page, so a misread can be understood in a minute.

For every page, under ``<debug-dir>/<file stem>-<sha256[:8]>/page-<n>/`` (n 0-based, as
in the JSON output):

- ``page.png``: the prepared page (deskewed, illumination-corrected) with the located field
  boxes drawn (amount red, account blue) and the layout name;
- ``<field>.png``: each field crop as given to the recognizer;
- ``glyphs.png``: per field, a strip of the segmented glyphs: each tile shows the glyph's box
  cut from the field crop, under it the 28 x 28 image the classifier was given (the ink it
  read, after line removal and cutting: a cell line seen in the box above but not below was
  removed before reading), and its top-3 classes and probabilities; ``glyphs.json`` holds the
  same numbers and the field values.

Writing debug output never fails a document: a full disk or a read-only directory is caught and
reported as the page reason ``debug_write_failed``, and a file cut short by it is removed (a
half-written PNG would look like a decoding bug to whoever opens it).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path

import cv2
import numpy as np

from hdr.types import Box, FieldCrop, FieldResult

log = logging.getLogger(__name__)

DEBUG_WRITE_FAILED = "debug_write_failed"
_COLOURS = {"amount": (0, 0, 220), "account": (220, 90, 0)}  # BGR
_CELL = 64  # glyph tile size in glyphs.png
_LABEL_H = 46


def page_debug_dir(root: Path, source_name: str, sha256: str | None, page_index: int) -> Path:
    """The folder of one page's debug files (stable across runs of the same file)."""
    stem = Path(source_name).stem or "input"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:60]
    return root / f"{safe}-{(sha256 or 'nohash')[:8]}" / f"page-{page_index}"


def _write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``; on failure remove what was written and raise the OSError."""
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError:
        with contextlib.suppress(OSError):  # nothing more to do on a disk that refuses all
            path.unlink(missing_ok=True)
        raise


def _write_png(path: Path, image: np.ndarray) -> None:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise OSError(f"could not encode {path.name}")
    _write_bytes(path, buf.tobytes())


def write_located(
    folder: Path, gray: np.ndarray, layout_name: str, crops: Mapping[str, FieldCrop]
) -> bool:
    """page.png with the located boxes, and one PNG per field crop; False when writing failed."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        page = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
        thick = max(2, round(max(gray.shape) / 600))
        for name, crop in crops.items():
            x0, y0, x1, y1 = crop.box
            colour = _COLOURS.get(name, (0, 160, 0))
            cv2.rectangle(page, (x0, y0), (x1, y1), colour, thick)
            cv2.putText(
                page,
                name,
                (x0, max(12, y0 - 6)),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.5 * thick,
                colour,
                thick,
            )
        cv2.putText(page, layout_name, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 140, 0), 2)
        _write_png(folder / "page.png", page)
        for name, crop in crops.items():
            _write_png(folder / f"{name}.png", crop.image)
    except OSError as exc:
        log.warning("debug output to %s failed: %s", folder, exc)
        return False
    return True


def _glyph_tile(
    crop_image: np.ndarray, box: Box, lines: list[str], seen: np.ndarray | None = None
) -> np.ndarray:
    """The glyph's box from the crop; under it, the classifier's input (``seen``, 28 x 28 in
    [0, 1], white ink on black) drawn dark on light at twice its size; the labels last."""
    x0, y0, x1, y1 = box
    tile = np.full((2 * _CELL + _LABEL_H, _CELL), 255, np.uint8)
    patch = crop_image[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)]
    if patch.size:
        # Shrink big glyphs to the tile; enlarge small ones at most 3x, crisply, so a comma
        # still looks small next to a digit.
        scale = min((_CELL - 8) / max(patch.shape), 3.0)
        size = (max(1, round(patch.shape[1] * scale)), max(1, round(patch.shape[0] * scale)))
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST
        small = cv2.resize(patch, size, interpolation=interp)
        oy, ox = (_CELL - size[1]) // 2, (_CELL - size[0]) // 2
        tile[oy : oy + size[1], ox : ox + size[0]] = small
    if seen is not None and seen.ndim == 2 and seen.size:
        side = _CELL - 8
        view = cv2.resize(np.clip(seen, 0.0, 1.0), (side, side), interpolation=cv2.INTER_NEAREST)
        tile[_CELL + 4 : _CELL + 4 + side, 4 : 4 + side] = (255 - 255 * view).astype(np.uint8)
    for i, text in enumerate(lines):
        cv2.putText(
            tile, text, (2, 2 * _CELL + 12 + 14 * i), cv2.FONT_HERSHEY_PLAIN, 0.8, 0, 1, cv2.LINE_AA
        )
    cv2.rectangle(tile, (0, 0), (_CELL - 1, 2 * _CELL + _LABEL_H - 1), 180, 1)
    cv2.line(tile, (0, _CELL), (_CELL - 1, _CELL), 220, 1)
    return tile


def write_glyphs(
    folder: Path, crops: Mapping[str, FieldCrop], results: Mapping[str, FieldResult]
) -> bool:
    """glyphs.png (one strip per field) and glyphs.json; False when writing failed."""
    strips: list[np.ndarray] = []
    summary: dict[str, object] = {}
    for name, result in results.items():
        crop = crops.get(name)
        tiles = []
        for g in result.glyphs:
            lines = [f"{label} {prob:.2f}" for label, prob in g.topk[:3]]
            if crop is not None:
                tiles.append(_glyph_tile(crop.image, g.box, lines, g.image))
        if tiles:
            strips.append(np.hstack(tiles))
        summary[name] = {
            "value": result.value,
            "confidence": round(result.confidence, 4),
            "status": result.status.value,
            "flags": list(result.flags),
            "raw_text": result.raw_text,
            "glyphs": [
                {
                    "box": list(g.box),
                    "label": g.label,
                    "prob": round(g.prob, 4),
                    "top3": [[label, round(p, 4)] for label, p in g.topk[:3]],
                    "split": g.split,
                    "cell": g.cell,
                }
                for g in result.glyphs
            ],
        }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if strips:
            width = max(s.shape[1] for s in strips)
            padded = [
                np.pad(s, ((0, 4), (0, width - s.shape[1])), constant_values=255) for s in strips
            ]
            _write_png(folder / "glyphs.png", np.vstack(padded))
        text = json.dumps(summary, indent=2, ensure_ascii=False)
        _write_bytes(folder / "glyphs.json", text.encode("utf-8"))
    except OSError as exc:
        log.warning("debug output to %s failed: %s", folder, exc)
        return False
    return True
