"""The embedded MongoDB-wire server of the one-process mode: nx-27017 as a child process.

`server` starts and supervises it; `patches` holds what we change in nx-27017 and neosqlite,
each patch with the exact upstream versions it was written for; `python -m
dialog_platform.embedded` is the child's entry point. Production runs real MongoDB and uses none
of this.
"""

from .server import EmbeddedMongo, EmbeddedSupervisor, local_server

__all__ = ["EmbeddedMongo", "EmbeddedSupervisor", "local_server"]
