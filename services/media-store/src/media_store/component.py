"""Declares media-store to the runner."""

from __future__ import annotations

import logging

from dialog_platform.component import Component, Context, Running
from dialog_platform.media import MediaError
from dialog_platform.periodic import Periodic

from . import handlers
from . import repository as repo
from .api import build_router
from .service import MediaService
from .settings import MediaStoreSettings

log = logging.getLogger(__name__)

# Where the gateway and the dashboard put the videos of appeals and of answers.
VIDEO_PREFIXES = ("appeals/", "answers/")
# Uploads a crash left unfinished are removed from the object store this often.
JANITOR_S = 600


async def build(ctx: Context) -> Running:
    assert ctx.media is not None
    media = ctx.media
    service = MediaService(
        db=ctx.db,
        media=ctx.media,
        settings=ctx.settings_of(MediaStoreSettings),
        clock=ctx.clock,
    )
    handlers.subscribe(ctx.bus, service)

    async def remove_stale_uploads() -> None:
        removed = await service.remove_stale_uploads()
        if removed:
            log.warning("removed unfinished uploads", extra={"count": removed})

    janitor = Periodic("media-store-janitor", remove_stale_uploads, interval_s=JANITOR_S)

    async def start() -> None:
        await repo.create_indexes(ctx.db)
        days = service.settings.video_lifecycle_days
        if days:
            try:
                if await media.expire_after(VIDEO_PREFIXES, days):
                    log.info("bucket lifecycle set", extra={"days": days})
            except MediaError as exc:
                # A store that refuses lifecycle rules (permissions, an S3 without them) still
                # stores videos; the retention job stays the first line.
                log.warning("bucket lifecycle not set", extra={"error": str(exc)})
        janitor.start()

    async def stop() -> None:
        await janitor.stop()

    return Running(
        routers=[build_router(service, ctx.media, ctx.settings)], on_start=[start], on_stop=[stop]
    )


component = Component(
    name="media-store",
    description="video objects: streamed upload, validation, playback",
    build=build,
    needs_media=True,
    settings=MediaStoreSettings,
)
