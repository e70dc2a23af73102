"""What every route needs, built once by the composition root (shingi.bootstrap) and handed in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api.metrics import Exposition
from api.readiness import Readiness
from notifications.papers import Papers
from workflow.clock import Clock
from workflow.db import Database
from workflow.engine import Workflows
from workflow.files import FileStore


@dataclass(frozen=True)
class WebOptions:
    """How the web shell behaves (from the settings)."""

    version: str
    #: Session cookies carry the Secure flag (off only for plain-HTTP local use).
    cookie_secure: bool = True
    max_upload_bytes: int = 20 * 1024 * 1024
    #: How long a token's look-up is trusted (seconds; 0: every request).
    token_cache_seconds: float = 1.0


@dataclass(frozen=True)
class Services:
    db: Database
    workflows: Workflows
    clock: Clock
    files: FileStore
    #: The generated documents, with the organisation's letterhead and the secretariat's templates.
    papers: Papers
    options: WebOptions
    #: The checks of /ready.
    readiness: Readiness
    #: What /metrics answers, and to whom.
    metrics: Exposition


async def _services(request: Request) -> Services:
    # async: a plain `def` dependency would be run in the thread pool, a hop on every request
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]
