"""PatternEntityExtractor: order numbers and phone numbers come from their patterns alone.

An order number or a mobile number has an exact shape (data/nlu/regex.yml); a pattern
finds every one and never invents one. DIET, which also sees the regex features, can
still tag a 15-digit string or half a number. This extractor, placed after DIET,
removes the entities of the pattern-defined types that other extractors produced and
adds the pattern matches, so those two entity types have exactly one source.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import fingerprint

PATTERNS_FILE = "patterns.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class PatternEntityExtractor(GraphComponent, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Entity types owned by their regex in the training data's `regex:` blocks.
        return {"entities": ["order_id", "phone"]}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        return fingerprint.digest_paths([fingerprint.module_path(__name__)])

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        patterns: Optional[Dict[str, List[str]]] = None,
    ) -> None:
        self._entities = list(config["entities"])
        self._model_storage = model_storage
        self._resource = resource
        self._compiled: Dict[str, List[re.Pattern]] = {}
        self._use_patterns(patterns or {})

    def _use_patterns(self, patterns: Dict[str, List[str]]) -> None:
        self._compiled = {name: [re.compile(p) for p in pats] for name, pats in patterns.items()}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "PatternEntityExtractor":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        patterns: Dict[str, List[str]] = {name: [] for name in self._entities}
        for feature in training_data.regex_features:
            if feature["name"] in patterns:
                patterns[feature["name"]].append(feature["pattern"])
        missing = [name for name, pats in patterns.items() if not pats]
        if missing:
            raise ValueError(f"PatternEntityExtractor: no regex in the training data for {missing}")
        with self._model_storage.write_to(self._resource) as directory:
            (directory / PATTERNS_FILE).write_text(json.dumps(patterns, ensure_ascii=False), encoding="utf-8")
        self._use_patterns(patterns)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "PatternEntityExtractor":
        with model_storage.read_from(resource) as directory:
            patterns = json.loads((directory / PATTERNS_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, patterns)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            others = [e for e in message.get(ENTITIES, []) if e.get(ENTITY_ATTRIBUTE_TYPE) not in self._compiled]
            message.set(ENTITIES, others + self.matches(message.get(TEXT) or ""), add_to_output=True)
        return messages

    def matches(self, text: str) -> List[Dict[str, Any]]:
        found = []
        for name, patterns in self._compiled.items():
            for pattern in patterns:
                for match in pattern.finditer(text):
                    found.append(
                        {
                            ENTITY_ATTRIBUTE_TYPE: name,
                            ENTITY_ATTRIBUTE_START: match.start(),
                            ENTITY_ATTRIBUTE_END: match.end(),
                            ENTITY_ATTRIBUTE_VALUE: match.group(),
                            ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
                            EXTRACTOR: self.__class__.__name__,
                        }
                    )
        return sorted(found, key=lambda e: e[ENTITY_ATTRIBUTE_START])


