"""What a process loads: imports that would only load packages for nothing are skipped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pymongo import MongoClient

from dialog_platform.testing.servers import embedded_server


def _run(probe: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_pymongo_serves_tls_without_loading_cryptography_for_an_absent_pyopenssl() -> None:
    probe = """
import importlib.util, sys
from dialog_platform.memory import skip_unusable_imports
skip_unusable_imports()
import pymongo, pymongo.ssl_support
client = pymongo.MongoClient("mongodb://127.0.0.1:9/?tls=true", connect=False)
found = importlib.util.find_spec
print(found("OpenSSL") is None, found("cryptography") is not None)
print(pymongo.ssl_support.HAVE_SSL, client.options.pool_options._ssl_context is not None)
print("cryptography" in sys.modules)
"""
    environment, tls, loaded = _run(probe)
    # What this environment must hold for the check to mean anything: a development tool's
    # cryptography, and no pyOpenSSL (with it, PyMongo would load both on purpose).
    assert environment == "True True"
    assert tls == "True True"
    assert loaded == "False"


def test_memory_freed_inside_the_heap_goes_back_to_the_system() -> None:
    # Blocks below the mmap threshold come from the heap; the last one, kept, pins its top, so
    # the heap cannot shrink by itself and the freed megabytes below it stay resident.
    probe = """
import ctypes
from dialog_platform.memory import release_free_memory
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
def rss():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS")) // 1024
blocks = [libc.malloc(64 * 1024) for _ in range(800)]
for block in blocks:
    libc.memset(block, 1, 64 * 1024)
for block in blocks[:-1]:
    libc.free(block)
held = rss()
release_free_memory()
print(held, rss())
"""
    held, after = map(int, _run(probe)[0].split())
    assert held - after >= 40, (held, after)  # of the 50 MB written and freed


def test_the_embedded_server_serves_without_loading_openssl(tmp_path: Path) -> None:
    with embedded_server(tmp_path) as server:
        assert server.process is not None
        client: MongoClient[dict[str, object]] = MongoClient(server.url)
        try:
            appeals = client["dialog"]["appeals"]
            appeals.create_index("number", unique=True)
            appeals.insert_one({"number": "A-1", "text": "Жол жөндеу / ремонт дороги"})
            found = appeals.find_one({"number": "A-1"}, {"_id": 0})
            assert found == {"number": "A-1", "text": "Жол жөндеу / ремонт дороги"}
        finally:
            client.close()
        libraries = Path(f"/proc/{server.process.pid}/maps").read_text()
    # OpenSSL's two libraries are 5 MB of the server's 32; it speaks plain TCP to its parent.
    assert "libcrypto" not in libraries
    assert "libssl" not in libraries
