"""Parse messages with a trained model in-process, exactly as the Rasa server does."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Dict, Union

import structlog
from rasa.core.agent import Agent


class ModelParser:
    def __init__(self, model_path: Union[str, Path]) -> None:
        logging.getLogger("rasa").setLevel(logging.WARNING)
        # Rasa logs every parse at debug level through structlog.
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
        started = time.perf_counter()
        self._loop = asyncio.new_event_loop()
        self._agent = Agent.load(str(model_path))
        self.load_seconds = time.perf_counter() - started

    def parse(self, text: str) -> Dict[str, Any]:
        """The parse result of POST /model/parse for `text`."""
        return self._loop.run_until_complete(self._agent.parse_message(text))

    def close(self) -> None:
        self._loop.close()
