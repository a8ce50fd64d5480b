"""Field lines as the reader sees them, labelled by the pages' truth: the line reader's data.

:func:`build_lines` makes synthetic files whose digits come from the MNIST *train* split
(``hdr synth --digit-split train``, layouts with a template only: the ``unseen_*`` layouts stay
unseen, and the tuning and benchmark seeds are never used), locates their fields with the
pipeline, segments each field and keeps its :func:`hdr.classify.lines.line_image` with the
characters written in it (a letter is ``reject``). Crossed-out amounts and pages that are no
bank document are left out; so are fields where the locator found nothing to read. Unlike the
glyph harvest (:mod:`hdr.datasets.harvest`) no model reads the pages, so the data depends only
on the seed, the count and the code (the generator's version is in the name).

>>> from hdr.datasets.lines import LineSpec
>>> LineSpec(n=6000, seed=7101).file_name()
'lines-seed7101-n6000-g2.npz'
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hdr.classify.lines import HEIGHT, WIDTH, encode, line_image
from hdr.errors import DataError, ReasonCode, UsageError

FIELDS = ("amount", "account")
SKIPPED_CASES = frozenset({"crossed_out", "not_a_document"})
LINES_VERSION = 1
MAX_TARGET = 24  # characters; longer written strings do not occur in generated fields


@dataclass(frozen=True)
class LineSpec:
    """Which pages to cut lines from: ``n`` synthetic files from ``seed`` (MNIST train digits)."""

    n: int = 6000
    seed: int = 7101  # never a tuning (1001, 1002) or benchmark (9001-9004, 9300) seed

    def file_name(self) -> str:
        from hdr.synth.generate import set_tag

        return f"lines-seed{self.seed}-n{self.n}-{set_tag()}.npz"


def lines_path(spec: LineSpec, data_dir: Path | None = None) -> Path:
    from hdr.config import Settings

    return (data_dir or Settings().data_dir) / "lines" / spec.file_name()


@dataclass
class LineCounts:
    pages: int = 0
    fields: int = 0  # fields with written characters on readable bank pages
    kept: int = 0
    not_located: int = 0
    no_ink: int = 0


def cut_lines(
    folder: Path, counts: LineCounts, workers: int = 2
) -> list[tuple[np.ndarray, str, str]]:
    """(line image as uint8, field name, written characters) of every usable field of a folder."""
    from hdr.config import load_pipeline_config
    from hdr.pipeline import locate_documents
    from hdr.segment import segment_field
    from hdr.synth.truth import read_truth

    truth = {(r.file, r.page): r for r in read_truth(folder / "truth.jsonl")}
    files = sorted({f for f, _ in truth})
    out: list[tuple[np.ndarray, str, str]] = []
    located = locate_documents([folder / f for f in files], load_pipeline_config(), workers=workers)
    for source, pages in located:
        name = Path(source).name
        found = dict(pages)
        for (file, index), t in truth.items():
            if file != name or t.hard_case in SKIPPED_CASES or t.layout == "not_a_document":
                continue
            counts.pages += 1
            crops = {c.name: c for c in found.get(index, [])}
            for field in FIELDS:
                written = "".join(
                    g.label if len(g.label) == 1 else "?" for g in t.glyphs.get(field, [])
                )
                if not written or len(written) > MAX_TARGET:
                    continue
                counts.fields += 1
                crop = crops.get(field)
                if crop is None:
                    counts.not_located += 1
                    continue
                image = line_image(segment_field(crop.image, crop.cells))
                if image is None:
                    counts.no_ink += 1
                    continue
                counts.kept += 1
                out.append((np.round(image * 255).astype(np.uint8), field, written))
    return out


def build_lines(
    spec: LineSpec, data_dir: Path | None = None, *, force: bool = False, workers: int = 2
) -> Path:
    """Make (once) ``data_dir/lines/<spec.file_name()>``: images N x HEIGHT x WIDTH (uint8),
    CTC ``targets`` N x MAX_TARGET (0-padded), ``lengths``, ``fields`` (0 amount, 1 account) and
    ``texts`` (what was written), in the order of the generated files: the last lines are the
    last documents, which is how training holds whole documents out for validation."""
    from hdr.classify.predictor import sha256_file
    from hdr.datasets.harvest import training_pages

    target = lines_path(spec, data_dir)
    if target.exists() and not force:
        return target
    if spec.n < 1:
        raise UsageError(ReasonCode.USAGE, f"line data needs at least one file, not {spec.n}")
    start = time.perf_counter()
    counts = LineCounts()
    with training_pages(spec.n, spec.seed, workers, "hdr-lines-") as folder:
        rows = cut_lines(folder, counts, workers)
    if not rows:
        raise DataError(ReasonCode.DATA_MISSING, f"no field line was kept from {spec}")
    images = np.stack([r[0] for r in rows])
    targets = np.zeros((len(rows), MAX_TARGET), np.int64)
    lengths = np.zeros(len(rows), np.int64)
    for i, (_, _, text) in enumerate(rows):
        codes = encode(list(text))
        targets[i, : len(codes)] = codes
        lengths[i] = len(codes)
    fields = np.array([FIELDS.index(r[1]) for r in rows], np.int64)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.stem + ".tmp.npz")
    np.savez_compressed(
        partial,
        images=images,
        targets=targets,
        lengths=lengths,
        fields=fields,
        texts=np.array([r[2] for r in rows]),
    )
    partial.replace(target)
    manifest = {
        "spec": asdict(spec),
        "version": LINES_VERSION,
        "frame": [HEIGHT, WIDTH],
        "counts": asdict(counts),
        "seconds": round(time.perf_counter() - start, 1),
        "npz_sha256": sha256_file(target),
    }
    target.with_suffix(".json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return target


def load_lines(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a line file (no pickles: texts are a fixed-width unicode array)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(ReasonCode.DATA_MISSING, f"cannot read line data {path}: {exc}") from exc
