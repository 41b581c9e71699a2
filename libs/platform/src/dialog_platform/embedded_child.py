"""Entry point of the embedded server's child process: nx-27017 with our patches applied.

Outside the `embedded` package, whose modules import asyncio: `without_openssl` must run first.
"""

import os
import signal
import threading
import time

from .memory import without_openssl

# Set by `EmbeddedMongo` to its own pid. The child runs in a session of its own (a Ctrl-C at the
# terminal reaches the parent, which stops it in order), so nothing else ends it when the parent
# dies by SIGKILL or the OOM killer: it would hold the database files and the port forever.
PARENT_ENV = "DIALOG_EMBEDDED_PARENT"
PARENT_POLL_S = 0.5


def _stop_when_orphaned(parent: int) -> None:
    # Polled, not PR_SET_PDEATHSIG: that fires when the *thread* that forked exits, and the
    # parent may spawn from a worker thread. A reparented child sees another parent pid.
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    # nx-27017's own handler: the same clean exit as the parent's `stop()`.
    os.kill(os.getpid(), signal.SIGTERM)


def watch_parent() -> None:
    parent = os.environ.get(PARENT_ENV, "")
    if parent.isdigit():
        threading.Thread(
            target=_stop_when_orphaned, args=(int(parent),), name="parent-watch", daemon=True
        ).start()


if __name__ == "__main__":
    without_openssl()
    watch_parent()
    from .embedded.patches import main

    main()
