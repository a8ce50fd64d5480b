"""Cut a component that holds several touching digits: projection minima and drop-fall paths.

A straight cut goes down the column with the least ink near the expected place; a drop-fall cut
starts at the top (or the bottom) and slides like a drop of water round the strokes, cutting
through ink only where it must, which follows the gap between two slanted digits better. The
recognizer classifies the pieces of every candidate and keeps the most confident reading.

>>> import numpy as np
>>> blob = np.zeros((30, 18), np.uint8); blob[:, 2:8] = 255; blob[:, 10:16] = 255
>>> blob[14:16, 8:10] = 255                        # two bars joined by a short bridge
>>> [p.shape[1] for p in split_candidates(blob, 2)[0]]
[6, 8]
"""

from __future__ import annotations

import numpy as np

MAX_OPTIONS = 5


def _local_minima(profile: np.ndarray, lo: int, hi: int, count: int) -> list[int]:
    """Up to ``count`` columns in [lo, hi) with the least ink, at least 2 px apart."""
    if hi <= lo:
        return []
    smooth = np.convolve(profile.astype(np.float64), np.ones(3) / 3.0, mode="same")
    order = sorted(range(lo, hi), key=lambda i: (smooth[i], abs(i - (lo + hi) / 2)))
    # only columns nearly as empty as the emptiest: a cut through a full stroke is no candidate
    limit = smooth[order[0]] + 0.5 * float(np.median(smooth[lo:hi])) + 1.0
    picked: list[int] = []
    for i in order:
        if smooth[i] > limit:
            break
        if all(abs(i - j) > 2 for j in picked):
            picked.append(i)
        if len(picked) == count:
            break
    return picked


def _contour_valley(mask: np.ndarray, lo: int, hi: int) -> int | None:
    """Where the outline dips between two touching glyphs: the column in [lo, hi) whose top ink
    is lowest plus whose bottom ink is highest (two round digits touch at such a waist)."""
    ink = np.asarray(mask) > 0
    has: np.ndarray = np.asarray(ink.any(axis=0))
    if hi <= lo or not has[lo:hi].any():
        return None
    h = ink.shape[0]
    top = np.where(has, np.argmax(ink, axis=0), h)
    bottom = np.where(has, h - 1 - np.argmax(ink[::-1], axis=0), -1)
    waist = (top - bottom).astype(np.float64)  # larger where the outline pinches in
    waist[~has] = -np.inf
    window = waist[lo:hi]
    return lo + int(np.argmax(window))


def _cut_columns(mask: np.ndarray, profile: np.ndarray, lo: int, hi: int) -> list[int]:
    """Columns in [lo, hi) worth a straight cut: the outline's waist first (round glyphs touch
    there, not at a thin bridge), then the two emptiest columns."""
    columns = _local_minima(profile, lo, hi, 2)
    valley = _contour_valley(mask, lo, hi)
    if valley is not None and all(abs(valley - x) > 2 for x in columns):
        columns.insert(0, valley)
    return columns


def _two_piece_paths(
    mask: np.ndarray, profile: np.ndarray, lo: int, hi: int, straight: int
) -> list[list[np.ndarray]]:
    """Cuts in [lo, hi): up to ``straight`` straight ones, then drop-fall paths from the top
    and from the bottom at the first column :func:`_cut_columns` proposes."""
    h = mask.shape[0]
    columns = _cut_columns(mask, profile, lo, hi)
    options = [[np.full(h, x, np.int64)] for x in columns[:straight]]
    for x in columns[:1]:
        options.append([drop_fall(mask, x, from_top=True)])
        options.append([drop_fall(mask, x, from_top=False)])
    return options


def drop_fall(mask: np.ndarray, start: int, from_top: bool = True) -> np.ndarray:
    """Column of the cut at every row: a drop starts above ``start`` and falls round the ink."""
    img = mask > 0 if from_top else (mask > 0)[::-1]
    h, w = img.shape
    x = int(min(max(start, 1), w - 2))
    path = np.empty(h, np.int64)
    for y in range(h):
        path[y] = x
        if y + 1 >= h:
            break
        row = img[y + 1]
        if not row[x]:
            continue  # fall straight down
        if x + 1 < w and not row[x + 1] and not img[y, x + 1]:
            x += 1
        elif x - 1 >= 0 and not row[x - 1] and not img[y, x - 1]:
            x -= 1
        # otherwise cut straight through the stroke
    return path if from_top else path[::-1]


def _cut(mask: np.ndarray, path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cols = np.arange(mask.shape[1])[None, :]
    left = np.where(cols < path[:, None], mask, 0).astype(np.uint8)
    right = np.where(cols >= path[:, None], mask, 0).astype(np.uint8)
    return left, right


def _trim(piece: np.ndarray) -> tuple[np.ndarray, int, int] | None:
    """Crop a piece to its ink; returns (crop, x offset, y offset) or None when empty."""
    ys, xs = np.nonzero(piece)
    if len(ys) == 0:
        return None
    return piece[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1], int(xs.min()), int(ys.min())


def split_paths(mask: np.ndarray, pieces: int) -> list[list[np.ndarray]]:
    """Candidate cut paths (one path per cut) splitting ``mask`` into ``pieces`` parts."""
    h, w = mask.shape
    profile = (mask > 0).sum(axis=0)
    options: list[list[np.ndarray]] = []
    if pieces == 2:
        options = _two_piece_paths(mask, profile, round(0.28 * w), round(0.72 * w), 3)
    elif pieces == 3:
        a = _local_minima(profile, round(0.2 * w), round(0.45 * w), 2)
        b = _local_minima(profile, round(0.55 * w), round(0.8 * w), 2)
        for xa, xb in zip(a, b, strict=False):
            options.append([np.full(h, xa, np.int64), np.full(h, xb, np.int64)])
        if a and b:
            options.append([drop_fall(mask, a[0]), drop_fall(mask, b[0])])
    elif pieces > 3:  # a run written without lifting the pen ("000" as a chain of loops)
        half = 0.4 / pieces
        near = []
        for i in range(1, pieces):
            lo, hi = round((i / pieces - half) * w), round((i / pieces + half) * w)
            near.append(_cut_columns(mask, profile, lo, hi)[:2])
        for choice in zip(*near, strict=False):
            options.append([np.full(h, x, np.int64) for x in choice])
        if all(near):
            options.append([drop_fall(mask, c[0]) for c in near])
    return options[:MAX_OPTIONS]


def paths_across(mask: np.ndarray, x: int, reach: int, spread: int = 5) -> list[list[np.ndarray]]:
    """Two-piece cut paths anywhere within ``reach`` columns of column ``x``: straight and
    drop-fall (from the top and from the bottom) cuts at the columns :func:`_cut_columns`
    proposes and at ``spread`` columns evenly spaced over the range (two digits written over a
    cell line often overlap: the gap between them can be far from the line). No path twice."""
    h, w = mask.shape
    lo, hi = max(1, x - reach), min(w - 1, x + reach + 1)
    if hi - lo < 2:
        return []
    starts = _cut_columns(mask, (mask > 0).sum(axis=0), lo, hi)
    starts += [round(lo + (hi - 1 - lo) * k / max(1, spread - 1)) for k in range(spread)]
    out: list[list[np.ndarray]] = []
    seen: set[bytes] = set()
    for start in starts:
        for path in (
            np.full(h, start, np.int64),
            drop_fall(mask, start, from_top=True),
            drop_fall(mask, start, from_top=False),
        ):
            key = path.tobytes()
            if key not in seen:
                seen.add(key)
                out.append([path])
    return out


def apply_cuts(mask: np.ndarray, paths: list[np.ndarray]) -> list[tuple[np.ndarray, int, int]]:
    """Pieces (crop, x offset, y offset) left to right; empty list when a piece would be empty."""
    rest = mask
    out: list[tuple[np.ndarray, int, int]] = []
    for path in paths:
        left, rest = _cut(rest, path)
        trimmed = _trim(left)
        if trimmed is None:
            return []
        out.append(trimmed)
    trimmed = _trim(rest)
    if trimmed is None:
        return []
    out.append(trimmed)
    return out


def split_candidates(mask: np.ndarray, pieces: int) -> list[list[np.ndarray]]:
    """The piece images of every candidate split (convenience for tests and debugging)."""
    return [[p for p, _, _ in apply_cuts(mask, paths)] for paths in split_paths(mask, pieces)]
