"""How the embedded server answers finds: plain projections, and how neosqlite compares dates.

The patches' versions are pinned in `patches`, with the others'. Production runs real MongoDB
and is not affected.
"""

from __future__ import annotations

import datetime
from typing import Any

# A projection's field paths as a tree: each key is one step of a path; LEAF ends a path.
LEAF: dict[str, Any] = {}
Tree = dict[str, Any]


def plain_projection(projection: Any) -> tuple[bool, Tree, bool] | None:
    """(inclusive, path tree, keep _id) of a projection of field paths with 0 or 1 only; None
    for anything else (operators, expressions, a mixed or colliding projection), which stays
    neosqlite's to answer."""
    if not isinstance(projection, dict) or not projection:
        return None
    flags: dict[str, bool] = {}
    for key, value in projection.items():
        if not isinstance(key, str) or not key or "$" in key:
            return None
        if type(value) not in (int, bool, float) or value not in (0, 1):
            return None
        flags[key] = bool(value)
    id_flag = flags.pop("_id", None)
    if len(set(flags.values())) > 1 or any(k.startswith("_id.") for k in flags):
        return None
    tree: Tree = {}
    for path in flags:
        node = tree
        *steps, last = path.split(".")
        for step in steps:
            node = node.setdefault(step, {})
            if node is LEAF or not isinstance(node, dict):
                return None  # "a" and "a.b" together: MongoDB calls it a path collision
        if last in node:
            return None
        node[last] = LEAF
    # `{_id: 1}` alone is an inclusion of `_id` only.
    inclusive = all(flags.values()) if flags else id_flag is True
    return inclusive, tree, id_flag is not False


def _exclude(value: Any, tree: Tree) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            sub = tree.get(k)
            if sub is None:
                out[k] = v
            elif sub is not LEAF:
                out[k] = _exclude(v, sub)
        return out
    if isinstance(value, list):
        # As MongoDB does: a path into an array applies to each document in it.
        return [_exclude(e, tree) for e in value]
    return value


def _include(value: Any, tree: Tree) -> Any:
    if isinstance(value, list):
        return [_include(e, tree) for e in value if isinstance(e, dict | list)]
    out = {}
    for k, v in value.items():
        sub = tree.get(k)
        if sub is LEAF:
            out[k] = v
        elif sub is not None and isinstance(v, dict | list):
            out[k] = _include(v, sub)
    return out


def project(doc: dict[str, Any], inclusive: bool, tree: Tree, keep_id: bool) -> dict[str, Any]:
    """The document as MongoDB projects it; the result shares untouched values with `doc`."""
    projected: dict[str, Any]
    if inclusive:
        projected = _include(doc, tree)
        if keep_id and "_id" in doc:
            projected = {"_id": doc["_id"], **projected}
        return projected
    projected = _exclude(doc, tree)
    if not keep_id:
        projected.pop("_id", None)
    return projected


# SQLite's date function keeps whole seconds: neosqlite's datetime comparisons (seen with
# 1.17.2) read `datetime(field) > datetime(?)`, so a case recorded 0.3 s after a page's last row
# was "not after" it and no page showed it. `strftime` with `%f` keeps milliseconds, which is
# all a BSON datetime holds, and normalizes offsets to UTC the same way.
EXACT_TIME = "strftime('%Y-%m-%d %H:%M:%f', "


def exact_datetimes() -> None:
    from neosqlite.collection.sql_translator_unified import SQLOperatorTranslator

    translate = SQLOperatorTranslator.translate_operator

    def translate_exactly(self: Any, *args: Any, **kwargs: Any) -> Any:
        sql, params = translate(self, *args, **kwargs)
        if sql is not None and "datetime(" in sql:
            sql = sql.replace("datetime(", EXACT_TIME)
        return sql, params

    SQLOperatorTranslator.translate_operator = translate_exactly  # type: ignore[method-assign]


def is_datetime(value: Any) -> bool:
    """A datetime, or a document holding one: what MongoDB compares as a date."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return True
    if isinstance(value, dict):
        return "$date" in value or any(is_datetime(v) for v in value.values())
    return False


def strings_compare_as_strings() -> None:
    """A string that looks like a date is a string, as in MongoDB.

    neosqlite (seen with 1.17.2) sends any filter holding one ("2026-11-02", a case's control
    date) to its datetime processor, which reads every matching document, decodes each in
    Python and sorts them there: the overdue list's first page decoded every overdue case.
    With this, such a filter takes the plain SQL path: its index, its sort, its limit. Real
    datetimes still go to the processor, which compares them as dates.
    """
    from neosqlite.collection import datetime_utils

    # Looked up in the module at each call (`from .datetime_utils import …` inside functions).
    datetime_utils.is_datetime_value = is_datetime
