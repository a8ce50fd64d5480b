"""Settings from the environment and the pipeline configuration file, validated once at the edge.

>>> from hdr.config import load_pipeline_config
>>> cfg = load_pipeline_config()
>>> cfg.pdf.dpi
200
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hdr.errors import ConfigError, ReasonCode

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO_ROOT / "configs"
DEFAULT_PIPELINE_CONFIG = CONFIG_DIR / "pipeline.yaml"
TEMPLATES_DIR = CONFIG_DIR / "templates"
MODELS_DIR = REPO_ROOT / "models"


class Settings(BaseSettings):
    """Process-wide settings, read from ``HDR_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="HDR_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "hdr")
    db_url: str | None = None  # default: sqlite file under data_dir (see db_url_or_default)
    # Where the model file is (default: model.path of configs/pipeline.yaml), e.g. a models/
    # folder outside the repository. Only the place: the file must still match model.sha256.
    model: Path | None = None
    # The pipeline config every command and flow reads when none is given (default:
    # configs/pipeline.yaml), e.g. one with `decision.required_fields: [amount]` for cheques
    # whose account number is printed.
    pipeline_config: Path | None = None

    def db_url_or_default(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.data_dir / 'hdr.sqlite3').as_posix()}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimitsConfig(_Strict):
    max_file_bytes: int = 50 * 1024 * 1024
    max_pixels: int = 60_000_000  # per page; larger is refused as a possible decompression bomb
    min_side_px: int = 64
    max_pages: int = 50
    time_budget_s: float = 60.0  # per document
    follow_symlinks: bool = True  # False: a symbolic link input is refused (not_a_regular_file)


class PdfConfig(_Strict):
    dpi: int = 200


class PreprocessConfig(_Strict):
    """Pages scanned finer than ``max_dpi`` are read at ``target_dpi`` (digits stay 40+ px tall
    at 300). Pages of unknown dpi keep their size. Reading 300-dpi pages at 200 costs a fifth
    less CPU and reads as many fields right, but its confident misreads are others: at the
    shipped thresholds' rule the tuning sets' acceptance fell from 45 % to 20 % of the amounts
    and from 27 % to none of the accounts (docs/BENCHMARKS.md, twenty-second session)."""

    max_dpi: int = Field(default=400, ge=100)
    target_dpi: int = Field(default=300, ge=100)
    # a page found to be no document, or without an amount, whose printed text runs from top to
    # bottom is read a quarter turn both ways and the better reading kept (hdr.preprocess.orient)
    turn_pages: bool = True
    # ... and one whose ink covers only part of it (a cheque on an A4 sheet) is located on that
    # part alone (hdr.preprocess.extent)
    crop_to_content: bool = True

    @model_validator(mode="after")
    def _target_within(self) -> PreprocessConfig:
        if self.target_dpi > self.max_dpi:
            raise ValueError("target_dpi must not exceed max_dpi")
        return self


class QualityConfig(_Strict):
    too_dark_mean: float = 60.0
    too_light_ink_fraction: float = 0.0005
    blur_laplacian_var: float = 60.0  # Laplacian variance near ink at 150 dpi (hdr.preprocess)


class DecisionConfig(_Strict):
    """Thresholds of the confidence -> status decision (chosen on a tuning set, see README)."""

    accept_amount: float = 0.97
    accept_account: float = 0.97
    min_glyph_prob: float = 0.90
    # segmentation score: multiplied into a field's confidence once per split touching component
    split_penalty: float = Field(default=0.97, gt=0.0, le=1.0)
    # flags that only inform; every other flag on a field or a layout sends the page to review
    informational_flags: tuple[str, ...] = (
        "touching_split",
        "merged_strokes",
        "strokes_joined",
        "outside_box_ignored",
        "layout_generic",
        "cells_estimated",
        "amount_unboxed",
        "grammar_corrected",  # the confidence already counts the correction's doubt
        "noise_ignored",
        "microprint_ignored",
        "line_read_tail",  # the line reader read the same value, but for the "/-" tail
        "line_missed_marks",  # the line reader read the same digits, but left out marks
    )
    # The fields a page needs. One of these not found sends the page to review; another field
    # blocks only where it was found and not accepted. Cheques whose account number is printed,
    # not written in cells (most real cheques), need only the amount: [amount].
    required_fields: tuple[Literal["amount", "account"], ...] = Field(
        default=("amount", "account"), min_length=1
    )


class ModelRef(_Strict):
    path: str = "models/digits.onnx"
    sha256: str | None = None
    backend: str = "onnx"  # onnx | torch
    # fields whose glyphs are read as the mean of the classifier's probabilities over the glyph
    # and four copies moved one pixel (hdr.classify.normalize.shifted_views)
    average_shifts: tuple[Literal["amount", "account"], ...] = ()


class LineModelRef(_Strict):
    """The line reader (hdr.classify.lines): a field is accepted only when it agrees."""

    path: str = "models/lines.onnx"
    sha256: str | None = None


class PipelineConfig(_Strict):
    """Everything `read_document` needs, loaded from configs/pipeline.yaml."""

    limits: LimitsConfig = LimitsConfig()
    pdf: PdfConfig = PdfConfig()
    preprocess: PreprocessConfig = PreprocessConfig()
    quality: QualityConfig = QualityConfig()
    decision: DecisionConfig = DecisionConfig()
    model: ModelRef = ModelRef()
    line_model: LineModelRef | None = None  # None: the glyph reader decides alone
    templates_dir: str = "configs/templates"
    account_length: tuple[int, int] = (8, 16)
    extra: dict[str, Any] = Field(default_factory=dict)

    def resolve(self, relative: str) -> Path:
        """Paths in the config are relative to the repository root unless absolute."""
        path = Path(relative)
        return path if path.is_absolute() else REPO_ROOT / path


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(ReasonCode.CONFIG_INVALID, f"config file not found: {path}") from exc
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(ReasonCode.CONFIG_INVALID, f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(ReasonCode.CONFIG_INVALID, f"{path}: top level must be a mapping")
    return data


def load_pipeline_config(path: Path | str | None = None) -> PipelineConfig:
    """Load and validate the pipeline configuration: ``path``, else $HDR_PIPELINE_CONFIG, else
    configs/pipeline.yaml."""
    settings = Settings()
    cfg_path = Path(path) if path else (settings.pipeline_config or DEFAULT_PIPELINE_CONFIG)
    data = load_yaml(cfg_path)
    try:
        cfg = PipelineConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            ReasonCode.CONFIG_INVALID, f"{cfg_path}: {where}: {first['msg']}"
        ) from exc
    return with_model_override(cfg, settings.model)


def with_model_override(cfg: PipelineConfig, model: Path | None) -> PipelineConfig:
    """``cfg`` reading its model from ``model`` ($HDR_MODEL) instead of ``model.path``.

    The sha256 pin is kept: HDR_MODEL moves the file, it does not vouch for another one.

    >>> with_model_override(PipelineConfig(), Path("/opt/hdr/digits.pt")).model.backend
    'torch'
    """
    if model is None:
        return cfg
    path = model.expanduser().absolute()
    backend = {".onnx": "onnx", ".pt": "torch"}.get(path.suffix, cfg.model.backend)
    ref = cfg.model.model_copy(update={"path": str(path), "backend": backend})
    return cfg.model_copy(update={"model": ref})


def config_hash(cfg: BaseModel) -> str:
    """A short stable hash of a validated config, stored with every batch."""
    return hashlib.sha256(cfg.model_dump_json().encode()).hexdigest()[:16]
