"""TextNormalizer: a Rasa graph component that normalises message text before tokenisation.

The steps are in `bot.text_normalization`. Training examples are normalised the same
way as live messages and their entity spans are moved with the text, so the model
never sees a form of the text that it will not see at parse time.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, ENTITY_ATTRIBUTE_END, ENTITY_ATTRIBUTE_START, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import fingerprint
from bot.text_normalization import DEFAULT_MAX_CHARS, DEFAULT_MAX_REPEAT, normalize

logger = logging.getLogger(__name__)

# Set on a message whose text was cut to max_chars; visible in the parse result.
TRUNCATED = "text_truncated"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class TextNormalizer(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_repeat": DEFAULT_MAX_REPEAT, "max_chars": DEFAULT_MAX_CHARS}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        # Rasa caches trained components by config and data, not by our code.
        return fingerprint.digest_paths([fingerprint.module_path(__name__), fingerprint.module_path("bot.text_normalization")])

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._max_repeat = int(config["max_repeat"])
        self._max_chars = int(config["max_chars"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TextNormalizer":
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            if example.get(TEXT) is not None:
                self._normalize_message(example)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalize_message(message)
        return messages

    def _normalize_message(self, message: Message) -> None:
        original = message.get(TEXT) or ""
        result = normalize(original, max_repeat=self._max_repeat, max_chars=self._max_chars)
        if result.text == original:
            return
        message.set(TEXT, result.text)
        if result.truncated:
            message.set(TRUNCATED, True, add_to_output=True)
        entities = message.get(ENTITIES)
        if entities:
            message.set(ENTITIES, self._moved_entities(entities, result, original))

    @staticmethod
    def _moved_entities(entities: List[Dict[str, Any]], result: Any, original: str) -> List[Dict[str, Any]]:
        moved = []
        for entity in entities:
            span = result.map_span(entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END])
            if span is None:
                logger.warning("Entity %s lost by normalisation in %r", entity, original)
                continue
            moved.append({**entity, ENTITY_ATTRIBUTE_START: span[0], ENTITY_ATTRIBUTE_END: span[1]})
        return moved
