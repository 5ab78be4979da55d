"""Our Rasa graph components, built the way Rasa builds them, without training a model."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.anger import AngerScorer
from bot.normalizer import TRUNCATED, TextNormalizer
from bot.pattern_entities import PatternEntityExtractor
from bot.tokenizer import StoreJiebaTokenizer


@pytest.fixture()
def storage(tmp_path):
    (tmp_path / "storage").mkdir()
    return LocalModelStorage(tmp_path / "storage")


@pytest.fixture()
def context():
    return ExecutionContext(GraphSchema({}), "test")


def make(component, storage, context, name, **config):
    return component.create({**component.get_default_config(), **config}, storage, Resource(name), context)


def test_normalizer_moves_training_entities_with_the_text(storage, context):
    text = "  手机１３８ １２３４ ５６７８，杯子碎了！！！！！"
    start = text.index("１３８")
    example = Message(data={"text": text, "intent": "inform", "entities": [
        {"start": start, "end": start + 13, "value": "13812345678", "entity": "phone"},
        {"start": text.index("杯子"), "end": text.index("杯子") + 2, "value": "杯子", "entity": "product"},
    ]})
    make(TextNormalizer, storage, context, "norm").process_training_data(TrainingData([example]))
    assert example.get("text") == "手机13812345678,杯子碎了!!!"
    spans = {e["entity"]: example.get("text")[e["start"] : e["end"]] for e in example.get("entities")}
    assert spans == {"phone": "13812345678", "product": "杯子"}


def test_normalizer_flags_truncated_messages(storage, context):
    message = Message(data={"text": "坏" * 50})
    make(TextNormalizer, storage, context, "norm", max_chars=10, max_repeat=100).process([message])
    assert len(message.get("text")) == 10
    assert message.get(TRUNCATED) is True


def test_tokenizer_drops_whitespace_tokens(storage, context, tmp_path):
    tokenizer = make(StoreJiebaTokenizer, storage, context, "tok")
    tokens = tokenizer.tokenize(Message(data={"text": "你好 世界"}), "text")
    assert [t.text for t in tokens] == ["你好", "世界"]


def test_tokenizer_fingerprint_follows_the_dictionary(tmp_path):
    dictionary = tmp_path / "dictionary"
    dictionary.mkdir()
    (dictionary / "words.txt").write_text("七天无理由\n", encoding="utf-8")
    before = StoreJiebaTokenizer.fingerprint_addon({"dictionary_path": str(dictionary)})
    (dictionary / "words.txt").write_text("七天无理由\n运费险\n", encoding="utf-8")
    after = StoreJiebaTokenizer.fingerprint_addon({"dictionary_path": str(dictionary)})
    assert before != after


def test_store_dictionary_keeps_after_sales_words_whole(storage, context):
    tokenizer = StoreJiebaTokenizer.create(
        {**StoreJiebaTokenizer.get_default_config(), "dictionary_path": "bot/dictionary"}, storage, Resource("t"), context
    )
    words = [t.text for t in tokenizer.tokenize(Message(data={"text": "七天无理由可以退吗 运费险 仅退款 刻字 生鲜 12315"}), "text")]
    for word in ("七天无理由", "运费险", "仅退款", "刻字", "生鲜", "12315"):
        assert word in words


@pytest.fixture()
def anger_examples(tmp_path):
    folder = tmp_path / "anger"
    folder.mkdir()
    angry = ["垃圾店!!!", "等了三天没人回???", "骗子 我要投诉", "你们什么破服务", "WTF 到底管不管", "再不处理我就去12315"]
    calm = ["你好", "麻烦快点 急用", "杯子碎了 麻烦处理下", "谢谢", "有点失望", "退款多久到账"]
    lines = ["angry:"] + [f"  - {t}" for t in angry] + ["calm:"] + [f"  - {t}" for t in calm]
    (folder / "examples.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_anger_scorer_trains_persists_loads_and_scores(storage, context, anger_examples):
    resource = Resource("anger")
    config = {**AngerScorer.get_default_config(), "examples_path": str(anger_examples)}
    AngerScorer.create(config, storage, resource, context).train(TrainingData())
    scorer = AngerScorer.load(config, storage, resource, context)
    angry, calm = Message(data={"text": "垃圾店 等了三天没人回!!!"}), Message(data={"text": "你好 谢谢"})
    scorer.process([angry, calm])
    assert set(angry.get("anger")) == {"score", "angry"}
    assert 0.0 <= calm.get("anger")["score"] < angry.get("anger")["score"] <= 1.0
    assert angry.get("anger")["angry"] is True and calm.get("anger")["angry"] is False
    assert "anger" in angry.as_dict(only_output_properties=True)


def test_anger_scorer_fingerprint_follows_its_examples(anger_examples):
    config = {**AngerScorer.get_default_config(), "examples_path": str(anger_examples)}
    before = AngerScorer.fingerprint_addon(config)
    (anger_examples / "more.yml").write_text("angry:\n  - 气死了\n", encoding="utf-8")
    assert AngerScorer.fingerprint_addon(config) != before


def test_pattern_extractor_owns_order_and_phone_entities(storage, context):
    training = TrainingData(regex_features=[
        {"name": "order_id", "pattern": r"(?<!\d)20\d{14,17}(?!\d)"},
        {"name": "phone", "pattern": r"(?<!\d)1[3-9]\d{9}(?!\d)"},
    ])
    resource = Resource("patterns")
    PatternEntityExtractor.create(PatternEntityExtractor.get_default_config(), storage, resource, context).train(training)
    extractor = PatternEntityExtractor.load(PatternEntityExtractor.get_default_config(), storage, resource, context)
    text = "订单2024061512345678 手机13912345678 杯子"
    guessed = [
        {"entity": "order_id", "start": 2, "end": 10, "value": "20240615", "extractor": "DIETClassifier"},
        {"entity": "product", "start": 31, "end": 33, "value": "杯子", "extractor": "CRFEntityExtractor"},
    ]
    message = Message(data={"text": text, "entities": guessed})
    extractor.process([message])
    found = {(e["entity"], e["value"]) for e in message.get("entities")}
    assert found == {("order_id", "2024061512345678"), ("phone", "13912345678"), ("product", "杯子")}


def test_pattern_extractor_refuses_training_data_without_its_regexes(storage, context):
    extractor = PatternEntityExtractor.create(PatternEntityExtractor.get_default_config(), storage, Resource("p"), context)
    with pytest.raises(ValueError, match="order_id"):
        extractor.train(TrainingData())


def test_e5_featurizer_adds_sentence_and_sequence_features(storage, context):
    from bot.e5_featurizer import E5SentenceFeaturizer

    tokenizer = make(StoreJiebaTokenizer, storage, context, "tok")
    featurizer = make(E5SentenceFeaturizer, storage, context, "e5")
    messages = [Message(data={"text": "杯子碎了"}), Message(data={"text": "退款什么时候到账"})]
    tokenizer.process(messages)
    featurizer.process(messages)
    shapes = {f.type: f.features.shape for f in messages[0].features}
    assert shapes == {"sequence": (3, 384), "sentence": (1, 384)}
    first, second = (m.features[-1].features[0] for m in messages)
    assert abs(float(first @ second)) < 0.999  # different messages, different embeddings
