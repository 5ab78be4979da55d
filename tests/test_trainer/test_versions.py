"""Comparing a candidate with the live model, and the record of versions (pure; no model needed)."""

from __future__ import annotations

import pytest

from trainer.versions import compare, model_path_of, read_versions, record_live, record_version


def summary(model: str, macro: float, anger: float, **per_intent: float) -> dict:
    return {"model": model, "macro_f1": macro, "anger_f1": anger, "per_intent_f1": per_intent}


def test_a_better_candidate_may_go_live_and_shows_each_intent_before_and_after():
    result = compare(summary("old", 0.95, 0.95, greet=1.0, inform=0.90), summary("new", 0.96, 0.95, greet=1.0, inform=0.93))
    assert result.may_go_live and result.regressions == []
    assert result.per_intent == {"greet": [1.0, 1.0], "inform": [0.90, 0.93]}


@pytest.mark.parametrize(
    "after, says",
    [
        (summary("new", 0.93, 0.95, greet=1.0, inform=0.90), "macro-F1"),
        (summary("new", 0.95, 0.90, greet=1.0, inform=0.90), "情绪识别"),
        (summary("new", 0.95, 0.95, greet=0.94, inform=0.90), "意图 greet"),
    ],
)
def test_a_regression_beyond_the_tolerance_keeps_the_candidate_off(after, says):
    result = compare(summary("old", 0.95, 0.95, greet=1.0, inform=0.90), after)
    assert not result.may_go_live and says in "；".join(result.regressions)


def test_within_the_tolerance_is_not_a_regression():
    result = compare(summary("old", 0.95, 0.95, greet=1.0), summary("new", 0.945, 0.945, greet=0.96))
    assert result.may_go_live


def test_versions_are_recorded_once_and_the_live_one_with_its_history(tmp_path):
    assert read_versions(tmp_path) == {"live": None, "versions": [], "history": []}
    first = tmp_path / "elsewhere" / "shouhou-first.tar.gz"
    first.parent.mkdir()
    first.write_bytes(b"model")
    model = tmp_path / "shouhou-abc.tar.gz"
    model.write_bytes(b"model")
    record_version(tmp_path, first, {"macro_f1": 0.95}, serving=True)  # served before any retraining
    record_version(tmp_path, model, {"macro_f1": 0.9})
    record_version(tmp_path, model, {"macro_f1": 0.9})
    record_live(tmp_path, "shouhou-abc.tar.gz", "trainer.zhao")
    versions = read_versions(tmp_path)
    assert [v["model"] for v in versions["versions"]] == ["shouhou-first.tar.gz", "shouhou-abc.tar.gz"]
    assert [h["model"] for h in versions["history"]] == ["shouhou-first.tar.gz", "shouhou-abc.tar.gz"]
    assert versions["live"] == "shouhou-abc.tar.gz" and versions["history"][1]["by"] == "trainer.zhao"
    assert model_path_of(tmp_path, "shouhou-first.tar.gz") == first, "the way back to the first model"


def test_an_intent_with_few_dev_messages_may_lose_one_of_them():
    before = {**summary("old", 0.96, 0.95, affirm=0.857, report_broken=0.98), "per_intent_support": {"affirm": 7, "report_broken": 60}}
    noisy = summary("new", 0.957, 0.95, affirm=0.769, report_broken=0.98)  # one affirm message of 7 flipped
    assert compare(before, noisy).may_go_live
    worse = summary("new", 0.957, 0.95, affirm=0.857, report_broken=0.90)  # a big intent losing 5 of 60
    assert not compare(before, worse).may_go_live
