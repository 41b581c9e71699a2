"""The open figures as downloads: CSV (UTF-8 with a BOM, for Excel) and JSON, the same rows."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from .open_text import COLUMNS, FEW, LICENCE_URL

Doc = dict[str, Any]


def _published(row: Doc) -> Doc:
    """A row as downloaded: a hidden cell says "<5" where its count would be, as the page does."""
    out = {c: row.get(c) for c in COLUMNS}
    if out["suppressed"]:
        out["received"] = FEW
    return out


def as_csv(data: Doc) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in map(_published, data["rows"]):
        values = []
        for c in COLUMNS:
            v = row[c]
            values.append("" if v is None else str(v).lower() if isinstance(v, bool) else v)
        writer.writerow(values)
    # The BOM tells Excel the file is UTF-8, so Kazakh letters open as letters.
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def as_json(data: Doc) -> bytes:
    body = {
        "generated_at": data.get("generated_at"),
        "months": data["months"],
        "min_cell": data["min_cell"],
        "licence": {"name": "CC BY 4.0", "url": LICENCE_URL},
        "readme": "/open/README",
        "columns": list(COLUMNS),
        "rows": [_published(row) for row in data["rows"]],
    }
    return json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8")
