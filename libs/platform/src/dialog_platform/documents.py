"""Documents: PyMongo's async client, against real MongoDB or the embedded nx-27017 server.

One adapter, two servers. Each service owns one database, `<db_prefix>_<service>`. What the
embedded server gets wrong is handled here once (`put`) or in `embedded.patches`, so that no
repository carries a workaround of its own.
"""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.results import UpdateResult

Document = dict[str, Any]


def database_name(prefix: str, service: str) -> str:
    return f"{prefix}_{service.replace('-', '_')}"


def connect(url: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(url, tz_aware=True, serverSelectionTimeoutMS=5000)


def service_database(
    client: AsyncMongoClient[Document], prefix: str, service: str
) -> AsyncDatabase[Document]:
    return client[database_name(prefix, service)]


async def put(
    collection: AsyncCollection[Document],
    key: Any,
    fields: Document,
    *,
    where: Document | None = None,
    session: AsyncClientSession | None = None,
) -> UpdateResult:
    """Replace (or insert) the document `key` with `fields`; with `where`, only a document that
    also matches it is replaced (an insert that then collides raises DuplicateKeyError).

    `_id` is repeated in the replacement because nx-27017 ignores the filter's `_id` on an
    upsert and would give the new document an ObjectId; MongoDB takes it either way.
    """
    return await collection.replace_one(
        {**(where or {}), "_id": key}, {**fields, "_id": key}, upsert=True, session=session
    )
