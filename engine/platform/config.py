"""All configuration, from the environment (``NUDGE_*``) and an optional ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "change-me-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NUDGE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./nudge.db"
    host: str = "127.0.0.1"
    port: int = 8000
    keep_alive_seconds: int = Field(
        default=75,
        ge=1,
        description="How long an idle HTTP connection stays open. Longer than the idle timeout "
        "of the load balancer or proxy in front (60 s on most), so that it never sends a "
        "request on a connection nudge is closing at that instant.",
    )
    public_base_url: str = Field(
        default="",
        description="Where customers and providers reach this server (links, webhooks); "
        "unset, the address this process serves on.",
    )

    admin_key: SecretStr | None = None
    environment: Literal["development", "production"] = Field(
        default="development",
        description="production refuses to start with the default secret key; development "
        "starts with a loud warning.",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEFAULT_SECRET_KEY),
        description="Signs customer tokens and one-click links.",
    )
    customer_token_ttl_seconds: int = 3600
    auth_failure_limit: int = Field(
        default=20,
        ge=1,
        description="Failed authentications per client (and per key id) within the window "
        "before further attempts get 429; counted in each process, not shared.",
    )
    auth_failure_window_seconds: float = Field(default=60.0, gt=0)
    idempotency_ttl_hours: int = Field(
        default=24, ge=1, le=24 * 30, description="How long a POST's answer is kept for replay."
    )

    max_body_bytes: int = 10 * 1024 * 1024
    feed_concurrency: int = Field(
        default=2,
        ge=1,
        description="Feed batches one process works on at once; the others wait their key's "
        "turn, so small requests are never crowded out by parsing.",
    )
    feed_queue_per_key: int = Field(
        default=16,
        ge=1,
        description="Feed batches of one tenant (all its keys together) that may wait for "
        "their turn; the next gets 429 with Retry-After.",
    )
    feed_rows_per_second: float = Field(
        default=0,
        ge=0,
        description="The platform default feed allowance: rows a second a tenant's keys may "
        "send together on average (ten seconds' worth at once), for tenants the admin gave "
        "none of their own (PATCH /v1/tenants/{id}); past it 429 with Retry-After. Counted "
        "in each API process. 0: no limit (development); docs/operations.md says what a "
        "shared deployment sets.",
    )
    log_level: str = "INFO"
    gc_threshold: int = Field(
        default=50_000,
        ge=1,
        description="Allocations between young-generation garbage collections in nudge "
        "processes (CPython's default is 700).",
    )

    db_pool_size: int = Field(
        default=5,
        ge=1,
        description="PostgreSQL connections each process keeps open (docs/operations.md).",
    )
    db_max_overflow: int = Field(
        default=5,
        ge=0,
        description="Extra PostgreSQL connections a process may open under load, closed after.",
    )
    db_pool_timeout_seconds: float = Field(
        default=30.0, gt=0, description="How long a request waits for a free connection."
    )
    db_retry_attempts: int = Field(
        default=4,
        ge=1,
        description="Tries of one unit of work that PostgreSQL aborts for a deadlock or "
        "serialisation failure; past the last the client gets 503 with Retry-After.",
    )
    db_retry_after_seconds: int = Field(
        default=1, ge=1, description="The Retry-After of that 503, in seconds."
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
    render_workers: int = Field(
        default=2,
        ge=0,
        description="Processes a dispatcher renders messages in, so that a slow template "
        "never holds the serving process; 0 renders in the dispatcher itself.",
    )
    dispatch_concurrency: int = 32
    lease_seconds: int = 120
    max_send_attempts: int = 6
    sweep_interval_seconds: float = 30.0

    @model_validator(mode="after")
    def _default_public_base_url(self) -> Settings:
        if not self.public_base_url:
            self.public_base_url = served_url(self.host, self.port)
        return self


def served_url(host: str, port: int) -> str:
    """The URL of a server bound to ``host`` and ``port``; a wildcard bind is reached on
    the loopback address."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def unsafe_settings(settings: Settings) -> list[str]:
    """What makes these settings unfit for serving real customers."""
    problems = []
    if settings.secret_key.get_secret_value() == DEFAULT_SECRET_KEY:
        problems.append(
            "NUDGE_SECRET_KEY is the published default: anyone can sign customer tokens and "
            "links for this deployment; set a long random value"
        )
    return problems
