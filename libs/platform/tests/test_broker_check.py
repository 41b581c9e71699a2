"""A broker that accepts connections but never answers stops a run at once, saying so.

Seen on the machine's RabbitMQ after a day of test runs: the port open, no handshake. Every
test then waited out its own timeout and a benchmark sat at «starting the system» for good.
"""

from __future__ import annotations

import socket
import time

import pytest

from dialog_platform.testing.servers import (
    RABBITMQ_HOST,
    RABBITMQ_PORT,
    broker_answers,
    check_broker,
    ensure_rabbitmq,
)


def test_a_broker_that_accepts_but_never_answers_is_named_with_what_to_do() -> None:
    # A listening socket nobody reads from: the kernel completes the connection, nothing answers.
    with socket.create_server(("127.0.0.1", 0)) as stuck:
        port = stuck.getsockname()[1]
        began = time.monotonic()
        with pytest.raises(RuntimeError, match="does not answer the AMQP handshake") as raised:
            check_broker("127.0.0.1", port, timeout=2)
        assert time.monotonic() - began < 5
        assert "rabbitmq-server -detached" in str(raised.value)


def test_nothing_listening_is_no_broker_either() -> None:
    with socket.create_server(("127.0.0.1", 0)) as gone:
        port = gone.getsockname()[1]
    assert not broker_answers("127.0.0.1", port, timeout=2)


def test_the_machines_broker_answers_the_handshake() -> None:
    ensure_rabbitmq()
    assert broker_answers(RABBITMQ_HOST, RABBITMQ_PORT)
