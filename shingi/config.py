"""Settings from the environment (SHINGI_…)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workflow.calendar import BusinessCalendar
from workflow.db import Pool


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHINGI_", extra="ignore")

    #: SQLite file by default; `postgresql://user@host/db` when several instances share the work.
    database_url: str = Field(default="sqlite:///./var/shingi.db")
    #: Connections each process keeps open, and how many more it may open at a peak. With several
    #: instances on one PostgreSQL, (size + overflow) × processes must stay under its max_connections.
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_pool_overflow: int = Field(default=20, ge=0, le=200)
    #: How long a request waits for a free connection, and (PostgreSQL) for a new one to open, in seconds.
    database_pool_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    database_connect_timeout_seconds: int = Field(default=10, ge=1, le=600)
    #: PostgreSQL: connections older than this many seconds are replaced (-1: never).
    database_pool_recycle_seconds: int = Field(default=1800, ge=-1)
    #: Web processes of `shingi serve` (its --workers); the scheduler then runs once, in the parent.
    web_workers: int = Field(default=1, ge=1, le=64)
    #: Extra procedure files (*.yaml) of the secretariat; a file replaces a shipped one of the same name.
    procedures_dir: Path | None = None
    #: Apply the Alembic migrations when the service starts.
    migrate_on_start: bool = True
    #: Session cookies carry the Secure flag; turn off only for plain-HTTP local use.
    cookie_secure: bool = True
    #: Where uploaded documents are kept (their content never goes into the database).
    files_dir: Path = Path("./var/files")
    #: Largest accepted upload, in bytes.
    max_upload_bytes: int = 20 * 1024 * 1024
    #: The first organisation's closure days besides weekends and national holidays ("MM-DD", ranges
    #: "MM-DD..MM-DD", comma-separated), written to its row at start; left out, the row keeps its own
    #: (年末年始 12-29..01-03 unless the secretariat changed them).
    closure_days: str | None = None
    #: The first organisation's name (例: 千葉市) and the head its councils reply to (例: 千葉市長), written
    #: to its row at start (the letterhead of its documents); left out, the row stays as it is. Other
    #: organisations are added with `shingi organisations add`.
    organisation: str | None = None
    organisation_head: str | None = None
    #: PostgreSQL: run every transaction as the role `shingi_app` under row-level security (a second wall
    #: between organisations). The database user must be a member of that role (the migrations make it so).
    database_row_security: bool = True
    #: The secretariat's own document templates (papers/*.html), used before the shipped ones.
    templates_dir: Path | None = None
    #: Run the reminder sweeper inside `shingi serve` (embedded); off when `shingi worker` runs apart.
    scheduler: bool = True
    #: How often the sweeper wakes up, in seconds.
    sweep_interval_seconds: float = 1.0
    #: How long an instance trusts an API token's look-up, in seconds (0: look it up on every request).
    #: A revoked token or a disabled user is refused at once by the instance that did it, and by the
    #: others within this time.
    token_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    host: str = "127.0.0.1"
    port: int = 8000
    #: E-mail: without a host, e-mail notices wait in the outbox.
    smtp_host: str = ""
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    mail_from: str = "shingi@localhost"
    #: Log lines as `text` (one readable line each) or `json` (one JSON object per line).
    log_format: Literal["text", "json"] = "text"
    #: The least severe level logged: DEBUG, INFO, WARNING or ERROR.
    log_level: str = "INFO"
    #: One log line per request: method, route template, status, duration (never the query, headers or body).
    access_log: bool = True
    #: The bearer token that opens /metrics; without it, /metrics answers loopback clients only.
    metrics_token: SecretStr | None = None
    #: Whether /ready requires a fresh scheduler heartbeat. Unset: when this process runs the scheduler
    #: (SHINGI_SCHEDULER). Set it on web instances whose `shingi worker` runs apart (its heartbeat, in the
    #: shared database, is then checked), or turn it off.
    ready_requires_scheduler: bool | None = None
    #: How long /ready and the database part of /metrics wait for the database, in seconds.
    ready_timeout_seconds: float = Field(default=2.0, gt=0, le=30)

    @field_validator("closure_days")
    @classmethod
    def _closure_days_a_calendar_reads(cls, value: str | None) -> str | None:
        if value is not None:
            BusinessCalendar.from_settings(value)  # its ValueError names the part it cannot read
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_in_lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level")
    @classmethod
    def _a_level_logging_knows(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("metrics_token")
    @classmethod
    def _empty_is_no_token(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @property
    def expects_scheduler(self) -> bool:
        """Whether /ready checks the scheduler's heartbeat (see `ready_requires_scheduler`)."""
        return self.scheduler if self.ready_requires_scheduler is None else self.ready_requires_scheduler

    @property
    def database_pool(self) -> Pool:
        return Pool(size=self.database_pool_size, overflow=self.database_pool_overflow,
                    timeout_seconds=self.database_pool_timeout_seconds,
                    recycle_seconds=self.database_pool_recycle_seconds,
                    connect_timeout_seconds=self.database_connect_timeout_seconds)

    @property
    def procedure_dirs(self) -> list[Path]:
        return [self.procedures_dir] if self.procedures_dir else []
