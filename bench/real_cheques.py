"""Read the real cheques of the dev set end to end and score the amounts (docs/BENCHMARKS.md).

The cheques live in ../shared/data/real-cheques-dev/ (38 Indian CTS cheques, README and
labels.jsonl there); they are research data and are never copied into the repository. Every
file goes through :func:`hdr.pipeline.read_documents` (one process, batched recognition) with
the shipped config and model. Measured per cheque:

- *amount box found*: the page is a document and its amount crop lies where these cheques
  print the amount box (centre right of 60 % of the width, between 20 % and 60 % of the
  height); the crops themselves are written with ``--crops DIR`` to be looked at;
- *amount exact*: the value read equals the label, whatever the decision;
- *accepted*: the amount field's own status is ``accepted``; a *misread* is an accepted amount
  that differs from the label. The page status is reported too: these cheques carry a printed
  account number and no account cells, so with the shipped config a page is never accepted as
  a whole. The cheques are read a second time with ``decision.required_fields: [amount]``, the
  setting for such cheques, and those page statuses are reported beside.

Beside them, the same locator on fresh synthetic pages (``hdr.synth.document.render_page``,
seeds from 9700, never used while developing it), where boxes are known: a field is located
when its crop covers 85 % of the printed box with an IoU of at least 0.5 (crops are padded),
and for accounts when the cells found are as many as printed.

    nice -n 10 .venv/bin/python bench/real_cheques.py --write docs/BENCHMARKS.md
    .venv/bin/python bench/real_cheques.py --crops /tmp/real-crops      # look at the crops
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hdr.config import PipelineConfig, load_pipeline_config  # noqa: E402
from hdr.types import DocumentResult, FieldResult, Status  # noqa: E402

HEADING = "## Real cheques (dev set)"
DATA = REPO.parent / "shared" / "data" / "real-cheques-dev"
COMMAND = "nice -n 10 .venv/bin/python bench/real_cheques.py --write docs/BENCHMARKS.md"


@dataclass
class Outcome:
    file: str
    bank: str
    label: str
    result: DocumentResult

    @property
    def amount(self) -> FieldResult | None:
        pages = self.result.pages
        return pages[0].fields.get("amount") if pages else None

    @property
    def box_found(self) -> bool:
        page = self.result.pages[0] if self.result.pages else None
        field = self.amount
        if page is None or page.status == Status.REJECTED or field is None or field.box is None:
            return False
        w, h = page.width or 1, page.height or 1
        x0, y0, x1, y1 = field.box
        return (x0 + x1) / 2 > 0.6 * w and 0.2 * h < (y0 + y1) / 2 < 0.6 * h

    @property
    def exact(self) -> bool:
        return self.amount is not None and self.amount.value == self.label

    @property
    def accepted(self) -> bool:
        return self.amount is not None and self.amount.status == Status.ACCEPTED


def read_all(data: Path, config: PipelineConfig | None = None) -> tuple[list[Outcome], float]:
    """Every cheque of ``data`` read with ``config`` (the shipped one by default), and the wall
    time it took."""
    from hdr.pipeline import read_documents

    labels = [
        json.loads(line)
        for line in (data / "labels.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    paths = [data / row["file"] for row in labels]
    start = time.perf_counter()
    results = list(read_documents(paths, config or load_pipeline_config()))
    wall = time.perf_counter() - start
    outcomes = [
        Outcome(row["file"], row["bank"], row["amount"], result)
        for row, result in zip(labels, results, strict=True)
    ]
    return outcomes, wall


def locate_cpu(outcomes: list[Outcome], data: Path) -> float:
    """CPU seconds per cheque of locate_fields alone (the pipeline's timings are wall time)."""
    from hdr.fields.locate import locate_fields
    from hdr.fields.templates import load_templates
    from hdr.io import PageError, iter_pages, triage
    from hdr.preprocess import prepare_page

    cfg = load_pipeline_config()
    templates = load_templates()
    total = 0.0
    for o in outcomes:
        for page in iter_pages(triage(data / o.file, cfg.limits), cfg):
            if isinstance(page, PageError):
                continue
            prepared = prepare_page(page, cfg)
            start = time.process_time()
            locate_fields(prepared, templates, cfg)
            total += time.process_time() - start
    return total / max(1, len(outcomes))


def write_crops(outcomes: list[Outcome], folder: Path) -> None:
    """Each amount crop as PNG, named by file and what was read, to check them by eye."""
    folder.mkdir(parents=True, exist_ok=True)
    for o in outcomes:
        field = o.amount
        if field is not None and field.crop_png:
            read = (field.value or "none").replace("/", "_")
            (folder / f"{Path(o.file).stem}_{read}.png").write_bytes(field.crop_png)


@dataclass
class SynthTally:
    pages: int = 0
    document_ok: int = 0
    layout_ok: int = 0
    amount_ok: int = 0
    account_ok: int = 0
    fields: int = 0
    unsure: int = 0
    seconds: float = 0.0
    cpu: float = 0.0


def synthetic(n: int, seed: int = 9700) -> dict[str, SynthTally]:
    """Locate fields on ``n`` fresh synthetic pages: template layouts, unseen ones, others."""
    import cv2
    import numpy as np

    from hdr.fields.evaluate import box_iou, coverage, truth_on_prepared
    from hdr.fields.locate import locate_fields
    from hdr.fields.templates import load_templates
    from hdr.preprocess import prepare_page
    from hdr.synth.document import PageSpec, all_templates, render_page
    from hdr.types import Page

    cfg = load_pipeline_config()
    templates = load_templates()
    layouts = [*all_templates(), "not_a_document"]
    tallies = {k: SynthTally() for k in ("template layouts", "unseen layouts", "not a document")}
    for i in range(n):
        layout = layouts[i % len(layouts)]
        spec = PageSpec(layout=layout, dpi=(150, 200, 300)[(i // len(layouts)) % 3])
        rendered = render_page(spec, np.random.default_rng(seed + i))
        image = rendered.image
        if image.ndim == 3:
            image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        page = prepare_page(Page(0, image, rendered.truth["dpi"]), cfg)
        start, cpu = time.perf_counter(), time.process_time()
        located = locate_fields(page, templates, cfg)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        truth = rendered.truth
        key = (
            "not a document"
            if layout == "not_a_document"
            else "unseen layouts"
            if truth["unseen"]
            else "template layouts"
        )
        t = tallies[key]
        t.pages += 1
        t.seconds += elapsed
        t.cpu += cpu
        t.unsure += "layout_unsure" in located.flags
        if layout == "not_a_document":
            t.document_ok += not located.is_document
            t.layout_ok += located.name == "none"
            continue
        t.document_ok += located.is_document
        wanted = "generic" if truth["unseen"] else f"template:{layout}"
        t.layout_ok += located.name == wanted
        for name in ("amount", "account"):
            t.fields += name == "amount"
            box = truth_on_prepared(truth["boxes"][name], page.gray.shape, page.skew_deg)
            crop = located.crops.get(name)
            ok = (
                crop is not None
                and coverage(box, crop.box) >= 0.85
                and box_iou(box, crop.box) >= 0.5
                and (name == "amount" or len(crop.cells) == len(truth["cells"]))
            )
            if name == "amount":
                t.amount_ok += ok
            else:
                t.account_ok += ok
    return tallies


def pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.0f} %)" if d else "0/0"


def synthetic_rows(tallies: dict[str, SynthTally]) -> list[str]:
    rows = [
        "| pages | document decided right | layout (template / generic / none) right | "
        "amount box located | account cells located | `layout_unsure` | ms per page | "
        "CPU ms per page |",
        "|---|---|---|---|---|---|---:|---:|",
    ]
    for name, t in tallies.items():
        if not t.pages:
            continue
        fields = (
            ("-", "-")
            if name == "not a document"
            else (pct(t.amount_ok, t.fields), pct(t.account_ok, t.fields))
        )
        rows.append(
            f"| {name}: {t.pages} | {pct(t.document_ok, t.pages)} | {pct(t.layout_ok, t.pages)}"
            f" | {fields[0]} | {fields[1]} | {t.unsure} | {1000 * t.seconds / t.pages:.0f} | "
            f"{1000 * t.cpu / t.pages:.0f} |"
        )
    return rows


def page_statuses(outcomes: list[Outcome]) -> Counter[str]:
    return Counter(o.result.pages[0].status.value if o.result.pages else "error" for o in outcomes)


def wrong_pages(outcomes: list[Outcome]) -> int:
    """Pages accepted whose amount is not the label's."""
    return sum(
        bool(o.result.pages) and o.result.pages[0].status == Status.ACCEPTED and not o.exact
        for o in outcomes
    )


def amount_only_config(config: PipelineConfig | None) -> PipelineConfig:
    """``config`` (the shipped one by default) with only the amount required on a page."""
    cfg = config or load_pipeline_config()
    decision = cfg.decision.model_copy(update={"required_fields": ("amount",)})
    return cfg.model_copy(update={"decision": decision})


def section(
    outcomes: list[Outcome],
    wall: float,
    tallies: dict[str, SynthTally],
    cpu: float,
    config: PipelineConfig | None = None,
    amount_only: list[Outcome] | None = None,
) -> str:
    n = len(outcomes)
    found = sum(o.box_found for o in outcomes)
    exact = sum(o.exact for o in outcomes)
    accepted = [o for o in outcomes if o.accepted]
    misread = sum(not o.exact for o in accepted)
    pages = page_statuses(outcomes)
    layouts = Counter(o.result.pages[0].layout if o.result.pages else "none" for o in outcomes)
    reasons = Counter(r for o in outcomes if o.result.pages for r in o.result.pages[0].reasons)
    rows = []
    for bank in sorted({o.bank for o in outcomes}):
        group = [o for o in outcomes if o.bank == bank]
        acc = [o for o in group if o.accepted]
        rows.append(
            f"| {bank} | {len(group)} | {sum(o.box_found for o in group)} | "
            f"{sum(o.exact for o in group)} | {len(acc)} | {sum(not o.exact for o in acc)} |"
        )
    locate_s = sum(o.result.timings.get("locate", 0.0) for o in outcomes)
    cfg = config or load_pipeline_config()
    load = os.getloadavg()[0]
    lines = [
        HEADING,
        "",
        f"Command: `{COMMAND}`. Data: the {n} cheques of `../shared/data/real-cheques-dev/` "
        "(Indian CTS leaves, colour JPEG at about 300 dpi and one bitonal 200-dpi TIFF; never "
        f"used for training; the field locator was developed looking at them). Model "
        f"`{cfg.model.path}` (sha256 {(cfg.model.sha256 or 'unpinned')[:12]}), thresholds as "
        "configured. Machine: "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores shared with other "
        f"work (load average {load:.1f}).",
        "",
        "| measure | result |",
        "|---|---|",
        f"| amount box found (document, crop where the box is printed) | {pct(found, n)} |",
        f"| amount read exactly (any decision) | {pct(exact, n)} |",
        f"| amount accepted automatically | {pct(len(accepted), n)} |",
        f"| misreads among accepted amounts | {pct(misread, len(accepted))} |",
        f"| page status | {', '.join(f'{k} {v}' for k, v in sorted(pages.items()))} |",
        *(
            [
                "| page status, `decision.required_fields: [amount]` | "
                f"{', '.join(f'{k} {v}' for k, v in sorted(page_statuses(amount_only).items()))}"
                f"; pages accepted with a wrong amount: {wrong_pages(amount_only)} |"
            ]
            if amount_only is not None
            else []
        ),
        f"| layout | {', '.join(f'{k} {v}' for k, v in sorted(layouts.items(), key=str))} |",
        f"| time | {wall:.1f} s wall for {n} cheques, {1000 * locate_s / n:.0f} ms of it "
        f"per cheque locating fields; {1000 * cpu:.0f} ms of CPU per cheque for that alone |",
        "",
        "| bank | cheques | box found | exact | accepted | misread |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Most frequent reasons for review: "
        + ", ".join(f"`{r}` {c}" for r, c in reasons.most_common(8))
        + ".",
        "",
        "Field location alone, on fresh synthetic pages (seeds from 9700; 150, 200 and 300 dpi; "
        "scan effects on; every layout in turn, `unseen_*` ones having no template):",
        "",
        *synthetic_rows(tallies),
        "",
        "No template describes these leaves, so every page goes through the generic locator "
        "(`layout_generic`): it finds the amount box from the printed rules, the rupee sign in "
        "its own cell or inside the box is left out of the crop. The account numbers are "
        "printed, not written in cells, so `field_not_found:account` sends every page to "
        "review whatever the amount, unless the config requires only the amount "
        "(`decision.required_fields: [amount]`, the second page-status row); the amount "
        "field's own decision is the figure to compare "
        "with the synthetic sets in *Reading pipeline* above. This section is written by the "
        "command above; edit the code, not the numbers.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder with labels.jsonl")
    parser.add_argument("--write", type=Path, help="Markdown file whose section to replace")
    parser.add_argument("--crops", type=Path, help="write the amount crops here (PNG)")
    parser.add_argument(
        "--why", action="store_true", help="also print each amount's glyphs, confidence, flags"
    )
    parser.add_argument(
        "--synthetic", type=int, default=180, help="synthetic pages to locate fields on"
    )
    parser.add_argument(
        "--model", type=Path, help="read with this glyph model (pinned to its own hash)"
    )
    args = parser.parse_args()
    if args.model is not None and args.write:
        sys.exit("--model is for comparing models: the written section is the shipped model's")
    if not (args.data / "labels.jsonl").exists():
        sys.exit(f"real cheques not found at {args.data} (research data, kept out of the repo)")
    config = None
    if args.model is not None:
        from bench.tune import config_for

        config = config_for(args.model)
    outcomes, wall = read_all(args.data, config)
    amount_only, _ = read_all(args.data, amount_only_config(config))
    for o in outcomes:
        a = o.amount
        why = a is not None and args.why
        print(
            f"{o.file:22} {o.bank:13} label {o.label:>12}  read {a.value if a else None!s:>12} "
            f"{a.status.value if a else '-':8} {'found' if o.box_found else 'MISSED':6} "
            f"{'' if o.exact else 'x'}"
            + (f"  {a.raw_text:18} {a.confidence:.4f} {','.join(a.flags)}" if why else "")
        )
    if args.crops:
        write_crops(outcomes, args.crops)
        print(f"amount crops written to {args.crops}")
    tallies = synthetic(args.synthetic)
    text = section(outcomes, wall, tallies, locate_cpu(outcomes, args.data), config, amount_only)
    print(text)
    if args.write:
        from hdr.train.baselines_bench import replace_markdown_section

        replace_markdown_section(args.write, HEADING, text)
        print(f"wrote {HEADING!r} to {args.write}")


if __name__ == "__main__":
    main()
