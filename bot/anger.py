"""AngerScorer: a Rasa graph component that adds an anger score to every parsed message.

Trained from the labelled examples under `examples_path` (data/anger/ by default),
independently of the intent. Each parse result gets

    "anger": {"score": <0..1>, "angry": <score >= threshold>}

which Rasa carries into `POST /model/parse`, `tracker.latest_message` and the
UserUttered events of the tracker store. The threshold lives in config.yml.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import fingerprint
from bot.anger_data import load_examples
from bot.anger_model import AngerModel

logger = logging.getLogger(__name__)

ANGER = "anger"
MODEL_FILE = "anger_model.joblib"
OWN_MODULES = ("bot.anger", "bot.anger_model", "bot.anger_features", "bot.anger_data", "bot.text_normalization")


def anger_result(score: float, threshold: float) -> Dict[str, Any]:
    return {"score": round(score, 4), "angry": score >= threshold}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class AngerScorer(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"examples_path": "data/anger", "threshold": 0.5, "regularization": 4.0}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        # The examples are read from disk, so Rasa's cache would not notice new ones.
        if "examples_path" not in config:
            # Rasa also asks on behalf of a node it restored from its cache, passing that
            # node's config ({"output": Resource}) instead of ours: nothing to add then.
            return None
        modules = [fingerprint.module_path(name) for name in OWN_MODULES]
        return fingerprint.digest_paths([config["examples_path"], *modules])

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[AngerModel] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "AngerScorer":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = load_examples(self._config["examples_path"])
        self._model = AngerModel(regularization=float(self._config["regularization"]))
        self._model.fit([e.text for e in examples], [e.angry for e in examples])
        logger.info("AngerScorer trained on %d examples", len(examples))
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self._model, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "AngerScorer":
        with model_storage.read_from(resource) as directory:
            model = joblib.load(directory / MODEL_FILE)
        return cls(config, model_storage, resource, model)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        if self._model is None:
            raise RuntimeError("AngerScorer used before training")
        threshold = float(self._config["threshold"])
        texts = [(message.get(TEXT) or "").strip() for message in messages]
        scores = iter(self._model.scores([text for text in texts if text]))
        for message, text in zip(messages, texts, strict=False):
            # Nothing written is nothing to be angry about.
            score = next(scores) if text else 0.0
            message.set(ANGER, anger_result(score, threshold), add_to_output=True)
        return messages
