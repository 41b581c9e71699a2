"""Entry point of the embedded server's child process: nx-27017 with our patches applied.

Outside the `embedded` package, whose modules import asyncio: `without_openssl` must run first.
"""

from .memory import without_openssl

if __name__ == "__main__":
    without_openssl()
    from .embedded.patches import main

    main()
