"""`hdr synth`: the truth describes what is drawn, runs are reproducible, every format decodes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from pdf2image import convert_from_path, pdfinfo_from_path
from PIL import Image

from hdr.classify.normalize import normalize_glyph
from hdr.datasets.mnist import load_mnist
from hdr.errors import UsageError
from hdr.fields.templates import load_templates
from hdr.synth import SynthOptions, generate, read_truth
from hdr.synth.amounts import amount_in_words, canonical, format_amount
from hdr.synth.document import PageSpec, all_templates, render_page
from hdr.synth.generate import PDF_DPI
from hdr.synth.truth import HARD_CASES, TruthRecord

SHIPPED = [t.name for t in load_templates()]
MIXED = SynthOptions(
    n=8,
    seed=11,
    formats=("png", "jpg", "tif", "pdf"),
    hard_share=0.3,
    unseen_share=0.3,
    multipage_share=1.0,
)


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[TruthRecord]]:
    out = tmp_path_factory.mktemp("mixed")
    return out, generate(out, MIXED)


@pytest.fixture(scope="module")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    return load_mnist("test")


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def _inner(box: tuple[int, ...] | list[int], fx: float, fy: float) -> tuple[slice, slice]:
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) * fx, (y1 - y0) * fy
    return slice(int(y0 + dy), int(y1 - dy)), slice(int(x0 + dx), int(x1 - dx))


def _parse_written(text: str, decimal_mark: str) -> str:
    """An independent reading of a written amount: the canonical two-decimal value."""
    core = re.sub(r"[₹$€*#]", "", text).removesuffix("/-")
    group = "," if decimal_mark == "." else "."
    whole, _, cents = core.partition(decimal_mark)
    return f"{int(whole.replace(group, ''))}.{cents or '00'}"


# ---------------------------------------------------------------- written forms


@pytest.mark.parametrize(
    ("cents", "style", "mark", "written"),
    [
        (125000, "plain", ".", "1250"),
        (125050, "plain", ".", "1250.50"),
        (125000, "cents", ".", "1250.00"),
        (123456700, "grouped", ".", "1,234,567"),
        (123456700, "indian", ".", "12,34,567"),
        (10000000, "indian", ".", "1,00,000"),
        (125000, "slash_dash", ".", "1250/-"),
        (125050, "grouped", ",", "1.250,50"),
        (99900, "grouped", ",", "999"),
    ],
)
def test_amount_written_forms(cents: int, style: str, mark: str, written: str) -> None:
    assert format_amount(cents, style, mark) == written
    assert _parse_written(written, mark) == canonical(cents)


def test_amount_in_words() -> None:
    assert amount_in_words("1250.50") == "one thousand two hundred fifty and 50/100"
    assert amount_in_words("2000000.00") == "two million only"


# ---------------------------------------------------------------- determinism and formats


def test_same_seed_same_bytes_whatever_the_workers(tmp_path: Path, mixed_run) -> None:
    out, _ = mixed_run
    again = tmp_path / "again"
    generate(again, SynthOptions(**{**MIXED.__dict__, "workers": 1}))
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        assert (out / name).read_bytes() == (again / name).read_bytes(), name
    other = tmp_path / "other"
    generate(other, SynthOptions(**{**MIXED.__dict__, "seed": 12, "n": 2}))
    assert (other / "doc_0001.png").read_bytes() != (out / "doc_0001.png").read_bytes()


def test_every_format_decodes_to_the_size_truth_says(mixed_run) -> None:
    out, records = mixed_run
    assert {r.format for r in records} == {"png", "jpg", "tif", "pdf"}
    for name in sorted({r.file for r in records}):
        pages = [r for r in records if r.file == name]
        assert [r.page for r in pages] == list(range(pages[0].pages))
        path = out / name
        if path.suffix == ".pdf":
            assert pdfinfo_from_path(str(path))["Pages"] == len(pages) >= 2
            images = convert_from_path(str(path), dpi=PDF_DPI)
            assert [im.size for im in images] == [tuple(r.size) for r in pages]
            assert all(r.dpi == PDF_DPI for r in pages)
        else:
            with Image.open(path) as im:
                assert im.size == tuple(pages[0].size)
                assert round(im.info["dpi"][0]) == pages[0].dpi
                assert im.mode in ("RGB", "L", "1")


def test_hard_pages_at_300_dpi_say_so_in_file_and_truth(tmp_path: Path) -> None:
    opts = SynthOptions(n=3, seed=1, formats=("jpg",), dpi=(300, 300), hard_share=1.0)
    records = generate(tmp_path, opts)
    assert {r.hard_case for r in records} >= {"not_a_document", "crossed_out"}
    for r in records:
        with Image.open(tmp_path / r.file) as im:
            assert im.info["dpi"][0] == pytest.approx(300) and r.dpi == 300
            assert im.size == tuple(r.size)


def test_no_timestamps_in_pdf(mixed_run) -> None:
    out, records = mixed_run
    pdf = next(out / r.file for r in records if r.format == "pdf")
    assert b"CreationDate" not in pdf.read_bytes() and b"ModDate" not in pdf.read_bytes()


# ---------------------------------------------------------------- truth describes the page


def test_truth_values_match_written_glyphs(mixed_run, mnist_test) -> None:
    _, records = mixed_run
    labels = mnist_test[1]
    templates = all_templates()
    docs = [r for r in records if r.kind != "other"]
    assert docs and any(r.unseen for r in docs)
    for r in docs:
        t = templates[r.layout]
        assert r.unseen == (r.layout not in SHIPPED)
        if r.amount is not None:
            assert re.fullmatch(r"\d+\.\d\d", r.amount)
            assert _parse_written(r.amount_text or "", t.decimal_mark) == r.amount
        if r.account is not None:
            lo, hi = t.fields.account.length
            assert r.account.isdigit() and lo <= len(r.account) <= hi
        for field, text in (("amount", r.amount_text), ("account", r.account_text)):
            glyphs = r.glyphs[field]
            assert "".join(g.label for g in glyphs) == (text or "")
            for g in glyphs:  # every MNIST glyph comes from the TEST split, with its own label
                if g.source.startswith("mnist-test:"):
                    assert str(labels[int(g.source.split(":")[1])]) == g.label
        assert [g.cell for g in r.glyphs["account"]] == list(range(len(r.account_text or "")))
        assert len(r.cells) == t.fields.account.cells


@pytest.mark.parametrize("layout", [*SHIPPED, "unseen_underlined"])
def test_ink_lies_in_the_written_boxes_and_not_in_blank_ones(layout: str) -> None:
    for seed in range(3):
        written = render_page(PageSpec(layout=layout, dpi=200), np.random.default_rng(seed))
        blank = render_page(
            PageSpec(layout=layout, dpi=200, hard_case="blank_amount"), np.random.default_rng(seed)
        )
        for page, expect_ink in ((written, True), (blank, False)):
            gray = _gray(page.image)
            crop = gray[_inner(page.truth["boxes"]["amount"], 0.12, 0.22)]
            dark = float((crop < 110).mean())
            assert (dark > 0.01) if expect_ink else (dark < 0.002), (layout, seed, dark)
        assert blank.truth["amount"] is None and blank.truth["expected_status"] == "review"
        assert blank.truth["account"] == written.truth["account"] is not None


@pytest.mark.parametrize("layout", SHIPPED)
def test_one_ink_group_per_account_digit_in_its_cell(layout: str) -> None:
    page = render_page(PageSpec(layout=layout, dpi=200, clean=True), np.random.default_rng(3))
    gray = _gray(page.image)
    ink = (gray < 140).astype(np.uint8)
    # the printed cell grid is ink too: keep only the insides of the cells
    mask = np.zeros_like(ink)
    for cell in page.truth["cells"]:
        mask[_inner(cell, 0.14, 0.12)] = 1
    ink = cv2.morphologyEx(ink * mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    n, _, stats, centroids = cv2.connectedComponentsWithStats(ink)
    cells_with_ink = set()
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < 12:
            continue
        cx = centroids[i][0]
        cells_with_ink |= {k for k, c in enumerate(page.truth["cells"]) if c[0] <= cx < c[2]}
    assert cells_with_ink == set(range(len(page.truth["account"])))


def test_mnist_glyphs_read_back_at_their_truth_boxes(mnist_test) -> None:
    """Crop each MNIST glyph at its truth box: it matches its source test image, not others."""
    images, labels = mnist_test
    rng = np.random.default_rng(0)

    def features(ink: np.ndarray) -> np.ndarray:  # blurred, so pen width matters little
        return cv2.GaussianBlur(normalize_glyph(ink), (0, 0), 1.5).ravel()

    own, best = [], []
    for seed, layout in enumerate(SHIPPED * 2):
        page = render_page(
            PageSpec(layout=layout, dpi=200, clean=True), np.random.default_rng(seed)
        )
        gray = _gray(page.image)
        for g in page.truth["glyphs"]["account"] + page.truth["glyphs"]["amount"]:
            if not g["source"].startswith("mnist-test:"):
                continue
            x0, y0, x1, y1 = g["box"]
            crop = 255 - gray[y0:y1, x0:x1]
            crop[crop < 60] = 0
            seen = features(crop)
            index = int(g["source"].split(":")[1])
            others = [
                int(rng.choice(np.flatnonzero(labels == d)))
                for d in range(10)
                if str(d) != g["label"]
            ]
            scores = {
                i: float(np.corrcoef(seen, features(images[i]))[0, 1]) for i in (index, *others)
            }
            own.append(scores[index])
            best.append(max(scores, key=scores.__getitem__) == index)
    assert len(own) >= 150
    assert min(own) > 0.55 and float(np.mean(own)) > 0.85
    assert float(np.mean(best)) > 0.97  # a few MNIST 4s look like 9s: honest test digits


def test_printed_amount_box_is_where_the_template_says() -> None:
    for layout in SHIPPED:
        page = render_page(PageSpec(layout=layout, dpi=200, clean=True), np.random.default_rng(1))
        t = all_templates()[layout]
        rect = t.anchor("amount_box")
        assert rect is not None
        h, w = page.image.shape[:2]
        x0, y0, x1, y1 = t.to_pixels(rect.box, w, h)
        gray = _gray(page.image)
        for y in (y0, y1):  # the rectangle's top and bottom rules, within a pixel
            edge = gray[y - 1 : y + 2, x0 + 5 : x1 - 5].min(axis=0)
            assert float((edge < 150).mean()) > 0.95, (layout, y)


@pytest.mark.parametrize("case", HARD_CASES)
def test_hard_cases_carry_their_expected_status(case: str) -> None:
    page = render_page(
        PageSpec(layout="in_cts2010", dpi=150, hard_case=case), np.random.default_rng(5)
    )
    truth = page.truth
    assert truth["hard_case"] == case
    if case == "not_a_document":
        assert truth["expected_status"] == "rejected" and truth["kind"] == "other"
        assert truth["boxes"] == {} and truth["amount"] is None and truth["account"] is None
        return
    assert truth["expected_status"] == "review"
    assert (truth["amount"] is None) == (
        case in ("blank_amount", "crossed_out", "letter_in_amount")
    )
    assert (truth["account"] is None) == (case in ("blank_account", "letter_in_account"))
    if case.startswith("letter_in_"):
        text = truth[case.removeprefix("letter_in_") + "_text"]
        assert re.search(r"[A-Za-z]", text)


def test_unseen_layouts_are_not_shipped_templates(tmp_path: Path) -> None:
    records = generate(tmp_path, SynthOptions(n=4, seed=3, hard_share=0.0, unseen_share=1.0))
    assert all(r.unseen and r.layout.startswith("unseen_") for r in records)
    assert not {r.layout for r in records} & set(SHIPPED)


def test_an_earlier_run_is_replaced_but_other_files_stay(tmp_path: Path) -> None:
    generate(tmp_path, SynthOptions(n=3, seed=1, workers=1))
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    records = generate(tmp_path, SynthOptions(n=1, seed=2, workers=1))
    assert [r.file for r in records] == ["doc_0001.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "doc_0001.png",
        "notes.txt",
        "truth.jsonl",
    ]


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    for bad in (
        {"formats": ("gif",)},
        {"dpi": (300, 150)},
        {"hard_share": 1.5},
        {"layouts": ("nope",)},
    ):
        with pytest.raises(UsageError):
            generate(tmp_path, SynthOptions(n=1, **bad))  # type: ignore[arg-type]


# ---------------------------------------------------------------- the command and the sample


def test_cli_writes_n_documents_and_truth(tmp_path: Path) -> None:
    out = tmp_path / "inbox"
    cmd = [
        sys.executable,
        "-m",
        "hdr",
        "synth",
        "--out",
        str(out),
        "--n",
        "3",
        "--seed",
        "4",
        "--formats",
        "jpg,pdf",
        "--multipage-share",
        "0",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "doc_0001.jpg",
        "doc_0002.pdf",
        "doc_0003.jpg",
        "truth.jsonl",
    ]
    assert len(read_truth(out / "truth.jsonl")) == 3
    bad = subprocess.run(
        [*cmd[:-4], "--formats", "gif"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2 and "unknown format" in bad.stderr


def test_committed_sample_is_complete_and_current(resources: Path, tmp_path: Path) -> None:
    sample = resources / "sample"
    records = read_truth(sample / "truth.jsonl")
    files = sorted({r.file for r in records})
    assert files == sorted(p.name for p in sample.iterdir() if p.name.startswith("doc_"))
    assert {r.expected_status for r in records} == {"accepted", "review", "rejected"}
    assert {r.format for r in records} == {"png", "jpg", "tif", "pdf"}
    assert any(r.pages > 1 for r in records) and any(r.unseen for r in records)
    # the README's command makes these very bytes (regenerate the sample when this fails)
    readme = (sample / "README.md").read_text(encoding="utf-8")
    command = re.search(r"^hdr synth (.+)$", readme, re.MULTILINE)
    assert command is not None
    args = command.group(1).replace("tests/resources/sample", str(tmp_path)).split()
    proc = subprocess.run(
        [sys.executable, "-m", "hdr", "synth", *args], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    for name in [*files, "truth.jsonl"]:
        assert (tmp_path / name).read_bytes() == (sample / name).read_bytes(), name


def test_the_generator_never_forks_a_process_that_runs_other_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fork copies the locks other threads hold (Prefect's client and log shipping run in
    threads); a forked pool inside a flow hung that way. With a thread running, the pool is
    spawned, and makes the same files as one process does."""
    import threading

    from hdr.synth.generate import _start_method

    with monkeypatch.context() as mp:
        mp.setattr(threading, "active_count", lambda: 1)
        assert _start_method() == "fork"  # alone in its process: the cheap way is safe
        mp.setattr(threading, "active_count", lambda: 3)
        assert _start_method() == "spawn"
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert _start_method() == "spawn"
        generate(tmp_path / "two", SynthOptions(n=2, seed=5, workers=2, formats=("png",)))
    finally:
        stop.set()
        other.join()
    generate(tmp_path / "one", SynthOptions(n=2, seed=5, workers=1, formats=("png",)))
    for name in ("doc_0001.png", "doc_0002.png", "truth.jsonl"):
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()


def test_cached_sets_are_named_by_the_generator_that_made_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Training data and benchmark sets made from generated pages carry the generator's
    version: after a change that makes other pages for a seed, they are made again."""
    import sys

    from hdr.datasets.harvest import HarvestSpec
    from hdr.datasets.lines import LineSpec

    gen = sys.modules["hdr.synth.generate"]
    names = (LineSpec(n=10, seed=7101).file_name(), HarvestSpec(n=10).file_name("ab" * 32))
    assert all(f"-g{gen.GENERATOR_VERSION}" in name for name in names)
    monkeypatch.setattr(gen, "GENERATOR_VERSION", gen.GENERATOR_VERSION + 1)
    later = (LineSpec(n=10, seed=7101).file_name(), HarvestSpec(n=10).file_name("ab" * 32))
    assert all(a != b for a, b in zip(names, later, strict=True))
