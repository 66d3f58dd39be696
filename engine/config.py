"""All configuration, from the environment (``NUDGE_*``) and an optional ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NUDGE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./nudge.db"
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where customers and providers reach this server (links, webhooks).",
    )

    admin_key: SecretStr | None = None
    secret_key: SecretStr = Field(
        default=SecretStr("change-me-in-production"),
        description="Signs customer tokens and one-click links.",
    )
    customer_token_ttl_seconds: int = 3600

    max_body_bytes: int = 10 * 1024 * 1024
    log_level: str = "INFO"
    gc_threshold: int = Field(
        default=50_000,
        ge=1,
        description="Allocations between young-generation garbage collections in nudge "
        "processes (CPython's default is 700).",
    )

    outbox_dir: Path = Path("./outbox")
    smtp_url: SecretStr | None = None
    smtp_from: str = "nudge@localhost"
    smtp_concurrency: int = 16
    smtp_timeout_seconds: float = 30.0

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"

    dispatch_batch_size: int = 200
    dispatch_concurrency: int = 32
    lease_seconds: int = 120
    max_send_attempts: int = 6
    sweep_interval_seconds: float = 30.0


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
