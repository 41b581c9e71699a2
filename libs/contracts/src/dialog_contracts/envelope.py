"""The CloudEvents 1.0 structured-mode envelope every message body uses."""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class EventData(BaseModel):
    """Base of every event's `data`.

    Consumers ignore unknown fields, so a producer may add optional fields to a `.v1` type;
    anything that breaks old consumers is a new `.vN` type.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    TYPE: ClassVar[str]
    # The routing key's first part; per-kiosk events append the kiosk id.
    ROUTING_KEY: ClassVar[str]

    def routing_key(self) -> str:
        return self.ROUTING_KEY

    def subject(self) -> str | None:
        return None


E = TypeVar("E", bound=EventData)


def _now() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    time: datetime = Field(default_factory=_now)
    subject: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]
    # CloudEvents distributed-tracing extension: the W3C trace context of the work that produced
    # the event. Optional, and left out of the wire form when unset, so older consumers and
    # producers see the envelope they always did.
    traceparent: str | None = None
    tracestate: str | None = None

    @classmethod
    def wrap(cls, data: EventData, *, source: str, id: str | None = None) -> Envelope:
        return cls(
            id=id or str(uuid.uuid4()),
            source=source,
            type=data.TYPE,
            subject=data.subject(),
            data=data.model_dump(mode="json"),
        )

    # `builtins.type`: inside this class, `type` is the CloudEvents attribute.
    def parse(self, model: builtins.type[E]) -> E:
        if self.type != model.TYPE:
            raise ValueError(f"envelope type {self.type!r} is not {model.TYPE!r}")
        return model.model_validate(self.data)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_bytes(cls, body: bytes) -> Envelope:
        return cls.model_validate_json(body)
