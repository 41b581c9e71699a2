"""Fault runs: the distributed system under SIGKILLs, driven through the booth API, then audited.

Used by `bench/faults.py` (`make bench`) and `tests/system/test_faults.py` (`make test`). The
system is started with the launcher the system tests use (`launch.Distributed` on nx-27017,
moto S3 and the SMSC stand-in); appeals go through the booth API with the booth page's retries;
one process at a time is killed with SIGKILL and started again (a service, or with `broker=True`
a RabbitMQ node of the run's own). When the system has settled, every registered appeal is
checked end to end: receipt, routing's case, the official's SMS, the citizen's SMS, and the
dead-letter queues.

Only processes this module started are ever signalled, by the pid of the child it holds (never
reaped before the kill, so the pid cannot belong to anyone else).
"""

from __future__ import annotations

from .audit import Audit, Report, Row
from .booth import Booth, BoothResult, ReceiptWatch
from .config import NUMBER, FaultConfig
from .kills import Kill, Killer
from .rabbit import PrivateRabbit, list_queues
from .scenario import cluster_env, run, run_scenario, stop_all

__all__ = [
    "NUMBER",
    "Audit",
    "Booth",
    "BoothResult",
    "FaultConfig",
    "Kill",
    "Killer",
    "PrivateRabbit",
    "ReceiptWatch",
    "Report",
    "Row",
    "cluster_env",
    "list_queues",
    "run",
    "run_scenario",
    "stop_all",
]
