"""Model versions: each trained model's report on the dev split, the comparison of a candidate
with the live model, and the record of which version is live (models/versions.json).

A report is evaluated once per model and kept next to Rasa's own files in
<models dir>/reports/<model>/ (intent_report.json, intent_confusion_matrix.png, intent_histogram.png from
`rasa test nlu`, and summary.json with our figures: per-intent F1, accuracy, macro-F1, anger F1).
The candidate goes live only when it does not regress beyond the tolerance: macro-F1 and anger F1
may not drop by more than `tolerance`, no intent's F1 by more than `intent_tolerance` or, for an
intent with few dev messages, what one and a half of them weigh (settings RETRAIN_TOLERANCE and
RETRAIN_INTENT_TOLERANCE of the handoff service).
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot.anger_data import load_examples as load_anger_examples
from scripts import rasa_cli
from scripts.model_parser import ModelParser
from scripts.nlu_metrics import anger_metrics
from scripts.settings import PROJECT_ROOT

MODELS_DIR = PROJECT_ROOT / "models"
TOLERANCE = 0.01
INTENT_TOLERANCE = 0.05


class EvaluationFailed(RuntimeError):
    pass


def report_dir(models_dir: Path, model_name: str) -> Path:
    return models_dir / "reports" / model_name.removesuffix(".tar.gz")


def versions_file(models_dir: Path) -> Path:
    return models_dir / "versions.json"


def evaluate(model: Path) -> Dict:
    """The model's figures on the dev split (evaluated once, then read from its summary.json in
    the reports folder beside it)."""
    out = report_dir(model.parent, model.name)
    summary_file = out / "summary.json"
    if summary_file.exists():
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        if "per_intent_support" not in summary:  # written before supports were kept
            report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
            summary["per_intent_support"] = {intent: figures["support"] for intent, figures in _intents(report)}
        return summary
    out.mkdir(parents=True, exist_ok=True)
    command = [rasa_cli.executable(), "test", "nlu", "--model", str(model), "--nlu", rasa_cli.DEV_SPLIT, "--out", str(out)]
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=rasa_cli.environment(), capture_output=True, text=True)
    if result.returncode != 0:
        raise EvaluationFailed(f"rasa test nlu failed for {model.name}: {result.stderr[-2000:]}")
    intent_report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    parser = ModelParser(model)
    try:
        anger = anger_metrics(load_anger_examples(PROJECT_ROOT / rasa_cli.DEV_SPLIT_ANGER), parser.parse)
    finally:
        parser.close()
    summary = {
        "model": model.name,
        "evaluated_at": time.time(),
        "accuracy": intent_report["accuracy"],
        "macro_f1": intent_report["macro avg"]["f1-score"],
        "anger_f1": anger["anger_f1"],
        "per_intent_f1": {intent: figures["f1-score"] for intent, figures in _intents(intent_report)},
        "per_intent_support": {intent: figures["support"] for intent, figures in _intents(intent_report)},
    }
    summary_file.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary


def _intents(intent_report: Dict) -> List:
    return [
        (intent, figures) for intent, figures in intent_report.items()
        if isinstance(figures, dict) and intent not in ("macro avg", "weighted avg", "micro avg")
    ]


def allowed_drop(intent_tolerance: float, support: Optional[int]) -> float:
    """How much an intent's F1 may drop: the tolerance, or what about one and a half of its dev
    messages weigh when it has few (one message of an intent with 7 moves its F1 by ~0.1: noise of
    retraining, not a regression)."""
    return max(intent_tolerance, 1.5 / support) if support else intent_tolerance


@dataclass
class Comparison:
    before: str  # model names
    after: str
    macro_f1: List[float]  # [before, after]
    anger_f1: List[float]
    per_intent: Dict[str, List[Optional[float]]]  # intent -> [before, after]
    regressions: List[str] = field(default_factory=list)  # why it may not go live, in Chinese

    @property
    def may_go_live(self) -> bool:
        return not self.regressions

    def to_dict(self) -> Dict:
        return {**asdict(self), "may_go_live": self.may_go_live}


def compare(before: Dict, after: Dict, tolerance: float = TOLERANCE, intent_tolerance: float = INTENT_TOLERANCE) -> Comparison:
    intents = sorted(set(before["per_intent_f1"]) | set(after["per_intent_f1"]))
    comparison = Comparison(
        before=before["model"],
        after=after["model"],
        macro_f1=[before["macro_f1"], after["macro_f1"]],
        anger_f1=[before["anger_f1"], after["anger_f1"]],
        per_intent={i: [before["per_intent_f1"].get(i), after["per_intent_f1"].get(i)] for i in intents},
    )
    if after["macro_f1"] < before["macro_f1"] - tolerance:
        comparison.regressions.append(f"整体 macro-F1 从 {before['macro_f1']:.3f} 降到 {after['macro_f1']:.3f}")
    if after["anger_f1"] < before["anger_f1"] - tolerance:
        comparison.regressions.append(f"情绪识别 F1 从 {before['anger_f1']:.3f} 降到 {after['anger_f1']:.3f}")
    support = before.get("per_intent_support") or {}
    for intent, (old, new) in comparison.per_intent.items():
        if old is not None and new is not None and new < old - allowed_drop(intent_tolerance, support.get(intent)):
            comparison.regressions.append(f"意图 {intent} 的 F1 从 {old:.3f} 降到 {new:.3f}")
    return comparison


def read_versions(models_dir: Path = MODELS_DIR) -> Dict:
    path = versions_file(models_dir)
    if not path.exists():
        return {"live": None, "versions": [], "history": []}
    return json.loads(path.read_text(encoding="utf-8"))


def record_version(models_dir: Path, model: Path, summary: Dict, serving: bool = False) -> Dict:
    """Add a model (with where it is) to the list (once). `serving`: it is the model Rasa serves
    now, never recorded before: it enters the history too, so there is always a way back to it."""
    versions = read_versions(models_dir)
    if not any(v["model"] == model.name for v in versions["versions"]):
        versions["versions"].append(
            {"model": model.name, "path": str(model), "trained_at": model.stat().st_mtime, "summary": summary}
        )
    if serving and not versions["history"]:
        versions["live"] = model.name
        versions["history"].append({"model": model.name, "by": "—", "at": time.time()})
    _write(versions, versions_file(models_dir))
    return versions


def model_path_of(models_dir: Path, model_name: str) -> Optional[Path]:
    """Where a recorded version is (it may live outside the folder: the model served at first)."""
    for version in read_versions(models_dir)["versions"]:
        if version["model"] == model_name and version.get("path"):
            return Path(version["path"])
    return None


def record_live(models_dir: Path, model_name: str, by: str) -> Dict:
    versions = read_versions(models_dir)
    versions["live"] = model_name
    versions["history"].append({"model": model_name, "by": by, "at": time.time()})
    _write(versions, versions_file(models_dir))
    return versions


def _write(versions: Dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(versions, ensure_ascii=False, indent=2), encoding="utf-8")
    temporary.replace(path)
