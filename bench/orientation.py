"""Pages turned, tilted or laid on a larger sheet: read as they lie, against the same page upright.

Every page is read upright, turned clockwise by 90, 180 and 270 degrees, tilted by 8 and -12
degrees, and laid on a white A4 sheet, upright and turned 90 degrees (in memory, saved as PNG
with its dpi; a tilted page on a canvas that holds it all), by one
:func:`hdr.pipeline.read_documents` call per view with the shipped config. For each view the
script counts the pages whose result equals the upright page's
(status, amount and account values), the turn the pipeline says it read them at
(``page_turned_90`` / ``_180`` / ``_270`` in the reasons; :mod:`hdr.preprocess.orient`), the
ones sent to a person for it (``turn_unsure``) and the statuses, and the CPU time per page
(the reading's alone: the turned files are made before the clock starts).

Pages: the real cheques of ../shared/data/real-cheques-dev/ when they are there (research
data, never copied into the repository) and the single-page documents of a fresh synthetic set
(``hdr synth --seed 9802``, never used for tuning or developing this: the failures of seed
9801 were looked at while the turn rules were written). The real cheques were looked at too.

    nice -n 10 .venv/bin/python bench/orientation.py --write docs/BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hdr.types import DocumentResult, Status  # noqa: E402

HEADING = "## Pages turned, tilted or on a larger sheet"
REAL = REPO.parent / "shared" / "data" / "real-cheques-dev"
# (name, clockwise degrees, laid on an A4 sheet first); 8 and -12 degrees tilt the page
VIEWS = (
    ("upright", 0, False),
    ("turned 90", 90, False),
    ("turned 180", 180, False),
    ("turned 270", 270, False),
    ("tilted 8", 8, False),
    ("tilted -12", -12, False),
    ("on an A4 sheet", 0, True),
    ("on an A4 sheet, turned 90", 90, True),
)
COMMAND = "nice -n 10 .venv/bin/python bench/orientation.py --write docs/BENCHMARKS.md"


@dataclass
class Tally:
    pages: int = 0
    same: int = 0  # status and values as read upright
    found: int = 0  # read at the turn that brings it upright (0 for the upright pages)
    unsure: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    wrong_accepted: int = 0  # accepted with an amount other than the upright reading's
    cpu: float = 0.0


def _key(result: DocumentResult) -> tuple:
    page = result.pages[0] if result.pages else None
    if page is None:
        return (result.status.value,)
    values = tuple(sorted((k, f.value) for k, f in page.fields.items()))
    return (page.status.value, values)


def _tilted(array: Any, degrees: float) -> Any:
    """``array`` turned clockwise by ``degrees`` on a canvas that holds it all, white around."""
    import cv2

    h, w = array.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -degrees, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    white = (255,) * (array.shape[2] if array.ndim == 3 else 1)
    return cv2.warpAffine(array, m, (nw, nh), borderValue=white)


def _on_a4(array: Any, dpi: tuple[float, float]) -> Any:
    """``array`` laid at the top left of a white A4 sheet of its dpi (3 mm and 8 mm in)."""
    import numpy as np

    sheet_h, sheet_w = round(11.69 * dpi[1]), round(8.27 * dpi[0])
    h, w = array.shape[:2]
    top, left = round(0.3 * dpi[1]), round(0.12 * dpi[0])
    shape = (max(sheet_h, top + h), max(sheet_w, left + w), *array.shape[2:])
    sheet = np.full(shape, 255, np.uint8)
    sheet[top : top + h, left : left + w] = array
    return sheet


def turned_png(path: Path, degrees: int, sheet: bool = False) -> bytes:
    """The file's first page (laid on an A4 sheet when ``sheet``) turned clockwise by
    ``degrees`` (a quarter turn exactly, or any angle on a larger canvas), as PNG bytes with
    its dpi."""
    import numpy as np
    from PIL import Image

    from hdr.preprocess.orient import turn_image

    with Image.open(path) as img:
        dpi = img.info.get("dpi")
        array = np.asarray(img.convert("RGB") if img.mode not in ("L", "RGB") else img)
    if sheet:
        array = _on_a4(array, tuple(float(v) for v in dpi) if dpi else (300.0, 300.0))
    turned = turn_image(array, degrees) if degrees % 90 == 0 else _tilted(array, degrees)
    out = Image.fromarray(np.ascontiguousarray(turned))
    buf = io.BytesIO()
    out.save(buf, format="PNG", **({"dpi": tuple(float(v) for v in dpi)} if dpi else {}))
    return buf.getvalue()


def synthetic_pages(n: int, seed: int) -> list[Path]:
    """The single-page image documents of a fresh ``hdr synth`` set (made once, cached)."""
    from hdr.config import Settings
    from hdr.synth.generate import set_tag

    folder = Settings().data_dir / "bench-orient" / f"seed{seed}-n{n}-{set_tag()}"
    if not (folder / "truth.jsonl").exists():
        cmd = [sys.executable, "-m", "hdr", "synth", "--out", str(folder), "--n", str(n)]
        cmd += ["--seed", str(seed), "--formats", "png,jpg,tif"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    rows = [json.loads(line) for line in (folder / "truth.jsonl").read_text().splitlines()]
    return [folder / r["file"] for r in rows if r.get("pages", 1) == 1 and r.get("page", 0) == 0]


def measure(paths: list[Path]) -> dict[str, Tally]:
    """Read every page in every view; tallies per view."""
    from hdr.pipeline import read_documents
    from hdr.preprocess.extent import cropped_of
    from hdr.preprocess.orient import turn_of

    tallies = {name: Tally() for name, _, _ in VIEWS}
    upright: dict[Path, tuple] = {}
    upright_amount: dict[Path, str | None] = {}
    for name, degrees, sheet in VIEWS:
        # made before the clock starts: the CPU time is the reading's alone
        sources: list[bytes | Path] = [
            p if name == "upright" else turned_png(p, degrees, sheet) for p in paths
        ]
        tally = tallies[name]
        started = time.process_time()
        for path, result in zip(paths, read_documents(sources), strict=True):
            tally.pages += 1
            page = result.pages[0] if result.pages else None
            reasons = tuple(page.reasons) if page else ()
            amount = page.fields.get("amount") if page else None
            if name == "upright":
                upright[path] = _key(result)
                upright_amount[path] = amount.value if amount else None
            tally.same += _key(result) == upright[path]
            if degrees % 90 == 0:  # read as it would be upright: turned back, cut out
                turned_back = turn_of(reasons) == (360 - degrees) % 360
                tally.found += turned_back and (cropped_of(reasons) is not None) == sheet
            tally.unsure += any("turn_unsure" in r for r in reasons)
            tally.statuses[result.status.value] += 1
            tally.wrong_accepted += bool(
                amount is not None
                and amount.status is Status.ACCEPTED
                and amount.value != upright_amount[path]
            )
        tally.cpu = time.process_time() - started
    return tallies


def rows(name: str, tallies: dict[str, Tally]) -> list[str]:
    out = []
    for (view, degrees, _), t in zip(VIEWS, tallies.values(), strict=True):
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(t.statuses.items()))
        found = t.found if degrees % 90 == 0 else "-"
        out.append(
            f"| {name} | {view} | {t.pages} | {t.same} ({100 * t.same / max(1, t.pages):.0f} %)"
            f" | {found} | {t.unsure} | {statuses} | {t.wrong_accepted}"
            f" | {1000 * t.cpu / max(1, t.pages):.0f} |"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="synthetic documents to generate")
    parser.add_argument("--seed", type=int, default=9802, help="seed of the synthetic set")
    parser.add_argument("--real", type=Path, default=REAL, help="folder of the real cheques")
    parser.add_argument("--write", type=Path, help="Markdown file whose section to replace")
    args = parser.parse_args()
    table = [
        "| pages | view | pages | read as upright | view found | `turn_unsure`"
        " | statuses | accepted with another amount | CPU ms per page |",
        "|---|---:|---:|---|---:|---:|---|---:|---:|",
    ]
    if (args.real / "labels.jsonl").exists():
        labels = [json.loads(x) for x in (args.real / "labels.jsonl").read_text().splitlines()]
        table += rows("real cheques", measure([args.real / r["file"] for r in labels]))
    else:
        print(f"real cheques not found at {args.real}: synthetic pages only", file=sys.stderr)
    table += rows(f"synthetic (seed {args.seed})", measure(synthetic_pages(args.n, args.seed)))
    text = "\n".join(
        [
            HEADING,
            "",
            f"Command: `{COMMAND}` (module docstring: what is counted). One process, the shipped"
            " config and model; every turned page is the upright file turned in memory and saved"
            " as PNG with its dpi.",
            "",
            *table,
            "",
            "*View found* counts the pages read at the turn that brings them upright (for the"
            " upright row: read as they lie), and cut to their part of the sheet where they lie"
            " on one (`page_cropped`), or not cut where they do not. Tilts of 8 and -12 degrees"
            " (turned clockwise) are deskewed"
            " (`hdr.preprocess.deskew`, up to 15 degrees). The pipeline looks for a quarter"
            " turn only on a page it finds no document, or no amount, on as it lies, and whose"
            " printed text runs from top to bottom (`hdr.preprocess.orient`); it then reads"
            " both quarter turns and keeps the better reading. A page that shows no amount as"
            " it lies, or whose amount reads poorly (no sure value), is read a half turn round"
            " as well, and kept so when its amount reads surely that way. On an A4 sheet, the page"
            " is laid 8 mm from the left and 3 mm from the top of a white sheet of its dpi (larger"
            " where the page is wider); the fields are located on the part that holds ink"
            " (`hdr.preprocess.extent`)."
            " This section is written by the command above; edit the code, not the numbers.",
            "",
        ]
    )
    print(text)
    if args.write:
        from hdr.train.baselines_bench import replace_markdown_section

        replace_markdown_section(args.write, HEADING, text)
        print(f"wrote {HEADING!r} to {args.write}")


if __name__ == "__main__":
    main()
