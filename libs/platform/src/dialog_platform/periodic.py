"""A task that runs a job every so often, started and stopped with its component.

A failing run is logged and the next one comes at the next interval, so one bad night does not
end the job; cancelling on stop waits for the task to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(
        self, name: str, job: Callable[[], Awaitable[object]], *, interval_s: float
    ) -> None:
        self.name = name
        self.job = job
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; retrying at the next interval", self.name)
            await asyncio.sleep(self.interval_s)
