"""bench/models.py scores a model on pages read end to end (here the committed sample)."""

from __future__ import annotations

from pathlib import Path

from bench.models import config_for, score_pages
from hdr.config import load_pipeline_config
from hdr.synth.truth import read_truth

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "resources" / "sample"


def test_the_shipped_model_scored_on_the_sample() -> None:
    model = REPO / load_pipeline_config().model.path
    cfg = config_for(model)
    assert Path(cfg.model.path) == model.resolve() and cfg.model.sha256
    score = score_pages(SAMPLE, cfg)
    truth = read_truth(SAMPLE / "truth.jsonl")
    assert score.fields == {
        "amount": sum(t.amount is not None for t in truth),
        "account": sum(t.account is not None for t in truth),
    }
    assert 0 < score.exact["amount"] <= score.fields["amount"]
    assert 0 < score.exact["account"] <= score.fields["account"]
    assert score.misread == 0  # as tests/e2e/test_read_sample.py asserts for `hdr read`
