"""The training data itself: coverage, no conflicts, no near-duplicates, entities on token boundaries."""

import json
import tarfile
from pathlib import Path

import pytest
import yaml

from scripts.data_hygiene import (
    DEV_SPLIT,
    Example,
    comments_inside_examples,
    conflicting_intents,
    dev_split_leaks,
    load_examples,
    misaligned_entities,
    near_duplicates,
    skeleton,
)

AFTER_SALES = {"report_broken", "report_not_received", "report_wrong_item", "changed_mind", "ask_refund_status",
               "ask_policy", "inform", "request_human", "complain"}


@pytest.fixture(scope="module")
def examples():
    return load_examples()


def test_every_intent_has_enough_examples_in_its_own_file(examples):
    domain_intents = yaml.safe_load(Path("domain.yml").read_text(encoding="utf-8"))["intents"]
    assert len(domain_intents) == 16
    for intent in domain_intents:
        path = Path("data/nlu") / f"{intent}.yml"
        blocks = yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
        assert {b["intent"] for b in blocks} == {intent}, path
        count = sum(e.intent == intent for e in examples)
        assert count >= (80 if intent in AFTER_SALES else 30), (intent, count)


def test_no_example_under_two_intents(examples):
    assert conflicting_intents(examples) == {}


def test_conflict_detection_sees_through_punctuation_and_emoji():
    assert conflicting_intents([Example("真人", "request_human", ()), Example("真人？🙂", "bot_challenge", ())])


def test_no_near_duplicates(examples):
    assert near_duplicates(examples) == []


def test_entities_fall_on_jieba_token_boundaries(examples):
    assert misaligned_entities(examples) == []


def test_misalignment_is_detected():
    assert misaligned_entities([Example("游戏点卡没到账", "report_not_received", ((2, 4, "product"),))])


def test_dev_split_is_not_trained_on(examples):
    assert dev_split_leaks(examples, load_examples(DEV_SPLIT)) == []


def test_every_resolution_annotation_maps_to_a_canonical_value():
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data("data/nlu")
    synonyms = {k.lower(): v for k, v in data.entity_synonyms.items()}
    canonical = {"refund", "exchange", "reship", "repair", "partial_refund"}
    unmapped = {
        e["value"]
        for m in data.intent_examples
        for e in m.get("entities") or []
        if e["entity"] == "resolution" and synonyms.get(str(e["value"]).lower(), e["value"]) not in canonical
    }
    assert unmapped == set()


def test_no_comment_hides_inside_an_examples_block(tmp_path):
    assert comments_inside_examples() == []
    (tmp_path / "x.yml").write_text("nlu:\n- intent: a\n  examples: |\n    # note\n    - hi\n", encoding="utf-8")
    assert comments_inside_examples(tmp_path) == ["x.yml:4: # note"]


def test_the_trained_model_never_saw_the_dev_split(trained_model):
    """What Rasa really trained on, read back from the model's CRF dataset (one entry per
    training example): none of it is a dev-split message. Guards the `rasa train --data`
    fallback that swaps a missing folder for the whole data/ directory, dev split included."""
    with tarfile.open(trained_model) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("crf_dataset.json"))
        dataset = json.load(archive.extractfile(member))
    trained_texts = {skeleton("".join(token["text"] for token in example)) for example in dataset}
    dev_texts = {skeleton(e.text) for e in load_examples(DEV_SPLIT)}
    assert len(dataset) == len(load_examples())
    assert sorted(dev_texts & trained_texts) == []
