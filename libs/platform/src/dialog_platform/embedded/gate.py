"""The transaction gate of the embedded server: one open transaction per database at a time.

nx-27017 keeps one SQLite connection per database and runs every session's transaction as a
SAVEPOINT on it, so two transactions open at once nest inside each other (see `patches`). The
gate admits each request only when that cannot happen, and rolls back a transaction whose client
died, as MongoDB does: at once when every connection that carried it has closed (a killed
process closes them all), else after its client has been silent for ABANDONED_AFTER_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("dialog.embedded")


class TransactionRolledBack(RuntimeError):
    """A command of a transaction the gate rolled back as abandoned (the client gets an error)."""


# A transaction whose session sent nothing for this long is taken to be abandoned (its client
# died mid-way); it is rolled back and the next waiter goes ahead rather than blocking the
# database for good.
ABANDONED_AFTER_S = 15.0
ROLLED_BACK_KEPT = 1000
CLOSED_KEPT = 1000


def command_of(msg: dict[str, Any]) -> dict[str, Any]:
    for kind, data in msg.get("sections", ()):
        if kind == "body" and isinstance(data, dict):
            return data
    return {}


def _session_id(command: dict[str, Any]) -> str | None:
    lsid = command.get("lsid")
    if not isinstance(lsid, dict) or "id" not in lsid:
        return None
    raw = lsid["id"]
    return bytes(raw).hex() if isinstance(raw, bytes | bytearray) else str(raw)


class TransactionGate:
    """At most one open transaction per database, never beside a plain write in flight there.

    A plain request that reached SQLite while a transaction's SAVEPOINT is open becomes part of
    it (and is rolled back with it), so the two must not overlap: a transaction starts only once
    the database's plain requests in flight are done, and plain requests wait while a
    transaction is open or waiting to start (so a busy booth cannot starve the outbox).

    Every method runs on the server's event loop, before and after a request's worker thread.
    """

    def __init__(
        self,
        abandoned_after_s: float = ABANDONED_AFTER_S,
        roll_back: Callable[[str, str], Awaitable[None]] | None = None,
    ) -> None:
        self.abandoned_after_s = abandoned_after_s
        # Rolls back a session's open transaction in a database: (session id, database).
        self.roll_back = roll_back
        # One per database with waiters: a request ending in one database wakes no one
        # waiting in another, and a plain one only when a transaction waits for it.
        self._changed: dict[str, asyncio.Event] = {}
        self._owner: dict[str, list[Any]] = {}  # database → [session id, last activity]
        self._database_of: dict[str, str] = {}  # session id → database
        self._in_flight: dict[str, int] = {}  # database → plain requests running
        self._starting: dict[str, int] = {}  # database → transactions waiting to start
        # Sessions whose transaction was rolled back as abandoned: a client that was only slow
        # must not have the rest of it run as plain writes, half a transaction after all.
        self._rolled_back: set[str] = set()
        # Session with an open transaction → the client connections its commands came by.
        self._carriers: dict[str, set[str]] = {}
        # The connections closed last, oldest first: a request may outlive its connection
        # while it waits for its turn.
        self._closed: dict[str, None] = {}

    def _carried(self, owner: list[Any], connection: str | None) -> None:
        if connection is None:
            return
        carriers = self._carriers.setdefault(owner[0], set())
        if connection not in self._closed:
            carriers.add(connection)
        elif not carriers:
            # Its connection closed while it waited to begin: the client died before it did.
            owner[1] = -math.inf

    def connection_closed(self, connection: str) -> None:
        """A client connection closed. A transaction none of whose connections is left was
        abandoned by a dead client (pymongo may send a session's commands by any connection of
        its pool, so one closed connection proves nothing): its database is freed now rather
        than after ABANDONED_AFTER_S of silence, which held a killed service's restart back."""
        self._closed[connection] = None
        if len(self._closed) > CLOSED_KEPT:
            del self._closed[next(iter(self._closed))]
        for database, owner in list(self._owner.items()):
            carriers = self._carriers.get(owner[0])
            if carriers is None or connection not in carriers:
                continue
            carriers.discard(connection)
            if not carriers:
                owner[1] = -math.inf  # silent for ever, as far as the check below goes
                self._wake(database)

    async def enter(self, command: dict[str, Any], connection: str | None = None) -> str | None:
        """Wait for this request's turn (`connection`: the client's connection it came by);
        returns the database it holds a plain slot of."""
        database = str(command.get("$db", ""))
        session = _session_id(command)
        starts = bool(command.get("startTransaction")) and session is not None
        if session in self._rolled_back:
            if not starts and "txnNumber" in command:
                raise TransactionRolledBack(
                    f"this transaction was rolled back: its session sent nothing for "
                    f"{self.abandoned_after_s:g} s, or its connections closed, and it was taken "
                    f"to be abandoned"
                )
            self._rolled_back.discard(session)
        if starts:
            self._starting[database] = self._starting.get(database, 0) + 1
        try:
            while True:
                owner = self._owner.get(database)
                if owner is not None and owner[0] == session:
                    owner[1] = time.monotonic()
                    self._carried(owner, connection)
                    return None
                if owner is not None:
                    if time.monotonic() - owner[1] > self.abandoned_after_s:
                        log.warning("transaction abandoned; rolled back, %s released", database)
                        # Its writes are still open on the database's one connection: left
                        # there, the next transaction nested inside it, the next plain write's
                        # commit made its half (an appeal registered, its events never written)
                        # look done, and whatever came after lived in a transaction that a
                        # restart of the server rolled back. Undone, it is as if never begun,
                        # as MongoDB does with a transaction whose client died.
                        if self.roll_back is not None:
                            await self.roll_back(owner[0], database)
                        if len(self._rolled_back) >= ROLLED_BACK_KEPT:
                            self._rolled_back.clear()  # dead clients' sessions never return
                        self._rolled_back.add(owner[0])
                        if self._owner.get(database) is owner:
                            self._release(owner[0])
                            self._wake(database)
                        continue
                elif starts:
                    if not self._in_flight.get(database):
                        owner = self._owner[database] = [session, time.monotonic()]
                        self._database_of[str(session)] = database
                        self._carried(owner, connection)
                        return None
                elif not self._starting.get(database):
                    self._in_flight[database] = self._in_flight.get(database, 0) + 1
                    return database
                # Woken by a change in this database; the timeout is for the abandonment check.
                changed = self._changed.get(database)
                if changed is None:
                    changed = self._changed[database] = asyncio.Event()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout=0.5)
        finally:
            if starts:
                self._starting[database] -= 1
                if not self._starting[database] and database not in self._owner:
                    # Plain requests held back for a transaction that gave up may go.
                    self._wake(database)

    def leave(self, command: dict[str, Any], plain_slot: str | None) -> None:
        session = _session_id(command)
        ends = "commitTransaction" in command or "abortTransaction" in command
        if plain_slot is None and not (ends and session is not None):
            return
        if plain_slot is not None:
            self._in_flight[plain_slot] -= 1
            if not self._in_flight[plain_slot] and self._starting.get(plain_slot):
                self._wake(plain_slot)  # the last plain request out lets a transaction in
        if ends and session is not None:
            released = self._release(session)
            if released is not None:
                self._wake(released)

    def _release(self, session: str) -> str | None:
        """Free the database `session`'s transaction holds; that database, if it held one."""
        self._carriers.pop(session, None)
        database = self._database_of.pop(session, None)
        if database is not None and self._owner.get(database, [None])[0] == session:
            del self._owner[database]
            return database
        return None

    def _wake(self, database: str) -> None:
        changed = self._changed.pop(database, None)
        if changed is not None:
            changed.set()


def abort_transaction(handler: Any, session: str, database: str) -> None:
    """Roll back `session`'s open transaction in `database` on nx-27017's handler, under the
    database's lock as every request there runs."""
    with handler._lock_for(database):
        for open_session in handler._tx_sessions(session):
            try:
                open_session.abort_transaction()
            except Exception:
                # Whatever its state, nothing of it may stay open on the connection.
                log.exception("abandoned transaction: abort failed; rolling the connection back")
                open_session.client.db.rollback()
                open_session._in_transaction = False
