"""How a Dialog process keeps its memory small: glibc's allocator (nothing changes without glibc)
and imports that would load packages for nothing."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib.util
import sys
from collections.abc import Iterable
from types import ModuleType
from typing import cast

MiB = 1024 * 1024
# glibc's mallopt parameters.
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
HEAPS = 2


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def _mallopt(parameter: int, value: int) -> None:
    with contextlib.suppress(AttributeError):
        if (libc := _libc()) is not None:
            libc.mallopt(parameter, value)


@functools.cache
def few_heaps() -> None:
    """At most two malloc heaps for the threads of the process, at its start.

    glibc gives threads up to 8 heaps a core, and each keeps what was freed in it. A Dialog
    process runs its blocking work on threads (hashing access codes and passwords, an upload's
    parts and its probe, PyMongo's and the S3 client's calls), most of it under the GIL anyway.
    Measured: a one-process system grew 83 MB instead of 107 over 186 appeals, and ten probes
    of uploads at once took 14 MB less.
    """
    _mallopt(_M_ARENA_MAX, HEAPS)


# Above an access code's Argon2 block (19 MiB) is never kept; below, a receipt's canvas and
# PyMongo's batches are.
PROCESS_THRESHOLD = 4 * MiB


@functools.cache
def map_large_buffers(threshold: int = 1 * MiB) -> None:
    """Give every freed buffer of `threshold` bytes or more back to the system at once.

    glibc raises its mmap threshold each time a mapped block is freed, so after the first one
    large buffers (an upload's 6 MiB parts) come from the heaps of the threads that used them,
    and stay there: media-store grew by hundreds of MB and kept them after a burst of uploads.
    A fixed threshold maps (and unmaps on free) every such buffer.

    `dialog run` of several components sets `PROCESS_THRESHOLD`: each access code's hash takes a
    19 MiB block, and the hashing threads kept theirs in the heap for good. Measured over 352
    appeals in one process: 180 → 221 MB (+23 %) before, 180 → 195 MB (+8 %) with it. Mapping
    them costs about 4 ms of a 22 ms hash.
    """
    _mallopt(_M_MMAP_THRESHOLD, threshold)


# Modules a library imports to offer something only when another package is installed, and that
# load much else before they find it is not: (module, the package it needs).
_OPTIONAL_IMPORTS = (
    # PyMongo's OCSP support needs pyOpenSSL; without it, PyMongo has already imported the
    # `cryptography` package (10 MB of a process, when a development tool brought it along)
    # before the import fails and the standard `ssl` module serves TLS instead.
    ("pymongo.pyopenssl_context", "OpenSSL"),
)


@functools.cache
def skip_unusable_imports() -> None:
    """Let such an import fail at once when the package it needs is not installed.

    A `None` in `sys.modules` makes the import raise `ImportError` without running the module,
    which is what it would have raised anyway, later. Call before the library is imported.
    """
    find = importlib.util.find_spec
    _make_unimportable(m for m, needs in _OPTIONAL_IMPORTS if find(needs) is None)


def _make_unimportable(names: Iterable[str]) -> None:
    # A `None` in `sys.modules` makes an import of that name raise ImportError at once.
    modules = cast(dict[str, ModuleType | None], sys.modules)
    for name in names:
        modules.setdefault(name, None)


# What a process that speaks only plain TCP on loopback never uses: OpenSSL (5 MB of a
# process), which asyncio loads for TLS and hashlib for its digests wherever it is installed, and
# uvloop, which cannot load without `ssl`.
_OPENSSL_MODULES = ("ssl", "_hashlib", "uvloop")


def without_openssl() -> None:
    """Make `ssl`, `_hashlib` and uvloop unimportable here; call before asyncio is imported.

    For the embedded server's child: it listens on 127.0.0.1 for its parent alone. asyncio
    offers TLS only when `ssl` imports, hashlib falls back to Python's own MD5 and SHA (the
    server's GridFS checksums), and nx-27017 runs on asyncio's own loop when uvloop does not
    import, so all go on without them.
    """
    _make_unimportable(_OPENSSL_MODULES)


def release_free_memory() -> None:
    """Give the system back the pages that are free inside malloc's heaps (glibc's malloc_trim).

    A heap returns memory by itself only from its top; what is freed below a block still in use
    stays resident.
    """
    with contextlib.suppress(AttributeError):
        if (libc := _libc()) is not None:
            libc.malloc_trim(0)
