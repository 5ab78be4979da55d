"""The kept-order graph runner gives the trained model's parses and predictions exactly as dask
runs them, with Rasa's errors."""

from __future__ import annotations

import asyncio
from typing import Any, List, Tuple

import pytest
from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot import graph_runner
from tests.test_bot.stories import story_trackers

DASK_RUN = DaskGraphRunner.run
MESSAGES = [
    "奶粉打开全是结块，想退款", "买的L码发来的是M码", "退货运费谁出", "13912870456", "对", "谢谢",
    "等了三天都没人回！！！", "订单号 SH20261101001", "那件白色的不要了", "😡😡 投诉", "", "a" * 300,
]


@pytest.fixture(scope="module")
def agent(nlu):
    return nlu._agent


def parse_all(agent, texts: List[str]) -> List[Any]:
    loop = asyncio.new_event_loop()
    try:
        return [loop.run_until_complete(agent.parse_message(text)) for text in texts]
    finally:
        loop.close()


def test_parses_are_dasks(agent, monkeypatch):
    expected = parse_all(agent, MESSAGES)
    monkeypatch.setattr(DaskGraphRunner, "run", graph_runner.run)
    assert parse_all(agent, MESSAGES) == expected
    assert parse_all(agent, MESSAGES) == expected  # and again, from the kept steps


@pytest.fixture(scope="module")
def story_prefixes(agent) -> List[Tuple[str, List[Event]]]:
    """The test stories' events up to each action (generated once: the generator's order varies)."""
    generated = story_trackers(agent.processor.domain, with_rules=False)
    prefixes = []
    for number, story in enumerate(generated[:20]):
        events = list(story.events)
        for end in [i for i, e in enumerate(events) if isinstance(e, ActionExecuted)]:
            prefixes.append((f"story-{number}-{end}", events[:end]))
    return prefixes


def fresh_trackers(domain: Domain, prefixes: List[Tuple[str, List[Event]]]) -> List[DialogueStateTracker]:
    """New trackers each time: a prediction clears the tracker's follow-up action."""
    return [DialogueStateTracker.from_events(sender, events, domain.slots) for sender, events in prefixes]


def prediction(agent, tracker: DialogueStateTracker) -> Any:
    result: PolicyPrediction = agent.processor._predict_next_with_tracker(tracker)
    return result.probabilities, result.policy_name, result.events, result.is_end_to_end_prediction, result.action_metadata


def test_predictions_are_dasks(agent, story_prefixes, monkeypatch):
    domain = agent.processor.domain
    assert len(story_prefixes) > 50
    expected = [prediction(agent, tracker) for tracker in fresh_trackers(domain, story_prefixes)]
    monkeypatch.setattr(DaskGraphRunner, "run", graph_runner.run)
    assert [prediction(agent, tracker) for tracker in fresh_trackers(domain, story_prefixes)] == expected


def test_an_input_named_like_a_node_is_refused_as_rasa_refuses_it(agent):
    runner = agent.processor.graph_runner
    node = next(iter(runner._instantiated_nodes))
    with pytest.raises(GraphRunError, match="clashes with a node name"):
        graph_runner.run(runner, inputs={"__message__": node}, targets=[agent.processor.model_metadata.nlu_target])
