"""Glyphs as the reader cuts them out of pages, labelled by the pages' truth: training data.

MNIST digits, even augmented or written and scanned (:mod:`hdr.datasets.document`), are not
what the classifier is given on a page: there a digit has lost part of its loop with the box
side it touched, keeps a stub of a cell line, was cut from its neighbour, or carries a crumb of
the next one. :func:`harvest` makes pages whose digits come from the MNIST *train* split
(``hdr synth --digit-split train``, layouts with a template only: the ``unseen_*`` layouts stay
unseen), reads them with the whole pipeline, and keeps the glyph images the classifier saw. A
field's glyphs are labelled only when the reader cut exactly as many glyphs as were written:
then the i-th glyph read is the i-th glyph written (a letter is ``reject``). Fields cut into
another count, crossed-out amounts and pages that are no bank document are left out.

The result depends on the generator's seed and on the model that read the pages (its cuts
follow the classifier's confidence), so both are in the file name and the manifest, with the
generator's version (:data:`hdr.synth.generate.GENERATOR_VERSION`).

>>> from hdr.datasets.harvest import HarvestSpec
>>> HarvestSpec(n=1500, seed=7001).file_name("16e1d30e57f79dd5")
'harvest-seed7001-n1500-g2-16e1d30e57f7.npz'
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hdr.classify.labels import LABELS, REJECT
from hdr.errors import DataError, ReasonCode, UsageError

FIELDS = ("amount", "account")
FORMATS = ("png", "jpg", "tif", "pdf")
SKIPPED_CASES = frozenset({"crossed_out", "not_a_document"})  # no glyph-by-glyph truth to read
HARVEST_VERSION = 1
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HarvestSpec:
    """Which pages to harvest: ``n`` synthetic files from ``seed`` (digits of MNIST train).

    ``reader`` is the model file that reads them (pinned by ``reader_sha256``; a path relative
    to the repository). A recipe names a committed file there, so that the same glyphs can be
    harvested again after the model it trained has replaced the pipeline's; without one the
    pipeline's pinned model reads.
    """

    n: int = 1500
    seed: int = 7001  # never a tuning (1001) or benchmark (9001-9004, 9300) seed
    reader: str | None = None
    reader_sha256: str | None = None

    def file_name(self, model_sha256: str) -> str:
        from hdr.synth.generate import set_tag

        return f"harvest-seed{self.seed}-n{self.n}-{set_tag()}-{model_sha256[:12]}.npz"


@dataclass
class HarvestCounts:
    """What a harvest kept and why it left the rest."""

    pages: int = 0
    fields: int = 0
    fields_kept: int = 0
    fields_other_count: int = 0  # cut into more or fewer glyphs than were written
    glyphs: int = 0


def reader_of(spec: HarvestSpec) -> tuple[Path, str | None]:
    """The model file that reads a harvest's pages, and its pinned sha256."""
    from hdr.config import REPO_ROOT, load_pipeline_config

    if spec.reader is not None:
        return REPO_ROOT / spec.reader, spec.reader_sha256
    cfg = load_pipeline_config()
    return cfg.resolve(cfg.model.path), cfg.model.sha256


def harvest_path(spec: HarvestSpec, data_dir: Path | None = None) -> Path:
    """Where :func:`harvest` writes (and training reads) the glyphs of ``spec``."""
    from hdr.classify.predictor import sha256_file
    from hdr.datasets.mnist import default_data_dir

    path, sha = reader_of(spec)
    if sha is None:
        sha = sha256_file(path)
    return (data_dir or default_data_dir()) / spec.file_name(sha)


def label_of(char: str) -> int:
    """Class index of a written character: letters and anything else unknown are ``reject``."""
    return LABELS.index(char) if char in LABELS else LABELS.index(REJECT)


def aligned_glyphs(read: Iterable[Any], written: Iterable[str]) -> list[tuple[np.ndarray, int]]:
    """(image, label) pairs when the reader's glyphs and the written characters pair one to one.

    ``read``: :class:`hdr.types.GlyphResult` in reading order (each with its ``image``);
    ``written``: the characters written, left to right. Empty when the counts differ or an
    image is missing.
    """
    read, written = list(read), list(written)
    if not read or len(read) != len(written) or any(g.image is None for g in read):
        return []
    return [(g.image, label_of(c)) for g, c in zip(read, written, strict=True)]


def harvest_folder(
    folder: Path, classifier: Any, counts: HarvestCounts
) -> list[tuple[np.ndarray, int]]:
    """Read every page of an ``hdr synth`` folder; (image, label) of every kept glyph."""
    from hdr.config import load_pipeline_config
    from hdr.synth.truth import read_with_truth

    out: list[tuple[np.ndarray, int]] = []
    for _, t, page in read_with_truth(folder, load_pipeline_config(), classifier):
        if t.hard_case in SKIPPED_CASES or t.layout == "not_a_document":
            continue
        counts.pages += 1
        for field in FIELDS:
            written = [g.label for g in t.glyphs.get(field, [])]
            got = page.fields.get(field)
            if not written or got is None:
                continue
            counts.fields += 1
            pairs = aligned_glyphs(got.glyphs, written)
            if not pairs:
                counts.fields_other_count += 1
                continue
            counts.fields_kept += 1
            counts.glyphs += len(pairs)
            out += pairs
    return out


@contextmanager
def training_pages(n: int, seed: int, workers: int, prefix: str) -> Iterator[Path]:
    """A temporary ``hdr synth`` folder of ``n`` files from ``seed`` that a model may learn
    from: digits of the MNIST *train* split, layouts with a template only (the ``unseen_*``
    layouts stay unseen). Removed afterwards."""
    from hdr.synth import SynthOptions, generate
    from hdr.synth.document import all_templates

    seen = tuple(sorted(name for name in all_templates() if not name.startswith("unseen_")))
    opts = SynthOptions(
        n=n, seed=seed, formats=FORMATS, layouts=seen, digit_split="train", workers=workers
    )
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        generate(Path(tmp), opts.check())
        yield Path(tmp)


def harvest(
    spec: HarvestSpec, data_dir: Path | None = None, *, force: bool = False, workers: int = 2
) -> Path:
    """Make (once) ``data_dir/<spec.file_name>``: uint8 images N x 28 x 28 and int64 labels.

    The pages are generated in a temporary folder and removed afterwards; a manifest
    (``.json`` beside the ``.npz``) records the spec, the model, the counts and the time taken.
    """
    from hdr.classify.predictor import load_classifier, sha256_file

    target = harvest_path(spec, data_dir)
    if target.exists() and not force:
        _warn_if_other_code(target)
        return target  # found: no model to load, no page to read
    classifier = load_classifier(*reader_of(spec))
    if spec.n < 1:
        raise UsageError(ReasonCode.USAGE, f"a harvest needs at least one file, not {spec.n}")
    start = time.perf_counter()
    counts = HarvestCounts()
    with training_pages(spec.n, spec.seed, workers, "hdr-harvest-") as folder:
        rows = harvest_folder(folder, classifier, counts)
    if not rows:
        raise DataError(ReasonCode.DATA_MISSING, f"the harvest of {spec} kept no glyph")
    images = np.stack([np.round(np.clip(r[0], 0, 1) * 255) for r in rows]).astype(np.uint8)
    labels = np.array([r[1] for r in rows], np.int64)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.stem + ".tmp.npz")
    np.savez_compressed(partial, images=images, labels=labels)
    partial.replace(target)
    manifest = {
        "spec": asdict(spec),
        "version": HARVEST_VERSION,
        "model_sha256": classifier.sha256,
        "counts": asdict(counts),
        "per_class": {LABELS[k]: int((labels == k).sum()) for k in range(len(LABELS))},
        "seconds": round(time.perf_counter() - start, 1),
        "npz_sha256": sha256_file(target),
        "content_sha256": harvest_digest(images, labels),
        "code_sha256": code_digest(),
    }
    target.with_suffix(".json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return target


def code_digest(root: Path | None = None) -> str:
    """sha256 of the code that writes and reads a harvest's pages: every ``.py`` file under
    ``hdr/`` but the training code. The same reader model gives other glyphs when the
    segmenter or the generator changes, so a harvest records the code it was made with."""
    base = root or Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(base.rglob("*.py")):
        rel = path.relative_to(base).as_posix()
        if rel.startswith("train/"):
            continue
        digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _warn_if_other_code(target: Path) -> None:
    """Say so when a harvest found on disk was made by other code than this (it is used as it
    is: rebuilding changes the training data, which is the user's call)."""
    try:
        made_with = json.loads(target.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    recorded = made_with.get("code_sha256") if isinstance(made_with, dict) else None
    if recorded != code_digest():
        log.warning(
            "%s was made by other reading code (%s); `hdr data harvest --force` makes it again "
            "with this code, which may give other glyphs",
            target.name,
            (recorded or "not recorded")[:12],
        )


def harvest_digest(images: np.ndarray, labels: np.ndarray) -> str:
    """sha256 of a harvest's glyphs and labels: the same for the same glyphs, unlike the npz
    file's own hash (a zip archive stores the time it was written)."""
    digest = hashlib.sha256()
    for array in (np.ascontiguousarray(images, np.uint8), np.ascontiguousarray(labels, np.int64)):
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def load_harvest(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (uint8 N x 28 x 28) and labels (int64) of a harvest file."""
    if not path.exists():
        raise DataError(
            ReasonCode.DATA_MISSING,
            f"harvested glyphs not prepared at {path}",
            "run `hdr data harvest` with the seed and size of the training config",
        )
    with np.load(path, allow_pickle=False) as npz:
        images, labels = npz["images"], npz["labels"]
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise DataError(
            ReasonCode.DATA_MISSING,
            f"{path} is not a harvest file",
            "rebuild it with `hdr data harvest --force`",
        )
    return images, labels
