"""Side-by-side benchmark of the baselines and the CNN on MNIST: accuracy, speed, training time.

Protocol: every baseline is fitted on MNIST train (50,000), its hyper-parameters are chosen on
valid (10,000), and it is scored once on test (10,000). Speed is the wall-clock time of one
``predict_proba`` call on the whole test set (feature extraction included), as digits per
second on this machine's cores. Training time is one ``fit`` on train with the chosen setting.

>>> from hdr.train.baselines_bench import run_digit_benchmark, markdown_section
>>> report = run_digit_benchmark(limit_train=500, limit_eval=500)   # a smoke run
>>> print(markdown_section(report, "hdr bench digits --limit-train 500"))   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hdr.train.baselines import DigitBaseline, as_glyphs, default_baselines

SECTION_HEADING = "## Baselines"
CNN_NAME = "cnn"


@dataclass(frozen=True)
class BenchRow:
    """One line of the table. ``accuracy`` is None when the method could not run."""

    method: str
    description: str
    accuracy: float | None = None
    errors: int | None = None
    digits_per_s: float | None = None
    digits_per_cpu_s: float | None = None  # per second of this process's CPU (all threads)
    train_s: float | None = None
    train_cpu_s: float | None = None
    selection_s: float | None = None
    settings: str = ""
    valid_accuracy: float | None = None
    note: str = ""


@dataclass(frozen=True)
class BenchReport:
    rows: tuple[BenchRow, ...]
    n_train: int
    n_valid: int
    n_test: int
    date: str
    machine: str
    load_before: str
    load_after: str
    versions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or platform's guess elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_description() -> str:
    return (
        f"{os.cpu_count()} cores (nproc), {cpu_model()}, {platform.system()} {platform.machine()}"
    )


def _load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    versions = {"python": platform.python_version()}
    for dist in ("numpy", "scikit-learn", "scikit-image", "onnxruntime"):
        try:
            versions[dist] = version(dist)
        except ImportError:
            continue
    return versions


def _subset(
    images: np.ndarray, labels: np.ndarray, limit: int | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    if limit is None or limit >= len(images):
        return images, labels
    pick = np.sort(np.random.default_rng(seed).permutation(len(images))[:limit])
    return images[pick], labels[pick]


class Stopwatch:
    """Wall-clock and process CPU seconds (all threads) of a ``with`` block.

    CPU time hardly moves when other work shares the cores; wall time does.
    """

    wall_s: float = 0.0
    cpu_s: float = 0.0

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.wall_s = time.perf_counter() - self._wall
        self.cpu_s = max(time.process_time() - self._cpu, 1e-9)


def _timed_proba(
    predict: Callable[[np.ndarray], np.ndarray], glyphs: np.ndarray
) -> tuple[np.ndarray, Stopwatch]:
    with Stopwatch() as watch:
        proba = np.asarray(predict(glyphs))
    return proba, watch


def benchmark_baseline(
    model: DigitBaseline,
    train: tuple[np.ndarray, np.ndarray],
    valid: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
) -> BenchRow:
    """Select on valid, time a clean fit on train, then time and score ``predict_proba`` on test."""
    with Stopwatch() as selecting:
        selection = model.fit_tuned(train[0], train[1], valid[0], valid[1])
    with Stopwatch() as training:
        model.fit(train[0], train[1])  # deterministic: the same model fit_tuned kept
    proba, predicting = _timed_proba(model.predict_proba, as_glyphs(test[0]))
    errors = int((proba.argmax(axis=1) != test[1]).sum())
    return BenchRow(
        method=model.name,
        description=model.description,
        accuracy=1.0 - errors / len(test[1]),
        errors=errors,
        digits_per_s=len(test[1]) / predicting.wall_s,
        digits_per_cpu_s=len(test[1]) / predicting.cpu_s,
        train_s=training.wall_s,
        train_cpu_s=training.cpu_s,
        selection_s=selecting.wall_s,
        settings=selection.describe(),
        valid_accuracy=selection.valid_accuracy,
    )


def benchmark_cnn(test: tuple[np.ndarray, np.ndarray]) -> BenchRow:
    """The project's CNN through :func:`hdr.classify.predictor.load_classifier`.

    Never raises: when the predictor or its model is missing the row says why.
    """
    description = "the project's CNN (hdr.classify.predictor), digits = first 10 classes"
    try:
        from hdr.classify.predictor import load_classifier

        classifier = load_classifier()
        glyphs = as_glyphs(test[0])
        classifier.predict_proba(glyphs[:8])  # warm-up: the pipeline keeps one loaded model
        proba, predicting = _timed_proba(classifier.predict_proba, glyphs)
        if proba.ndim != 2 or proba.shape[0] != len(glyphs) or proba.shape[1] < 10:
            raise ValueError(f"predict_proba returned shape {proba.shape}, expected N x >=10")
    except Exception as exc:  # the row must explain itself, whatever went wrong
        first_line = (str(exc).strip().splitlines() or [""])[0][:200]
        reason = f"{type(exc).__name__}: {first_line}".rstrip(": ")
        return BenchRow(CNN_NAME, description, note=reason)
    errors = int((proba[:, :10].argmax(axis=1) != test[1]).sum())
    # Beyond predict_proba, read what the classifier tells about itself, when it does.
    training = getattr(getattr(classifier, "card", None), "training", None)
    seconds = training.get("seconds") if isinstance(training, dict) else None
    path, backend = getattr(classifier, "path", None), getattr(classifier, "backend", None)
    settings = ", ".join(str(x) for x in (getattr(path, "name", None), backend) if x)
    return BenchRow(
        method=CNN_NAME,
        description=description,
        accuracy=1.0 - errors / len(test[1]),
        errors=errors,
        digits_per_s=len(test[1]) / predicting.wall_s,
        digits_per_cpu_s=len(test[1]) / predicting.cpu_s,
        train_s=float(seconds) if isinstance(seconds, int | float) else None,
        settings=settings + " (train time from its model card)" if seconds else settings,
    )


def run_digit_benchmark(
    limit_train: int | None = None,
    limit_eval: int | None = None,
    data_dir: Path | None = None,
    baselines: Sequence[DigitBaseline] | None = None,
    include_cnn: bool = True,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> BenchReport:
    """Run every baseline (and the CNN) on MNIST; ``limit_*`` are for smoke runs only.

    ``limit_train`` keeps a random subset of train; ``limit_eval`` the first N of valid and test.
    """
    from hdr.datasets.mnist import load_mnist

    say = progress or (lambda _msg: None)
    load_before = _load_average()
    train = _subset(*load_mnist("train", data_dir), limit_train, seed)
    valid = _subset(*load_mnist("valid", data_dir), None, seed)
    test = _subset(*load_mnist("test", data_dir), None, seed)
    if limit_eval is not None:
        valid = (valid[0][:limit_eval], valid[1][:limit_eval])
        test = (test[0][:limit_eval], test[1][:limit_eval])
    rows = []
    for model in baselines if baselines is not None else default_baselines():
        say(f"{model.name}: selecting on valid, fitting, timing on test")
        rows.append(benchmark_baseline(model, train, valid, test))
    if include_cnn:
        say(f"{CNN_NAME}: loading the classifier")
        rows.append(benchmark_cnn(test))
    return BenchReport(
        rows=tuple(rows),
        n_train=len(train[1]),
        n_valid=len(valid[1]),
        n_test=len(test[1]),
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine_description(),
        load_before=load_before,
        load_after=_load_average(),
        versions=_versions(),
    )


# ---------------------------------------------------------------- presentation


def _number(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def format_cells(row: BenchRow) -> list[str]:
    """The table cells of a row as text, in the order of :data:`HEADERS`."""
    if row.accuracy is None:
        return [row.method, "not available", *["-"] * (len(HEADERS) - 3), row.note]
    settings = row.settings
    if row.valid_accuracy is not None:
        settings += f" (valid {row.valid_accuracy:.2%})"
    return [
        row.method,
        f"{row.accuracy:.2%}",
        f"{row.errors:,}",
        _number(row.digits_per_s, ",.0f"),
        _number(row.digits_per_cpu_s, ",.0f"),
        _number(row.train_s, ",.1f"),
        _number(row.train_cpu_s, ",.1f"),
        settings,
    ]


HEADERS = (
    "Method",
    "Test accuracy",
    "Errors",
    "Digits/s",
    "Digits/CPU-s",
    "Train (s)",
    "Train CPU (s)",
    "Selected on valid",
)
NUMERIC = frozenset(range(1, len(HEADERS) - 1))  # right-aligned columns


def markdown_table(report: BenchReport) -> str:
    rule = ["---:" if i in NUMERIC else "---" for i in range(len(HEADERS))]
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "|".join(rule) + "|"]
    for row in report.rows:
        cells = [c.replace("|", "\\|") for c in format_cells(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_section(report: BenchReport, command: str) -> str:
    """The whole ``## Baselines`` section: protocol, command, machine, table, notes."""
    versions = ", ".join(f"{k} {v}" for k, v in report.versions.items())
    methods = "\n".join(f"- `{r.method}`: {r.description}" for r in report.rows)
    return f"""{SECTION_HEADING}

The seed project's methods, re-implemented in `hdr/train/baselines.py` as honest baselines
beside the CNN. Each is fitted on MNIST train ({report.n_train:,} images), its
hyper-parameters are chosen on valid ({report.n_valid:,}), and it is scored once on
test ({report.n_test:,}).

- Command: `{command}`
- Date: {report.date}
- Machine: {report.machine}; load average {report.load_before} before, {report.load_after} after
- Software: {versions}

{markdown_table(report)}

{methods}

Digits/s: one `predict_proba` call on all {report.n_test:,} test digits (features included),
wall clock, batched, on the cores above. Train (s): one `fit` on train with the selected
setting (the selection itself is not counted). Digits/CPU-s and Train CPU (s) use the
process's CPU time (all its threads) instead: other work on the machine changes them little,
so they compare runs made under different loads; on idle cores the wall-clock speed lies
between 1x (one thread) and 2x (both cores busy) the CPU speed. The CNN's train time is the
one its model card records. Probabilities of the score models (SVM, NCC
templates) are a softmax whose temperature is set on valid. No deskewing, PCA or
augmentation anywhere. Timings vary with other work on the machine (see the load average).
This section is written by the command above; edit the code, not the numbers.
"""


def replace_markdown_section(path: Path, heading: str, section: str) -> None:
    """Replace the ``heading`` section of a Markdown file (up to the next ``## ``), or append it.

    Other sections are left as they are; the file is created with a ``# Benchmarks`` title.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    body = section.rstrip("\n") + "\n"
    pattern = re.compile(rf"^{re.escape(heading)}[ \t]*\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: body + "\n", text, count=1)
        text = text.rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + body
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
