"""What we change in nx-27017 and neosqlite for the embedded server, and why.

Each patch is registered with the exact upstream versions it was written for (`written_for`);
`apply_all` refuses to start a server whose installed versions differ, naming the patches to
review, and `tests/test_embedded_patches.py` fails the same way on an upgrade.

nx-27017's SQL update path (seen with 0.8.1) stores a datetime given to `$set` as a string, so
it reads back as a `str`; its Python update path keeps it a datetime. neosqlite's one switch for
its Python paths (`set_force_fallback`) also sends every filter to Python, so forcing it made
every find, and every find inside a write (`find_one_and_update` reads the document back by
`_id`), a scan of the whole collection. `force_python_updates` forces the Python paths only
where an update is applied; filters, finds, counts and aggregations use SQL, so an `_id` or a
range on an indexed field is looked up in the index. (`count_documents({field: None})` counts
no explicit null either way, transaction or not: PyMongo sends it as an aggregation, which
nx-27017 gets wrong; `find({field: None})` is right on the SQL path and was not with everything
forced.)

Transactions need more. nx-27017 keeps one SQLite connection per database and runs every
session's transaction as a SAVEPOINT on it, so two transactions open at once nest inside each
other: committing one releases the other's savepoint ("no such savepoint"), aborting one rolls
back the other's writes and any plain write made meanwhile by another client. Our outbox opens
transactions from several handlers at once, and updates were lost that way. `TransactionGate`
gives each database one open transaction at a time: while a session's transaction is open,
other sessions' requests on that database wait until it commits or aborts.

A transaction starts on the session's first command (the one with `startTransaction`), but
nx-27017 answers a `find` on a collection that does not exist yet before it resolves the session
(seen with 0.8.1): a transaction that first reads a new collection (a booth's first health
record) never started, its writes ran on their own, and its commit failed with "No session
specified". `transactions_start_first` resolves the session of every command that starts one.

A find's projection is applied by neosqlite to a deep copy of every document it returns (seen
with 1.17.2), which made that copy most of the time of a 50-row page; `fast_projections` applies
a projection of field paths to each freshly decoded document without copying it. It also answers
as MongoDB does where neosqlite did not: a dotted path (`{"photo.data": 0}`) was ignored.
nx-27017 also rebuilt every reply in Python before encoding it, to turn neosqlite's ObjectIds and
Decimals into BSON's, on the one thread that serves every connection; `fast_replies` lets the
BSON encoder (C) call back for those two types only.

neosqlite compares datetimes through SQLite's `datetime()`, which keeps whole seconds: a case
recorded 0.3 s after a page's last row was not "after" it (`exact_datetimes`). It also takes
any string that looks like a date for a datetime and sends the filter to a path that decodes
every match in Python before sorting and limiting (`strings_compare_as_strings`).

Production runs real MongoDB and is not affected by any of this.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import importlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bson.int64 import Int64

from . import queries
from .gate import TransactionGate, TransactionRolledBack, abort_transaction, command_of
from .queries import plain_projection, project

log = logging.getLogger("dialog.embedded")

# Every patch reaches into private code; each was written against these releases.
NX = "nx-27017"
NEOSQLITE = "neosqlite"
WRITTEN_FOR: dict[str, dict[str, str]] = {}


def written_for(**versions: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register a patch with the upstream versions it was read against (`nx_27017="0.8.1"`)."""
    pinned = {name.replace("_", "-"): version for name, version in versions.items()}

    def register(patch: Callable[[], None]) -> Callable[[], None]:
        WRITTEN_FOR[patch.__name__] = pinned
        return patch

    return register


def installed_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in (NX, NEOSQLITE)}


def outdated(installed: dict[str, str] | None = None) -> list[str]:
    """One line per patch whose upstream code is not the release it was written for."""
    installed = installed_versions() if installed is None else installed
    lines = []
    for patch, pinned in WRITTEN_FOR.items():
        for dist, wanted in pinned.items():
            have = installed.get(dist)
            if have != wanted:
                lines.append(
                    f"embedded.patches.{patch} was written for {dist} {wanted}, "
                    f"but {have} is installed: review the patch, then update its versions"
                )
    return lines


class PatchOutdated(RuntimeError):
    pass


# Threads run admitted requests only: waiting for the gate happens on the event loop, so a
# crowd of waiters cannot take the thread an open transaction's next command needs (with 64
# threads all waiting there, the transaction was taken for abandoned after 15 s).
WORKERS = 16
# The handler methods the server sends OP_MSG requests to; the gate admits each one.
GATED = frozenset({"handle_command", "handle_insert"})


@written_for(nx_27017="0.8.1")
def install_gate() -> None:
    pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="nx-request")
    handlers: list[Any] = []  # the server's one request handler, once it has been seen

    async def roll_back(session: str, database: str) -> None:
        if handlers:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(pool, abort_transaction, handlers[0], session, database)

    gate = TransactionGate(roll_back=roll_back)

    async def to_thread(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
        if getattr(func, "__name__", None) not in GATED or not args:
            return await loop.run_in_executor(pool, call)
        if not handlers:
            handlers.append(func.__self__)  # type: ignore[attr-defined]
        command = command_of(args[0])
        try:
            slot = await gate.enter(command, args[0].get("_conn_id"))
        except TransactionRolledBack as exc:
            # MongoDB's answer for a transaction it aborted: on this label the driver's
            # with_transaction runs the whole transaction again, instead of failing its caller.
            return args[0].get("request_id", 0), {
                "ok": 0,
                "errmsg": str(exc),
                "code": 251,
                "codeName": "NoSuchTransaction",
                "errorLabels": ["TransientTransactionError"],
            }
        try:
            return await loop.run_in_executor(pool, call)
        finally:
            gate.leave(command, slot)

    # The server hands each request to asyncio.to_thread, whose default pool has only
    # cpu_count + 4 threads; this process serves nothing else.
    asyncio.to_thread = to_thread

    from nx_27017.handler import NeoSQLiteHandler

    close_streams = NeoSQLiteHandler.close_streams_for_connection

    # The server calls this, on its loop, for every client connection that has closed.
    def connection_closed(self: Any, conn_id: Any) -> None:
        close_streams(self, conn_id)
        if conn_id is not None:
            gate.connection_closed(str(conn_id))

    NeoSQLiteHandler.close_streams_for_connection = connection_closed  # type: ignore[method-assign]


@written_for(nx_27017="0.8.1")
def transactions_start_first() -> None:
    from nx_27017.handler import NeoSQLiteHandler

    handle_command = NeoSQLiteHandler.handle_command

    @functools.wraps(handle_command)
    def handle(self: Any, msg: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        command = command_of(msg)
        if command.get("startTransaction") and command.get("lsid"):
            db_name = command.get("$db", "test")
            # Idempotent: the command's own path finds the transaction already open.
            self._get_or_create_session(command, self.get_database(db_name), db_name)
        answer: tuple[int, dict[str, Any]] = handle_command(self, msg)
        return answer

    NeoSQLiteHandler.handle_command = handle  # type: ignore[method-assign]


# The neosqlite modules whose force-fallback check decides how an update is applied (SQL
# json_set, or in Python on the decoded document); none of them decides how a filter is matched.
UPDATE_MODULES = (
    "neosqlite.collection.query_helper._sql_updates",
    "neosqlite.collection.query_helper.update_operations",
    "neosqlite.collection.query_engine.find_operations",  # findAndModify's UPDATE … RETURNING
)


def _always() -> bool:
    return True


@written_for(neosqlite="1.17.2")
def force_python_updates() -> None:
    """neosqlite's Python paths for applying updates only; filters keep their SQL paths."""
    for name in UPDATE_MODULES:
        module = importlib.import_module(name)
        # Bound by name at import time; a renamed binding would silently bring the bug back.
        if not callable(getattr(module, "get_force_fallback", None)):
            raise RuntimeError(f"{name} no longer checks get_force_fallback")
        module.get_force_fallback = _always  # type: ignore[attr-defined]


@written_for(neosqlite="1.17.2")
def fast_projections() -> None:
    """A find's plain projection applied without neosqlite's deep copy of each document."""
    from neosqlite.collection.cursor import Cursor

    original = Cursor._apply_projection

    @functools.wraps(original)
    def apply(self: Any, docs: Any) -> list[dict[str, Any]]:
        plain = plain_projection(self._projection)
        if plain is None:
            theirs: list[dict[str, Any]] = original(self, docs)
            return theirs
        # Each document was decoded from its row for this cursor alone; nothing else holds it.
        return [project(doc, *plain) for doc in docs]

    Cursor._apply_projection = apply  # type: ignore[method-assign]


def reply_ids(document: Any) -> Any:
    """A reply's cursor id as an int64, as drivers read it (nx-27017 did that by rebuilding the
    whole reply, documents included)."""
    if not isinstance(document, dict):
        return document
    cursor = document.get("cursor")
    if isinstance(cursor, dict) and type(cursor.get("id")) is int:
        document = {**document, "cursor": {**cursor, "id": Int64(cursor["id"])}}
    if type(document.get("id")) is int and document["id"] == 0:
        document = {**document, "id": Int64(0)}
    return document


@written_for(nx_27017="0.8.1", neosqlite="1.17.2")
def fast_replies() -> None:
    """Replies encoded by BSON's encoder, which calls back only for neosqlite's own types."""
    from decimal import Decimal

    import bson
    from bson import Decimal128
    from bson import ObjectId as BsonObjectId
    from bson.codec_options import CodecOptions, TypeRegistry
    from neosqlite.objectid import ObjectId as NeoObjectId
    from nx_27017 import wire_protocol

    def fallback(value: Any) -> Any:
        if isinstance(value, NeoObjectId):
            return BsonObjectId(value.binary)
        if isinstance(value, Decimal):
            return Decimal128(value)
        return value  # the encoder then says which type it cannot encode

    # Bound by name at import time; a renamed binding would silently leave the slow path in.
    for name in ("_convert_objectids", "encode"):
        if not callable(getattr(wire_protocol, name, None)):
            raise RuntimeError(f"nx_27017.wire_protocol no longer has {name}")
    options: CodecOptions[Any] = CodecOptions(type_registry=TypeRegistry(fallback_encoder=fallback))
    wire_protocol._convert_objectids = reply_ids  # type: ignore[attr-defined]
    wire_protocol.encode = functools.partial(bson.encode, codec_options=options)  # type: ignore[attr-defined]


# The two date patches live in `queries`; their versions are pinned here, with the others'.
exact_datetimes = written_for(neosqlite="1.17.2")(queries.exact_datetimes)
strings_compare_as_strings = written_for(neosqlite="1.17.2")(queries.strings_compare_as_strings)


# SQLite's page cache per database, in KiB. The default, 2 MB for each of the server's seven
# connections, grew it by 13 MB over a thousand appeals; a page read again costs a system call.
PAGE_CACHE_KIB = 256


@written_for(neosqlite="1.17.2")
def small_page_caches() -> None:
    from neosqlite.connection import Connection

    configure = Connection._configure_connection

    def configure_small(self: Any) -> None:
        configure(self)
        self.db.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")

    Connection._configure_connection = configure_small  # type: ignore[method-assign]


def apply_all() -> None:
    """Every patch, or none: a server on other upstream versions is refused, not half-fixed."""
    problems = outdated()
    if problems:
        raise PatchOutdated("\n".join(problems))
    force_python_updates()
    exact_datetimes()
    strings_compare_as_strings()
    small_page_caches()
    fast_projections()
    fast_replies()
    # Runs on a worker thread, which the gate hands a request only once admitted: a
    # transaction starts only once it may.
    transactions_start_first()
    install_gate()


def main() -> None:
    from ..memory import few_heaps

    # Each command runs on a worker thread: with glibc's default of eight heaps a core, every
    # thread kept its own freed memory.
    few_heaps()
    apply_all()
    from nx_27017.nx_27017 import main as nx_main

    nx_main()
