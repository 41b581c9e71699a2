"""Entry point of the embedded MongoDB-wire server (nx-27017), with our compatibility fixes.

nx-27017's fast SQL paths mishandle a few things our services rely on (seen with 0.8.1): a
top-level `$set` of a datetime stores a string, and `count_documents` with `{field: None}` in a
document written inside a transaction counts nothing. Its own Python paths get them right, so
the server runs with those paths forced. Production runs real MongoDB and is not affected.
"""

from __future__ import annotations


def main() -> None:
    from neosqlite.collection.query_helper.utils import set_force_fallback

    set_force_fallback(True)
    from nx_27017.nx_27017 import main as nx_main

    nx_main()


if __name__ == "__main__":
    main()
