"""What every route needs, built once in the lifespan and handed in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from shingi.config import Settings
from workflow.clock import Clock
from workflow.db import Database
from workflow.engine import Workflows
from workflow.files import FileStore


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    workflows: Workflows
    clock: Clock
    files: FileStore


async def _services(request: Request) -> Services:
    # async: a plain `def` dependency would be run in the thread pool, a hop on every request
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(_services)]
