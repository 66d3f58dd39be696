"""The customer's rules and triggers."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import CurrentCustomer, TriggerServiceDep
from api.routing import WorkRoute
from engine.triggers.schemas import RuleOffer, TriggerCreate, TriggerPublic, TriggerUpdate

router = APIRouter(prefix="/v1/me", tags=["me"], route_class=WorkRoute)


@router.get("/rules")
def my_rules(customer: CurrentCustomer, triggers: TriggerServiceDep) -> list[RuleOffer]:
    """Published rules of this business, in the customer's language."""
    return triggers.offers(customer)


@router.get("/triggers")
def list_triggers(customer: CurrentCustomer, triggers: TriggerServiceDep) -> list[TriggerPublic]:
    return [triggers.public(t, customer) for t in triggers.list(customer)]


@router.post("/triggers", status_code=status.HTTP_201_CREATED)
def create_trigger(
    body: TriggerCreate, customer: CurrentCustomer, triggers: TriggerServiceDep
) -> TriggerPublic:
    """Turn a published rule into a trigger; parameters are checked against its bounds."""
    return triggers.public(triggers.create(customer, body), customer)


@router.get("/triggers/{trigger_id}")
def get_trigger(
    trigger_id: str, customer: CurrentCustomer, triggers: TriggerServiceDep
) -> TriggerPublic:
    """The trigger with its state: armed or fired in the current window, last value."""
    return triggers.public(triggers.get(customer, trigger_id), customer)


@router.patch("/triggers/{trigger_id}")
def update_trigger(
    trigger_id: str, body: TriggerUpdate, customer: CurrentCustomer, triggers: TriggerServiceDep
) -> TriggerPublic:
    trigger = triggers.update(customer, trigger_id, body)
    return triggers.public(trigger, customer)


@router.delete("/triggers/{trigger_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_trigger(
    trigger_id: str, customer: CurrentCustomer, triggers: TriggerServiceDep
) -> Response:
    triggers.delete(customer, trigger_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
