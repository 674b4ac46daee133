"""Events to supervising departments (审管互动): subscriptions, their deliveries, feedback on events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from certsvc.api.deps import CtxDep, DeptDep
from certsvc.api.models import DeliveryList, FeedbackOut, NewSubscriptionOut, SubscriptionList, error_responses
from certsvc.api.paging import PageDep
from certsvc.events import subscriptions as svc
from certsvc.schemas import FeedbackIn, SubscriptionIn

router = APIRouter(prefix="/api/v1", tags=["events"])


@router.post(
    "/subscriptions", status_code=201, response_model=NewSubscriptionOut, responses=error_responses(401, 409, 422)
)
def post_subscription(body: SubscriptionIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """Subscribe to events about licences of the given types (yours or other departments': supervision
    crosses departments). Each event is POSTed to ``url`` signed per Standard Webhooks with the secret
    answered here, once. 422 naming ``url`` for a URL that is not http(s) or points at this service."""
    sub, secret = svc.create_subscription(ctx, dept, body.url, body.licence_types, body.events)
    return {**svc.subscription_view(sub), "secret": secret}


@router.get("/subscriptions", response_model=SubscriptionList, responses=error_responses(401, 422))
def get_subscriptions(ctx: CtxDep, dept: DeptDep, page: PageDep) -> dict[str, Any]:
    """Your department's subscriptions (without their secrets), oldest first."""
    return svc.subscriptions_of(ctx, dept, page)


@router.delete(
    "/subscriptions/{subscription_id}", status_code=204, response_class=Response, responses=error_responses(401, 404)
)
def delete_subscription(subscription_id: str, ctx: CtxDep, dept: DeptDep) -> Response:
    """End one of your subscriptions; its pending deliveries are dropped."""
    svc.delete_subscription(ctx, dept, subscription_id)
    return Response(status_code=204)


@router.get(
    "/subscriptions/{subscription_id}/deliveries", response_model=DeliveryList, responses=error_responses(401, 404, 422)
)
def get_deliveries(
    subscription_id: str,
    ctx: CtxDep,
    dept: DeptDep,
    page: PageDep,
    state: str | None = Query(None, max_length=16, description="pending, delivered or failed"),
) -> dict[str, Any]:
    """The deliveries of one of your subscriptions, newest first: pending (with the next attempt),
    delivered, or failed after 24 hours of retries (with the last error)."""
    return svc.deliveries_of(ctx, dept, subscription_id, page, state=state)


@router.post(
    "/events/{event_id}/feedback", status_code=201, response_model=FeedbackOut, responses=error_responses(401, 404, 422)
)
def post_feedback(event_id: str, body: FeedbackIn, ctx: CtxDep, dept: DeptDep) -> dict[str, Any]:
    """反馈: answer an event delivered to your department (e.g. 纳入监管, 核查通过, 责令整改, with a note);
    the issuing department sees it on the licence. 404 for an event not delivered to you."""
    return svc.give_feedback(ctx, dept, event_id, body.result, body.note)
