"""StoreJiebaTokenizer: Rasa's JiebaTokenizer with the store dictionary under the cache key.

Rasa's JiebaTokenizer loads every file of `dictionary_path` into jieba and copies them
into the model, but does not fingerprint them: after a trainer adds 七天无理由 to the
dictionary, `rasa train` would reuse the cached tokenizer and every featurizer after
it. `fingerprint_addon` puts the dictionary's content into Rasa's cache key.

jieba also emits whitespace as tokens (你好 世界 → 你好, " ", 世界); those carry no
meaning and are dropped.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from bot import fingerprint


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class StoreJiebaTokenizer(JiebaTokenizer):
    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        paths = [fingerprint.module_path(__name__)]
        if config.get("dictionary_path"):
            paths.append(config["dictionary_path"])
        return fingerprint.digest_paths(paths)

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        return [token for token in super().tokenize(message, attribute) if token.text.strip()]
