"""Settings of the review web app: configs/web.yaml, overridden by ``HDR_WEB_*`` variables.

>>> from web.config import load_web_config
>>> cfg = load_web_config(dual_control_limit="5000")
>>> str(cfg.dual_control_limit)
'5000'

``HDR_WEB_CONFIG`` names another YAML file. Validated once, here; a bad value is a
:class:`hdr.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from hdr.config import CONFIG_DIR
from hdr.errors import ConfigError, ReasonCode

DEFAULT_WEB_CONFIG = CONFIG_DIR / "web.yaml"
CONFIG_ENV = "HDR_WEB_CONFIG"
MiB = 1024 * 1024


class WebConfig(BaseSettings):
    """Everything `hdr web` reads (see configs/web.yaml for what each key means)."""

    model_config = SettingsConfigDict(env_prefix="HDR_WEB_", extra="forbid", frozen=True)

    dual_control_limit: Decimal | None = Decimal("10000.00")
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    secure_cookies: bool = False
    login_attempts: int = Field(default=5, ge=1, le=1000)
    login_window_s: float = Field(default=300.0, ge=1)
    max_files: int = Field(default=20, ge=1, le=1000)
    max_file_bytes: int = Field(default=20 * MiB, ge=1024, le=1024 * MiB)
    max_pages: int = Field(default=20, ge=1, le=1000)
    url_timeout_s: float = Field(default=10.0, gt=0, le=300)
    url_max_bytes: int = Field(default=20 * MiB, ge=1024, le=1024 * MiB)
    url_max_redirects: int = Field(default=3, ge=0, le=10)
    allow_private_urls: bool = False
    url_allow_hosts: tuple[str, ...] = ()
    prefect_deployment: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_path()
        if path.is_file():
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
        return tuple(sources)

    @property
    def request_limit_bytes(self) -> int:
        """The largest request body accepted: every file at its limit, plus the form."""
        return self.max_files * self.max_file_bytes + MiB

    def prefect_enabled(self) -> bool:
        """Uploads go to a Prefect deployment: one is named and a server is configured."""
        return bool(self.prefect_deployment and os.environ.get("PREFECT_API_URL"))


def config_path() -> Path:
    """The YAML file in use: ``$HDR_WEB_CONFIG`` or configs/web.yaml."""
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_WEB_CONFIG)


def load_web_config(**overrides: Any) -> WebConfig:
    """Read and validate the settings (keyword arguments win over the environment and file)."""
    try:
        return WebConfig(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            ReasonCode.CONFIG_INVALID,
            f"{config_path()}: {where}: {first['msg']}",
            hint="environment variables HDR_WEB_<KEY> override the file",
        ) from exc
