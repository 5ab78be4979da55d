"""The load benchmark's conversations (bench/scenarios/load.yml): loaded, checked, picked at random."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

from scripts.settings import PROJECT_ROOT

DEFAULT_PATH = PROJECT_ROOT / "bench" / "scenarios" / "load.yml"


class ScenarioError(ValueError):
    """The scenario file is not what bench/load.py expects (the message says where)."""


@dataclass(frozen=True)
class Step:
    text: str  # typed, or the title part of the button to press; may hold {order} and {phone}
    press: bool = False
    photos: int = 0


@dataclass(frozen=True)
class Scenario:
    name: str
    weight: float
    steps: Tuple[Step, ...]
    order: Optional[str] = None  # the demo store's story order label ({order}, {phone})
    angry: bool = False
    hands_off: bool = False
    to_agent: Tuple[str, ...] = ()  # empty: the file's shared lines
    after_return: Tuple[str, ...] = ()

    @property
    def reaches_an_agent(self) -> bool:
        return self.angry or self.hands_off


@dataclass(frozen=True)
class AgentScript:
    greeting: str
    replies: Tuple[str, ...]
    return_note: str

    def reply(self, number: int) -> str:
        return self.replies[number % len(self.replies)]


@dataclass
class Scenarios:
    calm: List[Scenario]
    angry: List[Scenario]
    agent: AgentScript
    to_agent: Tuple[str, ...]
    after_return: Tuple[str, ...]
    photo_size: Tuple[int, int]
    source: Path = field(default=DEFAULT_PATH)

    def pick(self, rng: random.Random, angry_share: float) -> Scenario:
        group = self.angry if self.angry and rng.random() < angry_share else self.calm
        return rng.choices(group, weights=[s.weight for s in group])[0]

    def lines_to_agent(self, scenario: Scenario, agent_messages: int) -> List[str]:
        """The K lines a handed-off shopper writes to the agent (the list repeated when shorter)."""
        lines = scenario.to_agent or self.to_agent
        return [lines[i % len(lines)] for i in range(agent_messages)]

    def lines_after_return(self, scenario: Scenario) -> Tuple[str, ...]:
        return scenario.after_return or self.after_return

    def planned_messages(self, scenario: Scenario, agent_messages: int) -> int:
        """Shopper messages of one conversation going as planned (a handoff ends the bot's steps)."""
        if not scenario.reaches_an_agent:
            return len(scenario.steps)
        return len(scenario.steps) + agent_messages + len(self.lines_after_return(scenario))

    def mean_messages(self, angry_share: float, agent_messages: int) -> float:
        """Shopper messages per conversation on average: turns a message rate into a conversation rate."""
        share = angry_share if self.angry else 0.0
        return share * self._weighted_mean(self.angry, agent_messages) + (1 - share) * self._weighted_mean(
            self.calm, agent_messages)

    def _weighted_mean(self, group: Sequence[Scenario], agent_messages: int) -> float:
        if not group:
            return 0.0
        total = sum(s.weight for s in group)
        return sum(s.weight * self.planned_messages(s, agent_messages) for s in group) / total

    def order_labels(self) -> List[str]:
        return sorted({s.order for s in self.calm + self.angry if s.order})


def load_scenarios(path: Path = DEFAULT_PATH) -> Scenarios:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ScenarioError(f"{path}: {error}") from error
    scenarios = [_scenario(raw, index) for index, raw in enumerate(_list(data, "scenarios", "the file"))]
    calm = [s for s in scenarios if not s.angry]
    if not calm:
        raise ScenarioError(f"{path}: no calm scenario (every shopper would be angry)")
    photo = data.get("photo") or {}
    return Scenarios(
        calm=calm,
        angry=[s for s in scenarios if s.angry],
        agent=_agent(data.get("agent") or {}),
        to_agent=_texts(data, "to_agent", "the file"),
        after_return=tuple(data.get("after_return") or ()),
        photo_size=(int(photo.get("width", 1280)), int(photo.get("height", 960))),
        source=path,
    )


def _scenario(raw: Dict[str, Any], index: int) -> Scenario:
    where = f"scenario {raw.get('name') or index + 1}"
    if not raw.get("name"):
        raise ScenarioError(f"{where}: a name is required")
    weight = float(raw.get("weight", 1))
    if weight <= 0:
        raise ScenarioError(f"{where}: weight must be above 0")
    return Scenario(
        name=raw["name"], weight=weight, steps=tuple(_step(step, where) for step in _list(raw, "steps", where)),
        order=raw.get("order"), angry=bool(raw.get("angry")), hands_off=bool(raw.get("hands_off")),
        to_agent=tuple(raw.get("to_agent") or ()), after_return=tuple(raw.get("after_return") or ()),
    )


def _step(raw: Dict[str, Any], where: str) -> Step:
    if not isinstance(raw, dict) or ("say" in raw) == ("press" in raw):
        raise ScenarioError(f"{where}: each step is either `say: …` or `press: …`, got {raw!r}")
    if "press" in raw:
        return Step(str(raw["press"]), press=True)
    return Step(str(raw["say"]), photos=int(raw.get("photos", 0)))


def _agent(raw: Dict[str, Any]) -> AgentScript:
    replies = _texts(raw, "replies", "agent")
    if not raw.get("greeting"):
        raise ScenarioError("agent: a greeting is required")
    return AgentScript(greeting=raw["greeting"], replies=replies, return_note=str(raw.get("return_note", "")))


def _list(data: Dict[str, Any], key: str, where: str) -> List[Any]:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise ScenarioError(f"{where}: `{key}` must be a non-empty list")
    return value


def _texts(data: Dict[str, Any], key: str, where: str) -> Tuple[str, ...]:
    return tuple(str(text) for text in _list(data, key, where))
