"""The API's router: its plain `def` endpoints take one trip to the thread pool, not two.

FastAPI runs a `def` endpoint in the thread pool and then, when the route has a `response_model`,
goes back to the pool to validate the returned value. The domain services block on the database,
so they belong in the pool, but the validation of a small dict does not: it costs less than the hop
(measured with bench/transitions.py). The endpoint is wrapped in a coroutine that runs it in the
pool once, and the validation stays on the event loop.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool


def in_thread_pool(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """`endpoint` as a coroutine function that runs it in the thread pool (its signature kept for FastAPI)."""
    if inspect.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return run


class Router(APIRouter):
    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, in_thread_pool(endpoint), **kwargs)
