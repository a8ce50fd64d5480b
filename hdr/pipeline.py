"""The one entry point: ``read_document(source, config) -> DocumentResult``, and its batch form.

Stages, each a module that takes the previous stage's type: triage (hdr.io.triage) -> pages
(hdr.io, streamed) -> prepare (hdr.preprocess) -> locate (hdr.fields.locate) -> recognize
(hdr.recognize: segment, classify, assemble) -> decide (hdr.recognize.decide_page).

:func:`read_documents` reads documents up to field location one by one, then classifies the
glyphs of all the fields of a group of documents in one batched model call, so a batch of many
small files runs at the model's full speed. Nothing here raises for a bad input: every source
ends as a :class:`hdr.types.DocumentResult` with a status (``error`` with a reason code when the
file could not be read; ``internal`` with the exception's text for a bug, and the batch goes on).

>>> from hdr.pipeline import read_document
>>> result = read_document("tests/resources/sample/doc-0001.png")      # doctest: +SKIP
>>> result.status.value, result.pages[0].fields["amount"].value        # doctest: +SKIP
('accepted', '1250.00')
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from hdr.classify.labels import REJECT
from hdr.config import PipelineConfig, load_pipeline_config
from hdr.errors import HdrError, InputError, ReasonCode, RejectedInput, UsageError
from hdr.io import Deadline, PageError, iter_pages, triage
from hdr.io import debug as debug_out
from hdr.io.records import result_records
from hdr.preprocess import prepare_page
from hdr.preprocess.binarize import correct_illumination, to_gray
from hdr.preprocess.extent import content_box, crop_reason
from hdr.preprocess.orient import TURNED_REASON, TURNS, text_lines, turn_image
from hdr.types import (
    DocumentResult,
    FieldCrop,
    FieldName,
    FieldResult,
    Page,
    PageResult,
    Status,
)

log = logging.getLogger(__name__)

BATCH_DOCUMENTS = 16  # documents whose glyphs share one classifier call
FIELD_MODE_MIN_SIDE = 8  # a given field crop may be small, but not a speck
TURN_MARGIN = 0.1  # of two quarter turns, one wins when its amount reads this much better
TURN_SURE = 1.0  # a turn that competes with no amount reads surely from here (_reading_score)
TURN_UNSURE = "turn_unsure"  # page flag: the page read about as well turned either way
_STATUS_RANK = {Status.ACCEPTED: 0, Status.REVIEW: 1, Status.REJECTED: 2, Status.ERROR: 3}


@dataclass
class _LocatedPage:
    """A page read up to field location, waiting for the batched recognition."""

    index: int
    layout: Any = None  # hdr.fields.locate.Layout
    crops: list[FieldCrop] = field(default_factory=list)
    flags: tuple[str, ...] = ()  # quality flags of the page
    size: tuple[int, int] | None = None  # (width, height) of the prepared page
    error: InputError | None = None
    debug_folder: Path | None = None
    reasons: tuple[str, ...] = ()  # extra reasons (page_turned_90, debug_write_failed)
    # the prepared page (gray, dpi) of a page read as it lay that no template fits, kept until
    # the page is decided: if its amount reads poorly, it is looked at again upside down
    # (_Reader.second_look); None for every other page
    prepared: tuple[Any, int | None] | None = None


@dataclass
class _LocatedDocument:
    source: str
    sha256: str | None = None
    media_type: str | None = None
    pages: list[_LocatedPage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    failure: tuple[Status, str, str] | None = None  # status, reason code, message

    def add_time(self, stage: str, seconds: float) -> None:
        self.timings[stage] = self.timings.get(stage, 0.0) + seconds


def _source_name(source: str | Path | bytes) -> str:
    return "<bytes>" if isinstance(source, bytes | bytearray | memoryview) else str(source)


class _Reader:
    """Holds what is loaded once per process: the config, the templates, the classifier."""

    def __init__(
        self,
        cfg: PipelineConfig,
        classifier: Any,
        templates: Sequence[Any] | None,
        debug_dir: Path | None,
        field_name: str | None,
    ) -> None:
        if field_name is not None and field_name not in {f.value for f in FieldName}:
            raise UsageError(ReasonCode.USAGE, f"unknown field {field_name!r}: amount or account")
        self.cfg = cfg
        self.field = field_name
        self.debug_dir = debug_dir
        if classifier is None:
            from hdr.classify.predictor import load_classifier

            ref = cfg.model
            classifier = load_classifier(cfg.resolve(ref.path), ref.sha256, ref.backend)
        self.classifier = classifier
        self.line_reader: Any = None
        if cfg.line_model is not None and classifier is not _NO_CLASSIFIER:
            from hdr.classify.lines import load_line_reader

            self.line_reader = load_line_reader(
                cfg.resolve(cfg.line_model.path), cfg.line_model.sha256
            )
        if templates is None and field_name is None:
            from hdr.fields.templates import load_templates

            templates = load_templates(cfg.resolve(cfg.templates_dir))
        self.templates = list(templates or [])

    # ----------------------------------------------------------- per document, up to locate

    def locate_document(self, source: str | Path | bytes) -> _LocatedDocument:
        """Triage, load, prepare and locate every page; never raises for a bad input."""
        doc = _LocatedDocument(source=_source_name(source))
        deadline = Deadline(self.cfg.limits.time_budget_s, doc.source)
        try:
            t0 = time.perf_counter()
            src = triage(source, self.cfg.limits)
            doc.sha256, doc.media_type = src.sha256, src.media_type.value
            doc.add_time("triage", time.perf_counter() - t0)
            deadline.check("triage")
            min_side = FIELD_MODE_MIN_SIDE if self.field else None
            pages = iter_pages(src, self.cfg, deadline, min_side=min_side)
            while True:
                t0 = time.perf_counter()
                page = next(pages, None)
                doc.add_time("load", time.perf_counter() - t0)
                if page is None:
                    break
                deadline.check(f"loading page {page.index + 1}")
                if isinstance(page, PageError):
                    doc.pages.append(_LocatedPage(index=page.index, error=page.error))
                    continue
                doc.pages.append(self._locate_page(doc, page, deadline))
        except InputError as err:
            doc.failure = (Status.ERROR, err.code.value, err.message)
        except RejectedInput as err:
            doc.failure = (Status.REJECTED, err.code.value, err.message)
        except HdrError:
            raise  # a model or configuration problem stops the run: every document would fail
        except Exception as exc:  # a bug must not take the batch down with it
            log.exception("internal error on %s", doc.source)
            doc.failure = (Status.ERROR, ReasonCode.INTERNAL.value, f"{type(exc).__name__}: {exc}")
        return doc

    def _locate_page(self, doc: _LocatedDocument, page: Page, deadline: Deadline) -> _LocatedPage:
        from hdr.fields.locate import Layout, locate_fields

        t0 = time.perf_counter()
        turn, cut = 0, None
        if self.field is not None:
            gray = correct_illumination(to_gray(page.image), page.dpi)
            h, w = gray.shape
            crop = FieldCrop(name=self.field, image=gray, box=(0, 0, w, h), located_by="given")
            layout = Layout(name="given", crops={self.field: crop}, is_document=True, flags=())
            flags: tuple[str, ...] = ()
            doc.add_time("preprocess", time.perf_counter() - t0)
        else:
            prepared = prepare_page(page, self.cfg)
            gray, flags = prepared.gray, prepared.flags
            doc.add_time("preprocess", time.perf_counter() - t0)
            deadline.check(f"preprocessing page {page.index + 1}")
            t0 = time.perf_counter()
            layout = locate_fields(prepared, self.templates, self.cfg)
            if self.cfg.preprocess.crop_to_content and not _found(layout):
                page, prepared, layout, cut, turn = self._cropped(page, prepared, layout)
            if self.cfg.preprocess.turn_pages and not _found(layout) and cut is None:
                prepared, layout, turn = self._turned(page, prepared, layout)
            gray, flags = prepared.gray, prepared.flags
            doc.add_time("locate", time.perf_counter() - t0)
            deadline.check(f"locating the fields of page {page.index + 1}")
        notes = (crop_reason(cut),) if cut is not None else ()
        located = _LocatedPage(
            index=page.index,
            layout=layout,
            crops=list(layout.crops.values()),
            flags=flags,
            size=(gray.shape[1], gray.shape[0]),
            reasons=notes + ((TURNED_REASON.format(turn),) if turn else ()),
            prepared=(gray, prepared.dpi) if self._may_lie_upside_down(layout, turn) else None,
        )
        if self.debug_dir is not None:
            folder = debug_out.page_debug_dir(self.debug_dir, doc.source, doc.sha256, page.index)
            located.debug_folder = folder
            if not debug_out.write_located(folder, gray, layout.name, layout.crops):
                located.reasons += (debug_out.DEBUG_WRITE_FAILED,)
        return located

    def _may_lie_upside_down(self, layout: Any, turn: int) -> bool:
        """Whether :meth:`second_look` may look at this page again: a document read as it lay,
        with no template fitting it (a known layout's rules and boxes would not fit it upside
        down), when pages are turned at all."""
        return (
            self.field is None
            and self.cfg.preprocess.turn_pages
            and layout.is_document
            and not turn
            and not str(layout.name).startswith("template:")
        )

    def _cropped(self, page: Page, prepared: Any, layout: Any) -> tuple[Page, Any, Any, Any, int]:
        """A page located as no document, or without an amount, whose ink covers only part of
        it (a cheque on a flatbed's A4 bed, on a PDF page): that part of the prepared page as a
        page of its own, prepared and located (turned too, when it lies turned: :meth:`_turned`),
        with the box it was cut from and its turn, when its fields are found better there (a
        document where the whole page was none, found without doubt; or an amount where the
        whole page showed none); else the page as it was, None and 0."""
        from hdr.fields.locate import locate_fields

        box = content_box(prepared.ink, prepared.dpi)
        if box is None:
            return page, prepared, layout, None, 0
        x0, y0, x1, y1 = box
        part = Page(page.index, prepared.gray[y0:y1, x0:x1].copy(), prepared.dpi, page.flags)
        part_prepared = prepare_page(part, self.cfg)
        found = locate_fields(part_prepared, self.templates, self.cfg)
        turn = 0
        if self.cfg.preprocess.turn_pages and not _found(found):
            part_prepared, found, turn = self._turned(part, part_prepared, found)
        # where the whole page was no document, the part must look like one without doubt: a
        # page of print cut down to its table may otherwise pass for a form with an amount box
        sure = "layout_unsure" not in found.flags and "amount" in found.crops
        better = found.is_document and (sure if not layout.is_document else "amount" in found.crops)
        if not better:
            return page, prepared, layout, None, 0
        return part, part_prepared, found, box, turn

    def _turned(self, page: Page, prepared: Any, layout: Any) -> tuple[Any, Any, int]:
        """A page located as no document, or without an amount, read turned: the prepared
        page, layout and clockwise degrees of the turn whose amount reads best, or the page as
        it lies (0 degrees).

        When its printed text runs from top to bottom, the page is read a quarter turn each
        way, and the turn whose amount reads better wins. The page goes to a person
        (``turn_unsure``) when the two read about as well (:data:`TURN_MARGIN`), or when only
        one shows an amount and it does not read surely (:data:`TURN_SURE`): a page that is no
        document may look like one turned, and a cheque kept sideways would be rejected as no
        document, seen by no one. A page whose text runs along it, located as a document
        without an amount, may be upside down: it is read a half turn round, and kept so only
        when that reads surely.
        Each turn's amount is read here, once, to compare them (:meth:`_reading_score`): an
        upright amount reads with confidence, the same amount upside down as rejects and doubt.
        """
        from hdr.fields.locate import locate_fields

        sideways = text_lines(prepared.ink, prepared.dpi).turned
        if not sideways and not layout.is_document:
            return prepared, layout, 0  # a page of print, not a bank document
        tried = []
        for degrees in TURNS if sideways else (180,):
            upright = Page(page.index, turn_image(page.image, degrees), page.dpi, page.flags)
            turned = prepare_page(upright, self.cfg)
            found = locate_fields(turned, self.templates, self.cfg)
            tried.append((self._reading_score(found), degrees, turned, found))
        tried.sort(key=lambda t: -t[0])
        best, degrees, turned, found = tried[0]
        second = tried[1][0] if len(tried) > 1 else -1.0
        if best < 0 or (not sideways and best < TURN_SURE):
            return prepared, layout, 0  # no amount either way; or not surely upside down
        if best - second < TURN_MARGIN or best < TURN_SURE:
            # about as good either way, or an amount found one way only and not read surely:
            # a person looks (a page lying sideways is rejected as no document otherwise)
            turned = replace(turned, flags=(*turned.flags, TURN_UNSURE))
        return turned, found, degrees

    def _reading_score(self, layout: Any) -> float:
        """How well a layout's amount reads: the mean probability of its glyphs, a reject
        counting 0, plus the field's confidence when it gave a value (-1 without an amount).

        Upside down, an amount is more glyphs, several of them rejects, and seldom a value
        that is sure (docs/BENCHMARKS.md, "Twenty-fourth session"); other fields are left out,
        since a page upside down may show a row of cells (its code line) where none is written.
        """
        from hdr.recognize import recognize_fields

        if not layout.is_document or "amount" not in layout.crops:
            return -1.0
        if self.classifier is _NO_CLASSIFIER:
            return 0.0  # locating only: either turn is as good (turn_unsure)
        (result,) = recognize_fields(
            [layout.crops["amount"]], self.classifier, self.cfg, self.line_reader
        )
        return amount_score(result)

    def second_look(
        self, doc: _LocatedDocument, results: list[FieldResult] | None
    ) -> list[FieldResult] | None:
        """The document's field results after looking again, upside down, at every page read
        as it lay whose amount read poorly (:func:`amount_score` under :data:`TURN_SURE`): a
        page fed upside down, on which the locator found an amount box, reads as rejects and
        doubt. Such a page is read a half turn round and kept so (``page_turned_180``) when its
        amount reads surely there and clearly better than as it lay. Pages read well, and pages
        that fit a known layout's template, are not looked at again, so this costs nothing on
        them.
        """
        from hdr.fields.locate import locate_fields
        from hdr.recognize import recognize_fields

        if results is None:
            return results
        out: list[FieldResult] = []
        start = 0
        for page in doc.pages:
            mine = results[start : start + len(page.crops)]
            start += len(page.crops)
            prepared, page.prepared = page.prepared, None  # freed once the page is decided
            amount = next((r for r in mine if r.name == "amount"), None)
            if prepared is None or amount is None:  # (see _may_lie_upside_down)
                out += mine
                continue
            as_lies = amount_score(amount)
            if as_lies >= TURN_SURE:
                out += mine
                continue
            t0 = time.perf_counter()
            upside = Page(page.index, turn_image(prepared[0], 180), prepared[1])
            turned = prepare_page(upside, self.cfg)
            layout = locate_fields(turned, self.templates, self.cfg)
            score = self._reading_score(layout)
            if score >= TURN_SURE and score - as_lies >= TURN_MARGIN:
                crops = list(layout.crops.values())
                mine = list(recognize_fields(crops, self.classifier, self.cfg, self.line_reader))
                page.layout, page.crops, page.flags = layout, crops, turned.flags
                page.size = (turned.gray.shape[1], turned.gray.shape[0])
                page.reasons = (TURNED_REASON.format(180), *page.reasons)
                if page.debug_folder is not None and not debug_out.write_located(
                    page.debug_folder, turned.gray, layout.name, layout.crops
                ):
                    page.reasons += (debug_out.DEBUG_WRITE_FAILED,)
            doc.add_time("second_look", time.perf_counter() - t0)
            out += mine
        return out

    # ----------------------------------------------------------- per batch: recognize, decide

    def recognize(self, docs: list[_LocatedDocument]) -> list[list[FieldResult] | None]:
        """Field results per document (in crop order), from one batched call when all goes well."""
        from hdr.recognize import recognize_fields

        crops = [[c for p in d.pages for c in p.crops] for d in docs]
        flat = [c for per_doc in crops for c in per_doc]
        if not flat:
            return [[] for _ in docs]
        t0 = time.perf_counter()
        try:
            results = list(recognize_fields(flat, self.classifier, self.cfg, self.line_reader))
        except HdrError:
            raise
        except Exception:
            # One document's crops broke the batch: read them document by document so the
            # others still get their results, and only the culprit gets `internal`.
            log.exception("batched recognition failed; retrying document by document")
            return [self._recognize_one(d, c) for d, c in zip(docs, crops, strict=True)]
        elapsed = time.perf_counter() - t0
        out: list[list[FieldResult] | None] = []
        start = 0
        for doc, per_doc in zip(docs, crops, strict=True):
            out.append(results[start : start + len(per_doc)])
            start += len(per_doc)
            doc.add_time("recognize", elapsed * len(per_doc) / len(flat))
        return out

    def _recognize_one(
        self, doc: _LocatedDocument, crops: list[FieldCrop]
    ) -> list[FieldResult] | None:
        from hdr.recognize import recognize_fields

        t0 = time.perf_counter()
        try:
            results = (
                list(recognize_fields(crops, self.classifier, self.cfg, self.line_reader))
                if crops
                else []
            )
        except HdrError:
            raise
        except Exception as exc:
            doc.failure = (Status.ERROR, ReasonCode.INTERNAL.value, f"{type(exc).__name__}: {exc}")
            return None
        doc.add_time("recognize", time.perf_counter() - t0)
        return results

    def finish(self, doc: _LocatedDocument, results: list[FieldResult] | None) -> DocumentResult:
        """Decide every page and build the document's result."""
        from hdr.recognize import decide_page

        model_sha = getattr(self.classifier, "sha256", None)
        if doc.failure is not None or results is None:
            failure = doc.failure or (Status.ERROR, ReasonCode.INTERNAL.value, "no result")
            return DocumentResult(
                source=doc.source,
                sha256=doc.sha256,
                media_type=doc.media_type,
                status=failure[0],
                reason_code=failure[1],
                reason_message=failure[2],
                model_sha256=model_sha,
                timings=_rounded(doc.timings),
            )
        t0 = time.perf_counter()
        pages: list[PageResult] = []
        start = 0
        for page in doc.pages:
            if page.error is not None:
                pages.append(
                    PageResult(
                        index=page.index, status=Status.ERROR, reasons=(page.error.code.value,)
                    )
                )
                continue
            page_results = results[start : start + len(page.crops)]
            start += len(page.crops)
            fields = {r.name: r for r in page_results}
            status, reasons = decide_page(page.layout, fields, page.flags, self.cfg)
            if (
                page.debug_folder is not None
                and not debug_out.write_glyphs(page.debug_folder, page.layout.crops, fields)
                and debug_out.DEBUG_WRITE_FAILED not in page.reasons
            ):
                page.reasons += (debug_out.DEBUG_WRITE_FAILED,)  # once, however many files failed
            width, height = page.size or (None, None)
            pages.append(
                PageResult(
                    index=page.index,
                    status=status,
                    fields=fields,
                    reasons=tuple(reasons) + page.reasons,
                    layout=page.layout.name,
                    width=width,
                    height=height,
                )
            )
        doc.add_time("decide", time.perf_counter() - t0)
        worst = max(pages, key=lambda p: _STATUS_RANK[p.status])
        code: str | None = None
        message: str | None = None
        if worst.status is Status.ERROR:
            failed = next(p for p in doc.pages if p.error is not None and p.index == worst.index)
            assert failed.error is not None
            code, message = failed.error.code.value, failed.error.message
        elif worst.status is Status.REJECTED:
            known = {c.value for c in ReasonCode}
            code = next((r for r in worst.reasons if r in known), ReasonCode.NOT_A_DOCUMENT.value)
            message = f"page {worst.index + 1} does not look like a bank document we can read"
        return DocumentResult(
            source=doc.source,
            sha256=doc.sha256,
            media_type=doc.media_type,
            status=worst.status,
            pages=tuple(pages),
            reason_code=code,
            reason_message=message,
            model_sha256=model_sha,
            timings=_rounded(doc.timings),
        )


def _found(layout: Any) -> bool:
    """A document with an amount crop: the page needs no other view."""
    return bool(layout.is_document and "amount" in layout.crops)


def amount_score(result: FieldResult) -> float:
    """How well an amount read, to tell an upright page from one upside down: the mean
    probability of its glyphs, a reject counting 0, plus the field's confidence when it gave a
    value (0 to 2; 0 for no glyph)."""
    readable = [g.prob if g.label != REJECT else 0.0 for g in result.glyphs]
    sure = result.confidence if result.value is not None else 0.0
    return float(np.mean(readable)) + sure if readable else 0.0


def _rounded(timings: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 5) for k, v in timings.items()}


def read_documents(
    sources: Iterable[str | Path | bytes],
    config: PipelineConfig | None = None,
    *,
    classifier: Any = None,
    templates: Sequence[Any] | None = None,
    debug_dir: Path | None = None,
    field: str | None = None,
    batch_documents: int = BATCH_DOCUMENTS,
    workers: int | None = None,
) -> Iterator[DocumentResult]:
    """Read many documents in one process, streaming results in input order.

    The classifier and the templates are loaded once; the glyphs of up to ``batch_documents``
    documents are classified in one call. ``field`` ("amount" | "account") says each input is
    an already cropped field image. ``workers`` threads (default: the CPU count, at most 4)
    decode, prepare and locate the next documents while the classifier runs: the image stages
    spend their time in OpenCV, NumPy and poppler, which do not hold the GIL. At most
    ``2 * workers`` documents are in flight, so memory stays flat however long the input list.

    >>> for result in read_documents(["a.png", "b.pdf"]):           # doctest: +SKIP
    ...     print(result.source, result.status.value)
    """
    cfg = config or load_pipeline_config()
    reader = _Reader(cfg, classifier, templates, debug_dir, field)
    group: list[_LocatedDocument] = []
    n_workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    for located in _located_in_order(reader, sources, n_workers):
        group.append(located)
        if len(group) >= max(1, batch_documents):
            yield from _finish_group(reader, group)
            group = []
    yield from _finish_group(reader, group)


def _located_in_order(
    reader: _Reader, sources: Iterable[str | Path | bytes], workers: int
) -> Iterator[_LocatedDocument]:
    """Documents located by ``workers`` threads, yielded in input order, a bounded few ahead."""
    if workers <= 1:
        for source in sources:
            yield reader.locate_document(source)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="hdr-read") as pool:
        ahead: deque[Future[_LocatedDocument]] = deque()
        for source in sources:
            ahead.append(pool.submit(reader.locate_document, source))
            if len(ahead) >= 2 * workers:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()


def _finish_group(reader: _Reader, group: list[_LocatedDocument]) -> Iterator[DocumentResult]:
    if not group:
        return
    readable = [d for d in group if d.failure is None]
    by_doc = dict(zip(map(id, readable), reader.recognize(readable), strict=True))
    for doc in readable:
        try:
            by_doc[id(doc)] = reader.second_look(doc, by_doc[id(doc)])
        except HdrError:
            raise
        except Exception:  # the first reading stands
            log.exception("looking again at %s upside down failed", doc.source)
    for doc in group:
        try:
            yield reader.finish(doc, by_doc.get(id(doc)))
        except HdrError:
            raise
        except Exception as exc:
            log.exception("internal error deciding %s", doc.source)
            doc.failure = (Status.ERROR, ReasonCode.INTERNAL.value, f"{type(exc).__name__}: {exc}")
            yield reader.finish(doc, None)


def locate_documents(
    sources: Iterable[str | Path | bytes],
    config: PipelineConfig | None = None,
    *,
    templates: Sequence[Any] | None = None,
    workers: int | None = None,
) -> Iterator[tuple[str, list[tuple[int, list[FieldCrop]]]]]:
    """Triage, load, prepare and locate only: ``(source, [(page index, field crops), ...])`` per
    input, in order; pages and files that fail give no crops. No classifier is loaded (this is
    what training data for a reader of field crops is cut with, see hdr.datasets.lines).
    """
    cfg = config or load_pipeline_config()
    reader = _Reader(cfg, _NO_CLASSIFIER, templates, None, None)
    n_workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    for doc in _located_in_order(reader, sources, n_workers):
        pages = [] if doc.failure else [(p.index, p.crops) for p in doc.pages if p.error is None]
        yield doc.source, pages


_NO_CLASSIFIER = object()  # locate_documents never classifies


def read_document(
    source: str | Path | bytes,
    config: PipelineConfig | None = None,
    *,
    classifier: Any = None,
    debug_dir: Path | None = None,
    field: str | None = None,
) -> DocumentResult:
    """Read one document (a path or the file's bytes): every page's fields, values and status.

    >>> result = read_document("cheque.png")                         # doctest: +SKIP
    >>> result.pages[0].fields["amount"].value
    '1250.00'
    """
    return next(
        read_documents([source], config, classifier=classifier, debug_dir=debug_dir, field=field)
    )


__all__ = [
    "BATCH_DOCUMENTS",
    "locate_documents",
    "read_document",
    "read_documents",
    "result_records",
]
