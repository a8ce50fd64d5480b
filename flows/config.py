"""Orchestration settings: configs/flows.yaml, overridden by ``HDR_FLOWS_*`` environment variables.

>>> from flows.config import load_flows_config
>>> cfg = load_flows_config()
>>> cfg.nightly.timezone
'Europe/Paris'

Nested keys use a double underscore: ``HDR_FLOWS_DASK__ADDRESS=tcp://10.0.0.5:8786``.
``HDR_FLOWS_CONFIG`` names another YAML file. Everything is validated once, here; a bad
value is a :class:`hdr.errors.ConfigError` that names the file and the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from hdr.config import CONFIG_DIR, REPO_ROOT
from hdr.errors import ConfigError, ReasonCode

DEFAULT_FLOWS_CONFIG = CONFIG_DIR / "flows.yaml"
CONFIG_ENV = "HDR_FLOWS_CONFIG"
DASK_CONFIG_FILE = CONFIG_DIR / "dask.yaml"  # for `dask worker`: DASK_CONFIG=configs/dask.yaml


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NightlyConfig(_Section):
    inbox: str = "inbox"
    archive: str | None = None
    timezone: str = "UTC"  # of the cron in prefect.yaml (0 2 * * *: 02:00 local time)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    def inbox_path(self) -> Path:
        return _from_repo(self.inbox)

    def archive_path(self) -> Path | None:
        return _from_repo(self.archive) if self.archive else None


class BatchConfig(_Section):
    local_workers: int = Field(default=2, ge=1, le=64)  # chunks read at once in this process
    max_in_flight: int = Field(default=0, ge=0, le=1024)
    read_threads: int = Field(default=0, ge=0, le=64)  # per chunk; 0: hdr read's, shared
    read_ahead: bool = True  # hdr batch: read the first documents while its Prefect API starts


class RetryConfig(_Section):
    attempts: int = Field(default=3, ge=0, le=20)
    backoff_seconds: float = Field(default=2.0, ge=0.0, le=600.0)
    jitter_factor: float = Field(default=0.2, ge=0.0, le=1.0)
    read_attempts: int = Field(default=3, ge=0, le=20)
    read_backoff_seconds: float = Field(default=0.5, ge=0.0, le=60.0)

    def delays(self) -> list[float]:
        """Seconds to wait before each retry: exponential from ``backoff_seconds``."""
        return [self.backoff_seconds * 2**i for i in range(self.attempts)]


class DaskConfig(_Section):
    address: str | None = None
    read_threads: int = Field(default=1, ge=1, le=64)  # per chunk: a Dask thread is a core


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=4200, ge=1, le=65535)
    work_pool: str = "hdr-process"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.ui_url}/api"


class FlowsConfig(BaseSettings):
    """Everything the flows, the deployments and `make serve` read."""

    model_config = SettingsConfigDict(
        env_prefix="HDR_FLOWS_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    nightly: NightlyConfig = NightlyConfig()
    batch: BatchConfig = BatchConfig()
    retries: RetryConfig = RetryConfig()
    dask: DaskConfig = DaskConfig()
    server: ServerConfig = ServerConfig()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = config_path()
        return (
            init_settings,
            env_settings,
            YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file, deep_merge=True),
        )


def config_path() -> Path:
    """The YAML file in use: ``$HDR_FLOWS_CONFIG`` or configs/flows.yaml."""
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_FLOWS_CONFIG)


def _from_repo(relative: str) -> Path:
    path = Path(relative).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def load_flows_config(**overrides: Any) -> FlowsConfig:
    """Read and validate the orchestration settings (keyword arguments win over everything)."""
    path = config_path()
    if not path.is_file():
        raise ConfigError(ReasonCode.CONFIG_INVALID, f"flows config file not found: {path}")
    try:
        return FlowsConfig(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            ReasonCode.CONFIG_INVALID,
            f"{path}: {where}: {first['msg']}",
            hint="environment variables HDR_FLOWS_<SECTION>__<KEY> override the file",
        ) from exc


def apply_dask_config() -> None:
    """Load configs/dask.yaml into this process's Dask settings, for clusters started here.

    ``dask worker`` processes read the same file through ``DASK_CONFIG=configs/dask.yaml``.

    >>> apply_dask_config()                                            # doctest: +SKIP
    >>> LocalCluster(n_workers=2, threads_per_worker=1)                # doctest: +SKIP
    """
    import dask.config
    import distributed  # noqa: F401 - registers its defaults, which refresh() keeps

    dask.config.refresh(paths=[*dask.config.paths, str(DASK_CONFIG_FILE)])
