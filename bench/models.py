"""Compare glyph models where it counts: MNIST and rendered glyphs, and pages read end to end.

Two training runs of one recipe can differ by 0.1 % on MNIST and by 4 % of the account numbers
on pages (docs/BENCHMARKS.md, "Digit recognizer"), so a model is judged on both before it is
shipped. For every model file given (an ``.onnx`` with its card beside it), in this process:

- ``hdr eval digits --json`` (a subprocess): MNIST test accuracy, rendered non-digits called a
  digit, ECE, glyphs per second;
- the tuning set (``hdr synth --seed 1001``, made once under the data directory, never the
  benchmark sets) read by :func:`hdr.pipeline.read_documents` with the shipped configuration
  but this model: amounts and accounts read exactly (fields whose truth has a value), fields
  accepted at the configured thresholds and misreads among them;
- the real cheques of ``../shared/data/real-cheques-dev/`` when they are there: amounts exact.

    .venv/bin/python bench/models.py models/digits.onnx /tmp/run2/digits.onnx
    .venv/bin/python bench/models.py models/digits.onnx --n 300 --no-real
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.real_cheques import read_all  # noqa: E402
from bench.tune import config_for, ensure_set  # noqa: E402
from hdr.assemble.decide import blocking  # noqa: E402
from hdr.classify.predictor import load_classifier, sha256_file  # noqa: E402
from hdr.config import PipelineConfig  # noqa: E402
from hdr.synth.truth import read_with_truth  # noqa: E402

REAL = REPO.parent / "shared" / "data" / "real-cheques-dev"
FIELDS = ("amount", "account")


@dataclass
class PageScore:
    """What one model did on a set of pages."""

    fields: dict[str, int]  # fields whose truth has a value
    exact: dict[str, int]
    accepted: int = 0  # every accepted field, blank and crossed-out ones included
    misread: int = 0


def score_pages(folder: Path, cfg: PipelineConfig) -> PageScore:
    clf = load_classifier(cfg.model.path, cfg.model.sha256, cfg.model.backend)
    score = PageScore({f: 0 for f in FIELDS}, {f: 0 for f in FIELDS})
    for _, t, page in read_with_truth(folder, cfg, clf):
        for name in FIELDS:
            want, got = getattr(t, name), page.fields.get(name)
            value = got.value if got else None
            if want is not None:
                score.fields[name] += 1
                score.exact[name] += value == want
            if got is not None and value is not None and not blocking(got.flags, cfg.decision):
                score.accepted += 1
                score.misread += value != want
    return score


def score_real(data: Path, cfg: PipelineConfig) -> tuple[int, int]:
    """Amounts read exactly on the real cheques, and how many there are."""
    outcomes, _ = read_all(data, cfg)
    exact = sum(o.amount is not None and o.amount.value == o.label for o in outcomes)
    return exact, len(outcomes)


def eval_digits(model: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "hdr", "eval", "digits", "--model", str(model)]
    cmd += ["--sha256", sha256_file(model), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", type=Path, nargs="+", help=".onnx files, each with its card")
    parser.add_argument("--data", type=Path, help="an existing `hdr synth` folder instead")
    parser.add_argument("--n", type=int, default=300, help="tuning-set documents")
    parser.add_argument("--seed", type=int, default=1001, help="tuning-set seed")
    parser.add_argument("--real", type=Path, default=REAL, help="real cheques (labels.jsonl)")
    parser.add_argument("--no-real", action="store_true", help="skip the real cheques")
    args = parser.parse_args(argv)
    folder = ensure_set(args.data, args.n, args.seed)
    real = None if args.no_real or not (args.real / "labels.jsonl").exists() else args.real
    rows = [
        "| model | sha256 | MNIST test | non-digits as digit | ECE | glyphs/s | "
        "amount exact | account exact | accepted / misread | real exact |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for model in args.models:
        started = time.perf_counter()
        report = eval_digits(model)
        cfg = config_for(model)
        pages = score_pages(folder, cfg)
        real_text = "-"
        if real is not None:
            hit, total = score_real(real, cfg)
            real_text = f"{hit} of {total}"
        rows.append(
            f"| `{model}` | `{sha256_file(model)[:12]}` | "
            f"{100 * report['mnist_test_accuracy']:.2f}% | "
            f"{100 * report['nondigit_as_digit_rate']:.2f}% | {100 * report['ece']:.2f}% | "
            f"{report['digits_per_second']:,.0f} | "
            f"{pages.exact['amount']} of {pages.fields['amount']} | "
            f"{pages.exact['account']} of {pages.fields['account']} | "
            f"{pages.accepted} / {pages.misread} | {real_text} |"
        )
        print(f"{model}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(
        f"Tuning set: {folder} (hdr synth --n {args.n} --seed {args.seed}); "
        f"thresholds of configs/pipeline.yaml.\n"
    )
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
