"""Generate a folder of synthetic documents and their ``truth.jsonl``, in parallel, reproducibly.

Each file is drawn from its own random stream, seeded by ``(seed, index)``: the output does not
depend on how files are spread over worker processes, and equal seeds give equal bytes (for the
same versions of hdr, numpy, OpenCV and Pillow). No timestamps go into PNG, TIFF or PDF files.

>>> from pathlib import Path
>>> import tempfile
>>> from hdr.synth.generate import SynthOptions, generate
>>> out = Path(tempfile.mkdtemp())
>>> records = generate(out, SynthOptions(n=2, seed=5, workers=1))
>>> sorted(p.name for p in out.iterdir())
['doc_0001.png', 'doc_0002.png', 'truth.jsonl']
"""

from __future__ import annotations

import io
import multiprocessing
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from hdr.errors import ReasonCode, UsageError
from hdr.synth.document import PageSpec, RenderedPage, all_templates, render_page
from hdr.synth.handwriting import DIGIT_SPLITS
from hdr.synth.truth import HARD_CASES, NOT_A_DOCUMENT, TruthRecord, write_truth

FORMATS = ("png", "jpg", "tif", "pdf")
PDF_DPI = 200  # PDF pages are drawn at the pipeline's rasterisation dpi: truth boxes match it
# how often each hard case is drawn, among hard pages
HARD_WEIGHTS = {
    "blank_amount": 3,
    "blank_account": 2,
    "crossed_out": 3,
    "letter_in_amount": 3,
    "letter_in_account": 2,
    "not_a_document": 3,
}


# Raised whenever a seed comes to draw other pages. Cached sets and training data made from
# generated pages carry it in their names (``set_tag``), so that a set an older generator made
# is made again rather than measured or learnt from. 2: long /- tails, currency signs only from
# fonts that draw them, no digit inside a currency sign (fifteenth session). 3: glyph strokes
# measured on a padded mask, so a straight 1 is no longer thinned to a smudge (sixteenth).
GENERATOR_VERSION = 3


def set_tag() -> str:
    """The generator's part of a cached set's name: ``g3``."""
    return f"g{GENERATOR_VERSION}"


@dataclass(frozen=True)
class SynthOptions:
    """What `generate` makes. ``formats`` are used in turn: file i gets formats[i % len]."""

    n: int = 20
    seed: int = 0
    formats: tuple[str, ...] = ("png",)
    dpi: tuple[int, int] = (150, 300)
    hard_share: float = 0.15  # share of pages with a hard case
    unseen_share: float = 0.0  # share of document pages drawn with an unseen layout
    multipage_share: float = 0.4  # share of PDF files with 2-3 pages
    layouts: tuple[str, ...] = ()  # restrict to these layouts (empty: all shipped ones)
    clean: bool = False  # no scan effects, no touching or straying digits (for tests)
    # MNIST split of the digits: "test" for every set a model is measured on; "train" only for
    # pages a model learns from (hdr.datasets.harvest)
    digit_split: str = "test"
    workers: int = 2

    def check(self) -> SynthOptions:
        """Raise UsageError for values that cannot work."""

        def bad(msg: str) -> UsageError:
            return UsageError(ReasonCode.USAGE, msg)

        if self.n < 0:
            raise bad(f"--n must be 0 or more, not {self.n}")
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown or not self.formats:
            raise bad(f"unknown format(s) {unknown}; choose from {', '.join(FORMATS)}")
        lo, hi = self.dpi
        if not 72 <= lo <= hi <= 600:
            raise bad(f"dpi range {lo}-{hi} must lie within 72-600")
        for name, share in (
            ("hard-share", self.hard_share),
            ("unseen-share", self.unseen_share),
            ("multipage-share", self.multipage_share),
        ):
            if not 0.0 <= share <= 1.0:
                raise bad(f"--{name} must lie within 0..1, not {share}")
        if self.digit_split not in DIGIT_SPLITS:
            raise bad(f"--digit-split must be one of {', '.join(DIGIT_SPLITS)}")
        names = set(all_templates())
        missing = [x for x in self.layouts if x not in names]
        if missing:
            raise bad(f"unknown layout(s) {missing}; known: {', '.join(sorted(names))}")
        return self


def _page_spec(opts: SynthOptions, rng: np.random.Generator, dpi: int, fmt: str) -> PageSpec:
    templates = all_templates()
    if opts.layouts:
        seen = [n for n in opts.layouts if not n.startswith("unseen_")]
        unseen = [n for n in opts.layouts if n.startswith("unseen_")]
    else:
        seen = [n for n in templates if not n.startswith("unseen_")]
        unseen = [n for n in templates if n.startswith("unseen_")]
    case = None
    if rng.random() < opts.hard_share:
        names = list(HARD_WEIGHTS)
        weights = np.array([HARD_WEIGHTS[c] for c in names], float)
        case = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    if case == NOT_A_DOCUMENT:
        layout = NOT_A_DOCUMENT
    else:
        pool = unseen if (unseen and (rng.random() < opts.unseen_share or not seen)) else seen
        layout = pool[int(rng.integers(len(pool)))]
    return PageSpec(
        layout=layout,
        dpi=dpi,
        hard_case=case,
        clean=opts.clean,
        bilevel_ok=fmt == "tif",
        digit_split=opts.digit_split,
    )


def _pad_for_pdf(page: RenderedPage) -> RenderedPage:
    """Pad right and bottom to a multiple of 25 px: at 200 dpi that is a whole number of points,
    so poppler rasterises the page back to exactly this size and the truth boxes stay exact."""
    h, w = page.image.shape[:2]
    ph, pw = -h % 25, -w % 25
    if not (ph or pw):
        return page
    pad = [(0, ph), (0, pw)] + ([(0, 0)] if page.image.ndim == 3 else [])
    fill = int(np.median(page.image[-1]))
    image = np.pad(page.image, pad, constant_values=fill)
    return replace(page, image=image, truth={**page.truth, "size": [w + pw, h + ph]})


def _pil(page: RenderedPage) -> Image.Image:
    if page.mode == "1":
        return Image.fromarray(page.image).convert("1", dither=Image.Dither.NONE)
    return Image.fromarray(page.image, "RGB" if page.image.ndim == 3 else "L")


def encode(
    pages: list[RenderedPage], fmt: str, dpi: int, rng: np.random.Generator, title: str
) -> bytes:
    """The file's bytes; no timestamps, so equal pages give equal bytes."""
    buf = io.BytesIO()
    images = [_pil(p) for p in pages]
    if fmt == "png":
        images[0].save(buf, "PNG", dpi=(dpi, dpi), compress_level=1)
    elif fmt == "jpg":
        img = images[0].convert("L") if images[0].mode == "1" else images[0]
        img.save(buf, "JPEG", quality=int(rng.integers(60, 93)), dpi=(dpi, dpi))
    elif fmt == "tif":
        img = images[0]
        img.save(
            buf, "TIFF", compression="group4" if img.mode == "1" else "tiff_lzw", dpi=(dpi, dpi)
        )
    else:
        first, *rest = [im.convert("L") if im.mode == "1" else im for im in images]
        first.save(
            buf,
            "PDF",
            save_all=True,
            append_images=rest,
            resolution=float(dpi),
            title=title,
            creationDate=None,
            modDate=None,
            producer=None,
        )
    return buf.getvalue()


def make_file(opts: SynthOptions, index: int) -> tuple[str, bytes, list[TruthRecord]]:
    """File ``index`` of a run: (file name, bytes, one truth record per page). Pure."""
    cv2.setNumThreads(1)
    rng = np.random.default_rng([opts.seed, index])
    fmt = opts.formats[index % len(opts.formats)]
    digits = max(4, len(str(opts.n)))
    name = f"doc_{index + 1:0{digits}d}.{fmt}"
    dpi = PDF_DPI if fmt == "pdf" else int(rng.integers(opts.dpi[0], opts.dpi[1] + 1))
    n_pages = 1
    if fmt == "pdf" and rng.random() < opts.multipage_share:
        n_pages = int(rng.integers(2, 4))
    pages = [render_page(_page_spec(opts, rng, dpi, fmt), rng) for _ in range(n_pages)]
    if fmt == "pdf":
        pages = [_pad_for_pdf(p) for p in pages]
    data = encode(pages, fmt, dpi, rng, name.rsplit(".", 1)[0])
    records = [
        TruthRecord.model_validate(
            {**p.truth, "file": name, "page": i, "pages": n_pages, "format": fmt}
        )
        for i, p in enumerate(pages)
    ]
    return name, data, records


def _make_indexed(args: tuple[SynthOptions, int]) -> tuple[str, bytes, list[TruthRecord]]:
    return make_file(*args)


def _start_method() -> str:
    """Fork (cheap: the templates are parsed once, before it) when this process runs no other
    thread; else spawn. A fork copies whatever lock another thread holds at that moment (a
    logging handler's, an import's) and can hang its child: inside a Prefect flow, whose client
    and log shipping run in threads, `train-lines` hung on its first pool that way."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        all_templates()
        return "fork"
    return "spawn"


def iter_files(opts: SynthOptions) -> Iterator[tuple[str, bytes, list[TruthRecord]]]:
    """Files in index order, made by ``opts.workers`` processes (1: in this process)."""
    jobs = [(opts, i) for i in range(opts.n)]
    workers = max(1, min(opts.workers, opts.n, os.cpu_count() or 1))
    if workers == 1:
        yield from map(_make_indexed, jobs)
        return
    with multiprocessing.get_context(_start_method()).Pool(workers) as pool:
        yield from pool.imap(_make_indexed, jobs, chunksize=2)


_OUR_FILE = re.compile(r"^doc_\d{4,}\.(png|jpg|tif|pdf)$")


def _earlier_run(out: Path) -> list[Path]:
    if not out.is_dir():
        return []
    return sorted(p for p in out.iterdir() if p.name == "truth.jsonl" or _OUR_FILE.match(p.name))


def generate(out: Path, opts: SynthOptions) -> list[TruthRecord]:
    """Write ``opts.n`` documents and ``truth.jsonl`` into ``out`` (created when missing).

    The generator owns ``doc_<n>.<format>`` and ``truth.jsonl`` in ``out``: an earlier run's
    are deleted first, so stale files never mix with a new truth. Other files stay.
    """
    opts = replace(opts, formats=tuple(opts.formats), layouts=tuple(opts.layouts)).check()
    for path in _earlier_run(out):
        path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    records: list[TruthRecord] = []
    for name, data, recs in iter_files(opts):
        (out / name).write_bytes(data)
        records.extend(recs)
    write_truth(out / "truth.jsonl", records)
    return records


__all__ = ["FORMATS", "HARD_CASES", "SynthOptions", "generate", "make_file"]
