"""Answers about events to supervising departments (审管互动): subscriptions, deliveries, feedback."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from certsvc.api.models.base import IsoDateTime, Out


class SubscriptionOut(Out):
    """A subscription: where its events go, for which licence types and events."""

    id: str
    url: str
    licence_types: list[str]
    events: list[str]
    created_at: IsoDateTime


class NewSubscriptionOut(SubscriptionOut):
    """A subscription just made, with its signing secret: shown this once."""

    secret: str = Field(description="the Standard Webhooks secret (whsec_…): shown once, stored encrypted")


class SubscriptionList(Out):
    """A department's subscriptions."""

    items: list[SubscriptionOut]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last page")


class DeliveryOut(Out):
    """One event sent (or being sent) to one subscription."""

    id: str
    event_id: str
    event_type: str
    licence_id: str | None
    occurred_at: IsoDateTime
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: IsoDateTime | None
    last_status: int | None
    last_error: str | None
    delivered_at: IsoDateTime | None


class DeliveryList(Out):
    """A page of a subscription's deliveries, newest first."""

    items: list[DeliveryOut]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last page")


class FeedbackOut(Out):
    """A supervising department's answer (反馈) to an event about a licence."""

    id: str
    event_id: str
    event_type: str | None
    department: str | None
    department_name: str | None
    result: str
    note: str | None
    at: IsoDateTime
