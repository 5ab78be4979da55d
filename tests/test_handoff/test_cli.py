"""`python -m handoff.cli` as an operator runs it (a subprocess on the tests' Redis database)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator, Optional

import pytest
import redis
from redis.asyncio import Redis

from handoff import cli, redis_keys
from handoff.agents import Agent, AgentStore, Role
from handoff.settings import get_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"


def run_cli(redis_url: str, *args: str, password: Optional[str] = PASSWORD) -> subprocess.CompletedProcess:
    env = {**os.environ, "REDIS_URL": redis_url, "ENV": "dev"}
    env.pop("AGENT_PASSWORD", None)
    if password is not None:
        env["AGENT_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "handoff.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_create_agent_makes_an_account_that_signs_in(redis_url: str, redis: Redis) -> None:
    done = run_cli(redis_url, "create-agent", "kefu.wang", "--name", "客服小王")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "created agent kefu.wang (客服小王)\n"
    assert PASSWORD not in done.stdout + done.stderr
    assert await AgentStore(redis).authenticate("kefu.wang", PASSWORD) == Agent(
        agent_id="kefu.wang", display_name="客服小王", role=Role.agent
    )


async def test_create_agent_makes_a_supervisor(redis_url: str, redis: Redis) -> None:
    done = run_cli(redis_url, "create-agent", "kefu.li", "--name", "主管小李", "--role", "supervisor")
    assert done.returncode == 0, done.stderr
    assert (await AgentStore(redis).get("kefu.li")).role == Role.supervisor


async def test_a_short_password_exits_2_and_creates_nothing(redis_url: str, redis: Redis) -> None:
    done = run_cli(redis_url, "create-agent", "kefu.wang", "--name", "客服小王", password="short")
    assert done.returncode == 2
    assert "error: password too short: at least 10 characters" in done.stderr
    assert await redis.dbsize() == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["create-agent", "Kefu Wang", "--name", "客服小王"], "bad agent id"),
        (["create-agent", "kefu.wang", "--name", ""], "bad display name"),
        (["set-password", "kefu.nobody"], "no agent 'kefu.nobody'"),
    ],
)
def test_bad_input_exits_2_with_the_reason(redis_url: str, redis_client: redis.Redis, args: list, message: str) -> None:
    done = run_cli(redis_url, *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert redis_client.dbsize() == 0


async def test_an_existing_id_exits_2_and_keeps_the_account(redis_url: str, redis: Redis) -> None:
    assert run_cli(redis_url, "create-agent", "kefu.wang", "--name", "客服小王").returncode == 0
    again = run_cli(redis_url, "create-agent", "kefu.wang", "--name", "冒名顶替", password="another-password")
    assert again.returncode == 2
    assert "agent 'kefu.wang' already exists" in again.stderr
    assert (await AgentStore(redis).authenticate("kefu.wang", PASSWORD)).display_name == "客服小王"


async def test_set_password_and_list_agents(redis_url: str, redis: Redis) -> None:
    run_cli(redis_url, "create-agent", "kefu.wang", "--name", "客服小王")
    run_cli(redis_url, "create-agent", "kefu.li", "--name", "主管小李", "--role", "supervisor")

    changed = run_cli(redis_url, "set-password", "kefu.wang", password="a-brand-new-password")
    assert (changed.returncode, changed.stdout) == (0, "password of kefu.wang changed\n")
    store = AgentStore(redis)
    assert await store.authenticate("kefu.wang", PASSWORD) is None
    assert await store.authenticate("kefu.wang", "a-brand-new-password") is not None

    listed = run_cli(redis_url, "list-agents", password=None)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == "kefu.li\tsupervisor\t主管小李\nkefu.wang\tagent\t客服小王\n2 agent(s)\n"


def test_an_unknown_command_is_a_usage_error(redis_url: str) -> None:
    done = run_cli(redis_url, "drop-everything")
    assert done.returncode == 2 and "invalid choice" in done.stderr


# In-process: the password typed twice (a subprocess could not be given a terminal).


@pytest.fixture()
def settings_on_test_db(redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ENV", "dev")
    monkeypatch.delenv("AGENT_PASSWORD", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def typed(monkeypatch: pytest.MonkeyPatch, *answers: str) -> list:
    prompts: list = []
    replies = iter(answers)

    def fake_getpass(prompt: str = "Password: ") -> str:
        prompts.append(prompt)
        return next(replies)

    monkeypatch.setattr(cli.getpass, "getpass", fake_getpass)
    return prompts


def test_the_password_is_asked_twice_when_not_in_the_environment(
    settings_on_test_db: None, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    prompts = typed(monkeypatch, PASSWORD, PASSWORD)
    assert cli.main(["create-agent", "kefu.wang", "--name", "客服小王"]) == 0
    assert prompts == ["Password: ", "Password again: "]
    assert "created agent kefu.wang" in capsys.readouterr().out
    assert redis_client.sismember(redis_keys.AGENTS, "kefu.wang")


def test_two_different_passwords_exit_2(
    settings_on_test_db: None, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    typed(monkeypatch, PASSWORD, PASSWORD + "!")
    assert cli.main(["create-agent", "kefu.wang", "--name", "客服小王"]) == 2
    assert "error: the two passwords differ" in capsys.readouterr().err
    assert redis_client.dbsize() == 0


def test_redis_down_exits_1(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("ENV", "dev")
    get_settings.cache_clear()
    try:
        assert cli.main(["list-agents"]) == 1
    finally:
        get_settings.cache_clear()
    assert "cannot reach Redis" in capsys.readouterr().err
