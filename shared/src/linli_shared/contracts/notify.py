"""What the notify service publishes: notifications that failed, were acknowledged or escalated."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from linli_shared.events import Event


class NotifyEvent(Event):
    service: ClassVar[str] = "notify"


class NotificationFailed(NotifyEvent):
    """A delivery gave up after its last try: someone must reach the recipient another way."""

    name: ClassVar[str] = "notification.failed"
    notification_id: int
    delivery_id: int
    source_event_id: str = Field(description="The event the notification was about.")
    recipient: str = Field(description="A token subject, or resident:<id>, volunteer:<id>, role:<role>.")
    channel: str
    attempts: int = Field(ge=1)
    last_error: str
    urgent: bool


class NotificationAcknowledged(NotifyEvent):
    """The recipient of an urgent notification acknowledged it."""

    name: ClassVar[str] = "notification.acknowledged"
    notification_id: int
    source_event_id: str
    recipient: str
    acknowledged_by: str


class NotificationEscalated(NotifyEvent):
    """An urgent notification went unacknowledged and was sent to the next rung of the ladder."""

    name: ClassVar[str] = "notification.escalated"
    notification_id: int = Field(description="The unacknowledged notification.")
    escalation_id: int = Field(description="The notification made for the next rung.")
    source_event_id: str
    from_recipient: str
    to_recipient: str
    rung: str
