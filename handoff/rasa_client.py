"""RasaClient: how the gateway talks to the Rasa server (REST channel and HTTP API, with the token).

Shoppers never reach Rasa directly: their messages come to the gateway, which sends them on
here. One httpx.AsyncClient per RasaClient (created in the service's lifespan).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional
from urllib.parse import quote

import httpx

CONVERSATION_HEADER = "X-Conversation-Id"  # several Rasa servers: the balancer keeps a conversation on one


def sticky(conversation_id: str) -> Dict[str, str]:
    # A header value is ASCII: anything else percent-encoded (a shopper id like "张三" made httpx raise).
    return {CONVERSATION_HEADER: "".join(c if 0x20 < ord(c) < 0x7F else quote(c, safe="") for c in conversation_id)}


def _segment(conversation_id: str) -> str:
    """The id in a URL path: httpx refuses control characters there (httpx.InvalidURL, which is no
    HTTPError: a 500), and "?" or "#" would end the path; those are percent-encoded."""
    return "".join(f"%{ord(c):02X}" if ord(c) < 0x20 or c in "\x7f?#" else c for c in conversation_id)


class RasaUnavailable(Exception):
    """Rasa did not answer, answered with an error, or sent something that is not JSON. `slow`:
    it did not answer in time, so it may still be handling the request (as opposed to refused,
    unreachable or failed, when it is not)."""

    def __init__(self, message: str, slow: bool = False) -> None:
        super().__init__(message)
        self.slow = slow


class RasaClient:
    def __init__(self, base_url: str, token: Optional[str], timeout: float = 10.0) -> None:
        self._params = {"token": token} if token else {}
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)

    async def send(self, conversation_id: str, text: str, metadata: Dict[str, Any]) -> List[Dict[str, Any]]:
        """A shopper message through the REST channel; the bot's replies."""
        body = {"sender": conversation_id, "message": text, "metadata": metadata}
        return await self._json("POST", "/webhooks/rest/webhook", json=body, headers=sticky(conversation_id))

    async def execute(self, conversation_id: str, action: str) -> List[Dict[str, Any]]:
        """Run one action in the conversation (HTTP API); what it said to the shopper."""
        reply = await self._json(
            "POST", f"/conversations/{_segment(conversation_id)}/execute", json={"name": action}, params=self._params
        )
        return list(reply.get("messages") or [])

    async def parse(self, text: str) -> Dict[str, Any]:
        """What the NLU makes of a text (intent, entities, anger), without touching a conversation."""
        return await self._json("POST", "/model/parse", json={"text": text}, params=self._params)

    async def record(self, conversation_id: str, events: List[Dict[str, Any]]) -> None:
        """Append events without a bot prediction (a shopper message while a person answers). Rasa
        answers with the tracker; asking for it without events keeps that answer small."""
        params = {**self._params, "include_events": "NONE"}
        await self._json("POST", f"/conversations/{_segment(conversation_id)}/tracker/events", json=events, params=params)

    async def tracker(self, conversation_id: str) -> Dict[str, Any]:
        """The conversation's current session (HTTP API)."""
        return await self._json("GET", f"/conversations/{_segment(conversation_id)}/tracker", params=self._params)

    async def status(self) -> Dict[str, Any]:
        """What Rasa serves now (`model_file`, `model_id`)."""
        return await self._json("GET", "/status", params=self._params)

    async def replace_model(self, model_file: str, timeout: float = 120.0) -> None:
        """Load another model file into the running server (PUT /model; returns once it is loaded)."""
        await self._json("PUT", "/model", json={"model_file": model_file}, params=self._params, timeout=timeout)

    async def story(self, conversation_id: str) -> str:
        """The conversation as a Rasa story in YAML (GET /conversations/{id}/story)."""
        try:
            response = await self._http.get(f"/conversations/{_segment(conversation_id)}/story", params=self._params)
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"Rasa at {self._http.base_url} did not answer: {error!r}") from error
        if response.status_code == 404:  # "Conversation ID not found": nothing to tell, not an outage
            return ""
        if response.status_code >= 400:
            raise RasaUnavailable(f"Rasa answered HTTP {response.status_code} to the story of {conversation_id}")
        return response.text

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        params = kwargs.pop("params", None)
        try:
            response = await self._http.request(method, path, params=params, **kwargs)
        except httpx.HTTPError as error:
            slow = isinstance(error, (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout))
            raise RasaUnavailable(f"Rasa at {self._http.base_url} did not answer: {error!r}", slow=slow) from error
        if response.status_code >= 400:
            raise RasaUnavailable(f"Rasa answered HTTP {response.status_code} to {method} {path}")
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError as error:
            raise RasaUnavailable(f"Rasa sent no JSON to {method} {path}") from error
