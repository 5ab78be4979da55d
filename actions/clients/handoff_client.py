"""HandoffClient: the action server's way to the handoff service's ticket queue (/internal/tickets).

One httpx.AsyncClient per HandoffClient; close it with `aclose()`.
"""

from __future__ import annotations

import httpx
from pydantic import ValidationError

from handoff.tickets.models import TicketIn, TicketOut


class HandoffServiceError(Exception):
    """The handoff service could not take the ticket (down, timed out, refused our token, malformed reply)."""


class HandoffClient:
    def __init__(self, base_url: str, service_token: str, timeout: float = 3.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self._base_url, headers={"Authorization": f"Bearer {service_token}"}, timeout=timeout
        )

    async def open_ticket(self, ticket: TicketIn) -> TicketOut:
        """Queue the ticket (the service keeps one open ticket per conversation) and return it
        with the shopper's place in the queue."""
        try:
            response = await self._http.post("/internal/tickets", content=ticket.json(), headers={"Content-Type": "application/json"})
        except httpx.TimeoutException as error:
            raise HandoffServiceError(f"handoff service at {self._base_url} timed out") from error
        except httpx.HTTPError as error:
            raise HandoffServiceError(f"handoff service at {self._base_url} is unreachable: {error!r}") from error
        if response.status_code == 401:
            raise HandoffServiceError("handoff service refused the service token (check SERVICE_TOKEN on both sides)")
        if response.status_code not in (200, 201):
            raise HandoffServiceError(f"handoff service answered HTTP {response.status_code}: {response.text[:200]}")
        try:
            return TicketOut.parse_obj(response.json())
        except (ValueError, ValidationError) as error:
            raise HandoffServiceError("handoff service sent a malformed ticket") from error

    async def aclose(self) -> None:
        await self._http.aclose()
