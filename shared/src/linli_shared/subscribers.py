"""A service's subscribers: which handler applies which event contract, by class, not by string."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from linli_shared.events import Envelope, Event
from linli_shared.inbox import PermanentEventError
from linli_shared.unit_of_work import Work

E = TypeVar("E", bound=Event)
Handler = Callable[[Work, E, Envelope], Awaitable[None]]
"""Applies one event, opened as its contract, inside the inbox's unit of work; never commits."""


class EventHandlers:
    """The map from contract to handler that a service's subscribers.py fills with `@handlers.on(...)`.

    Called as the inbox's apply function: it opens the envelope as the handler's contract (a
    payload that breaks the contract is poison, dead-lettered at once) and ignores events nobody
    here handles, which other services' consumers may want."""

    def __init__(self) -> None:
        self._by_type: dict[str, tuple[type[Event], Handler[Any]]] = {}

    def on(self, *contracts: type[E]) -> Callable[[Handler[E]], Handler[E]]:
        def register(handler: Handler[E]) -> Handler[E]:
            for contract in contracts:
                event_type = f"{contract.service}.{contract.name}"
                if event_type in self._by_type:
                    raise ValueError(f"{event_type} already has a handler")
                self._by_type[event_type] = (contract, handler)
            return handler

        return register

    @property
    def contracts(self) -> list[type[Event]]:
        return [contract for contract, _ in self._by_type.values()]

    def producers(self) -> set[str]:
        return {contract.service for contract in self.contracts}

    async def __call__(self, uow: Work, envelope: Envelope) -> None:
        found = self._by_type.get(envelope.event_type)
        if found is None:
            return  # not this service's business
        contract, handler = found
        try:
            event = envelope.open(contract)
        except (ValidationError, ValueError) as error:
            raise PermanentEventError(f"{envelope.event_type} breaks its contract: {error}") from error
        await handler(uow, event, envelope)
