"""A shopper chatting over the REST webhook, as the tests drive the running assistant."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import httpx

from scripts.stack import Assistant
from tests.test_handoff import images


class Shopper:
    """One shopper's chat over the REST webhook; `say` returns the bot's texts joined."""

    def __init__(self, assistant: Assistant, sender: str, token: Optional[str] = None) -> None:
        self.assistant, self.sender, self.token = assistant, sender, token
        self.buttons: List[Dict[str, str]] = []

    def say(self, text: str, **metadata: Any) -> str:
        if self.token:
            metadata["shopper_token"] = self.token
        body = {"sender": self.sender, "message": text, "metadata": metadata}
        reply = httpx.post(f"{self.assistant.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
        assert reply.status_code == 200, reply.text
        messages = reply.json()
        self.buttons = [b for m in messages for b in (m.get("buttons") or [])]
        return "\n".join(m.get("text", "") for m in messages)

    def press(self, title_part: str) -> str:
        button = next(b for b in self.buttons if title_part in b["title"])
        return self.say(button["payload"])

    def upload(self, *seeds: int) -> List[str]:
        ids = []
        for seed in seeds:
            data = images.encode(images.picture(seed=seed), "JPEG")
            response = httpx.post(f"{self.assistant.handoff_url}/api/photos", files={"file": ("p.jpg", data)},
                                  headers={"Authorization": f"Bearer {self.token}"})
            assert response.status_code == 201, response.text
            ids.append(response.json()["photos"][0]["id"])
        return ids
