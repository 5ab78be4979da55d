"""Evaluation a trainer can run (`make eval`).

1. `rasa data validate` on the training data and domain;
2. Rasa's NLU cross-validation on the training data (reports/crossval/);
3. `rasa test nlu` of the current model on the dev split (reports/dev/: intent
   report, confusion matrix image, errors);
4. our figures on the dev split: intent accuracy, macro-F1, confidently wrong,
   entity F1, anger precision/recall/F1 (reports/summary.json);
then a one-screen summary.

    python -m scripts.evaluate [--folds 3] [--skip-crossval] [--validate-only]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

from bot.anger_data import load_examples as load_anger_examples
from bot.fingerprint import model_path
from scripts import rasa_cli
from scripts.model_parser import ModelParser
from scripts.nlu_metrics import anger_metrics, entity_stress_metrics, load_dev_split, nlu_metrics
from scripts.settings import PROJECT_ROOT

REPORTS = PROJECT_ROOT / "reports"
TARGETS = {
    "intent_accuracy": (">=", 0.92),
    "intent_macro_f1": (">=", 0.90),
    "anger_f1": (">=", 0.85),
    "order_id_f1": (">=", 0.95),
    "phone_f1": (">=", 0.95),
    "confidently_wrong": ("<=", 0.03),
}


def run_rasa(arguments: List[str]) -> None:
    command = [rasa_cli.executable(), *arguments]
    print("$ rasa " + " ".join(arguments), flush=True)
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=rasa_cli.environment(), capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n", file=sys.stderr)
        raise SystemExit(f"error: rasa {arguments[0]} failed (exit {result.returncode})")


def validate() -> None:
    run_rasa(["data", "validate", "--data", *rasa_cli.training_data(), "--domain", "domain.yml", "--config", "config.yml"])


def cross_validate(folds: int) -> Dict:
    out = REPORTS / "crossval"
    run_rasa(["test", "nlu", "--nlu", rasa_cli.NLU_DATA, "--config", "config.yml", "--cross-validation",
              "--folds", str(folds), "--out", str(out)])
    report = json.loads((out / "intent_report.json").read_text())
    return {"crossval_intent_accuracy": report["accuracy"], "crossval_intent_macro_f1": report["macro avg"]["f1-score"]}


def rasa_dev_report(model: Path) -> None:
    run_rasa(["test", "nlu", "--model", str(model), "--nlu", rasa_cli.DEV_SPLIT, "--out", str(REPORTS / "dev")])


def our_figures(model: Path) -> Dict:
    parser = ModelParser(model)
    messages = load_dev_split(PROJECT_ROOT)
    figures, errors = nlu_metrics(messages, parser.parse)
    figures.update(anger_metrics(load_anger_examples(PROJECT_ROOT / rasa_cli.DEV_SPLIT_ANGER), parser.parse))
    figures.update(entity_stress_metrics(PROJECT_ROOT, parser.parse))
    parser.close()
    (REPORTS / "dev_errors.json").write_text(json.dumps(errors, ensure_ascii=False, indent=2), encoding="utf-8")
    figures["dev_messages"] = len(messages)
    return figures


def summary(figures: Dict) -> str:
    lines = [f"Dev split ({figures['dev_messages']} messages, data/eval/) with {figures['model']}", ""]
    for name, (relation, target) in TARGETS.items():
        value = figures[name]
        met = value >= target if relation == ">=" else value <= target
        lines.append(f"  {name:<22} {value:6.3f}   target {relation} {target:<5}  {'ok' if met else 'MISSED'}")
    for name in ("fallback_rate", "product_f1", "resolution_f1", "anger_precision", "anger_recall",
                 "stress_order_id_f1", "stress_phone_f1"):
        lines.append(f"  {name:<22} {figures[name]:6.3f}")
    if "crossval_intent_accuracy" in figures:
        lines.append(f"  cross-validation       accuracy {figures['crossval_intent_accuracy']:.3f}, "
                     f"macro-F1 {figures['crossval_intent_macro_f1']:.3f}")
    lines += ["", "Reports: reports/dev/ (Rasa: intent_report.json, intent_confusion_matrix.png, intent_errors.json),",
              "         reports/crossval/, reports/dev_errors.json, reports/summary.json"]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--skip-crossval", action="store_true")
    parser.add_argument("--validate-only", action="store_true")
    args = parser.parse_args()
    validate()
    if args.validate_only:
        return 0
    REPORTS.mkdir(exist_ok=True)
    model = model_path()
    if not model.exists():
        raise SystemExit("error: no model for the current data; run `make train`")
    figures: Dict = {"model": model.name}
    if not args.skip_crossval:
        figures.update(cross_validate(args.folds))
    rasa_dev_report(model)
    figures.update(our_figures(model))
    (REPORTS / "summary.json").write_text(json.dumps(figures, indent=2))
    print(summary(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
