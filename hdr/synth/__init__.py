"""Synthetic scanned bank documents with exact ground truth, for tests, the demo and benchmarks.

Cheques and deposit slips are drawn from the layouts in ``configs/templates/`` (and a few
``unseen_*`` layouts the pipeline does not know), written in with MNIST *test* digits and
handwriting fonts, then put through scan effects. Each run writes the files and a
``truth.jsonl`` (schema: :mod:`hdr.synth.truth`).

>>> from pathlib import Path
>>> from hdr.synth import SynthOptions, generate
>>> records = generate(Path("/tmp/inbox"), SynthOptions(n=3, seed=1, formats=("png", "pdf")))

Same as ``hdr synth --out /tmp/inbox --n 3 --seed 1 --formats png,pdf``.
"""

from hdr.synth.generate import FORMATS, SynthOptions, generate, make_file
from hdr.synth.truth import HARD_CASES, TruthRecord, read_truth

__all__ = [
    "FORMATS",
    "HARD_CASES",
    "SynthOptions",
    "TruthRecord",
    "generate",
    "make_file",
    "read_truth",
]
