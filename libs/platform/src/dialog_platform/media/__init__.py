"""The media port (where video objects live) and its two adapters, chosen by settings."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..lazy import lazy_exports
from ..settings import CommonSettings
from .base import (
    MAX_URL_TTL,
    InvalidKey,
    InvalidRange,
    MediaError,
    MediaStore,
    ObjectInfo,
    ObjectNotFound,
    check_key,
)
from .local import LocalMediaStore
from .signing import PLAYBACK_PATH, sign_playback, verify_playback

if TYPE_CHECKING:
    from .s3 import S3MediaStore

__all__ = [
    "MAX_URL_TTL",
    "PLAYBACK_PATH",
    "InvalidKey",
    "InvalidRange",
    "LocalMediaStore",
    "MediaError",
    "MediaStore",
    "ObjectInfo",
    "ObjectNotFound",
    "S3MediaStore",
    "check_key",
    "create_media",
    "sign_playback",
    "verify_playback",
]


# The S3 client takes a second to import: only a process with an s3:// media URL loads it.
__getattr__ = lazy_exports(__name__, {"S3MediaStore": ".s3"})


def create_media(settings: CommonSettings) -> MediaStore:
    """The media store the settings select: S3 for an `s3://` media URL, else `<data_dir>/media`.

    Nothing is contacted here; call `start()` before use.
    """
    if settings.media_url is None:
        return LocalMediaStore(settings.data_dir / "media", settings.secret_key.get_secret_value())
    url = settings.media_url.get_secret_value()
    scheme = urlsplit(url).scheme
    if scheme == "s3":
        from .s3 import S3MediaStore

        return S3MediaStore.from_url(url)
    raise ValueError(f"DIALOG_MEDIA_URL: unsupported scheme {scheme!r} (expected s3)")
