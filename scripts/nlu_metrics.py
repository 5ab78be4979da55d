"""The figures the team judges the NLU by, computed from real parse results.

- intent accuracy and macro-F1 (a message sent to nlu_fallback counts as wrong);
- confidently wrong: the share of messages whose predicted intent is a wrong
  real intent (not nlu_fallback), i.e. the bot would act on a misunderstanding;
- entity F1 per type on (type, value) pairs; `resolution` values are compared after
  mapping the annotated surface form through data/nlu/synonyms.yml;
- anger precision, recall and F1 against labelled angry/calm messages.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

from rasa.shared.nlu.training_data.loading import load_data

from bot.anger_data import AngerExample
from scripts import rasa_cli

FALLBACK_INTENT = "nlu_fallback"
ENTITY_TYPES = ("order_id", "phone", "product", "resolution")
Parse = Callable[[str], Dict]


@dataclass(frozen=True)
class LabelledMessage:
    text: str
    intent: str
    entities: Tuple[Tuple[str, str], ...]


def synonym_map(nlu_dir: Path) -> Dict[str, str]:
    return {k.lower(): v for k, v in load_data(str(nlu_dir)).entity_synonyms.items()}


def load_labelled(path: Path, synonyms: Dict[str, str]) -> List[LabelledMessage]:
    messages = []
    for example in load_data(str(path)).intent_examples:
        entities = tuple(
            (e["entity"], synonyms.get(str(e["value"]).lower(), str(e["value"])))
            for e in example.get("entities") or []
        )
        messages.append(LabelledMessage(example.get("text"), example.get("intent"), entities))
    return messages


def load_dev_split(root: Path) -> List[LabelledMessage]:
    """The dev split (data/eval/nlu.yml), resolution values mapped through the training synonyms."""
    return load_labelled(root / rasa_cli.DEV_SPLIT, synonym_map(root / rasa_cli.NLU_DATA))


def entity_stress_metrics(root: Path, parse: Parse) -> Dict[str, float]:
    """Order-number and phone F1 on data/eval/entity_stress.yml (numbers in unusual contexts)."""
    messages = load_labelled(root / rasa_cli.ENTITY_STRESS, {})
    predicted = [[(e["entity"], str(e["value"])) for e in parse(m.text).get("entities", [])] for m in messages]
    figures = entity_metrics([m.entities for m in messages], predicted)
    return {f"stress_{name}_f1": figures[f"{name}_f1"] for name in ("order_id", "phone")}


def _f1(true_positive: int, false_positive: int, false_negative: int) -> Dict[str, float]:
    precision = true_positive / (true_positive + false_positive) if true_positive + false_positive else 0.0
    recall = true_positive / (true_positive + false_negative) if true_positive + false_negative else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def intent_metrics(gold: Sequence[str], predicted: Sequence[str]) -> Dict[str, float]:
    labels = sorted(set(gold))
    per_intent = []
    for label in labels:
        tp = sum(g == p == label for g, p in zip(gold, predicted, strict=False))
        fp = sum(p == label and g != label for g, p in zip(gold, predicted, strict=False))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=False))
        per_intent.append(_f1(tp, fp, fn)["f1"])
    total = len(gold) or 1
    return {
        "intent_accuracy": sum(g == p for g, p in zip(gold, predicted, strict=False)) / total,
        "intent_macro_f1": sum(per_intent) / len(per_intent) if per_intent else 0.0,
        "fallback_rate": sum(p == FALLBACK_INTENT for p in predicted) / total,
        "confidently_wrong": sum(p != g and p != FALLBACK_INTENT for g, p in zip(gold, predicted, strict=False)) / total,
    }


def entity_metrics(gold: Sequence[Sequence[Tuple[str, str]]], predicted: Sequence[Sequence[Tuple[str, str]]]) -> Dict[str, float]:
    figures = {}
    for entity_type in ENTITY_TYPES:
        tp = fp = fn = 0
        for gold_entities, predicted_entities in zip(gold, predicted, strict=False):
            g = Counter(v for t, v in gold_entities if t == entity_type)
            p = Counter(v for t, v in predicted_entities if t == entity_type)
            tp += sum((g & p).values())
            fp += sum((p - g).values())
            fn += sum((g - p).values())
        figures[f"{entity_type}_f1"] = _f1(tp, fp, fn)["f1"]
    return figures


def anger_metrics(examples: Sequence[AngerExample], parse: Parse) -> Dict[str, float]:
    predicted = [bool(parse(e.text).get("anger", {}).get("angry")) for e in examples]
    tp = sum(p and e.angry for p, e in zip(predicted, examples, strict=False))
    fp = sum(p and not e.angry for p, e in zip(predicted, examples, strict=False))
    fn = sum(not p and e.angry for p, e in zip(predicted, examples, strict=False))
    return {f"anger_{k}": v for k, v in _f1(tp, fp, fn).items()}


def nlu_metrics(messages: Sequence[LabelledMessage], parse: Parse) -> Tuple[Dict[str, float], List[Dict]]:
    """Figures over `messages`, and the list of misclassified ones."""
    results = [parse(m.text) for m in messages]
    predicted_intents = [r["intent"]["name"] for r in results]
    predicted_entities = [[(e["entity"], str(e["value"])) for e in r.get("entities", [])] for r in results]
    figures = intent_metrics([m.intent for m in messages], predicted_intents)
    figures.update(entity_metrics([m.entities for m in messages], predicted_entities))
    errors = [
        {"text": m.text, "intent": m.intent, "predicted": p, "confidence": round(r["intent"]["confidence"], 3)}
        for m, p, r in zip(messages, predicted_intents, results, strict=False)
        if p != m.intent
    ]
    return figures, errors
