"""Agent accounts of the console, and the personal-data purge, from the command line (uses
REDIS_URL and the other settings).

    python -m handoff.cli create-agent kefu.wang --name 客服小王 [--role supervisor|trainer]
    python -m handoff.cli set-password kefu.wang
    python -m handoff.cli list-agents
    python -m handoff.cli purge [--older-than DAYS | --conversation ID] [--dry-run]

The password is read from the AGENT_PASSWORD environment variable if set, otherwise asked twice
(never a command-line argument: those end up in the shell history and the process list).
`purge` removes personal data older than the retention settings (or DAYS), or erases one
conversation completely; it prints what it removed per kind (handoff/retention.py).
Exit status: 0 done, 2 bad input (bad id or name, short password, id taken or unknown, days below 1,
a conversation nothing is stored about), 1 Redis down.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from typing import Awaitable, Callable, List, Optional

import redis
from redis.asyncio import Redis
from redis.exceptions import RedisError

from handoff.agents import AgentError, AgentStore, Role, check_agent_id, check_display_name
from handoff.retention import PurgeError, check_days, erase_conversation, purge_older_than
from handoff.settings import get_settings

PASSWORD_ENV = "AGENT_PASSWORD"
EXIT_BAD_INPUT = 2
EXIT_UNAVAILABLE = 1


class BadInput(Exception):
    """Refused before touching Redis (e.g. the two passwords typed differ)."""


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "purge":
            return _purge(args)
        return asyncio.run(_with_store(args.handler, args))
    except (AgentError, BadInput, PurgeError) as error:
        sys.stderr.write(f"error: {error}\n")
        return EXIT_BAD_INPUT
    except (RedisError, OSError) as error:
        sys.stderr.write(f"error: cannot reach Redis: {error}\n")
        return EXIT_UNAVAILABLE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m handoff.cli", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-agent", help="create an agent account")
    create.add_argument("agent_id", help="the username: 3 to 32 of a-z 0-9 _ . -")
    create.add_argument("--name", required=True, help="display name shown to shoppers, e.g. 客服小王")
    create.add_argument("--role", choices=[role.value for role in Role], default=Role.agent.value)
    create.set_defaults(handler=_create_agent)
    set_password = commands.add_parser("set-password", help="change an agent's password")
    set_password.add_argument("agent_id")
    set_password.set_defaults(handler=_set_password)
    commands.add_parser("list-agents", help="list the agent accounts").set_defaults(handler=_list_agents)
    _add_purge(commands)
    return parser


def _add_purge(commands: argparse._SubParsersAction) -> None:
    purge = commands.add_parser("purge", help="remove personal data older than the retention, or one conversation's")
    which = purge.add_mutually_exclusive_group()
    which.add_argument("--older-than", type=_days, metavar="DAYS",
                       help="instead of the retention settings (TRACKER_RETENTION_SECONDS, INBOX_RETENTION_SECONDS)")
    which.add_argument("--conversation", metavar="ID", help="erase this conversation completely, whatever its age")
    purge.add_argument("--dry-run", action="store_true", help="count what would be removed, remove nothing")


def _days(value: str) -> int:
    try:
        return check_days(int(value))
    except (ValueError, PurgeError) as error:
        message = str(error) if isinstance(error, PurgeError) else f"not a whole number of days: {value!r}"
        raise argparse.ArgumentTypeError(message) from None


def _purge(args: argparse.Namespace) -> int:
    settings = get_settings()
    client = redis.Redis.from_url(settings.redis_url)
    try:
        if args.conversation is not None:
            report = erase_conversation(client, settings, args.conversation, dry_run=args.dry_run)
        else:
            report = purge_older_than(client, settings, args.older_than, dry_run=args.dry_run)
    finally:
        client.close()
    for line in report.lines():
        _say(line)
    return 0


Handler = Callable[[AgentStore, argparse.Namespace], Awaitable[int]]


async def _with_store(handler: Handler, args: argparse.Namespace) -> int:
    client = Redis.from_url(get_settings().redis_url)
    try:
        return await handler(AgentStore(client), args)
    finally:
        await client.close()


async def _create_agent(store: AgentStore, args: argparse.Namespace) -> int:
    agent_id, name = check_agent_id(args.agent_id), check_display_name(args.name)
    if await store.get(agent_id) is not None:
        raise AgentError(f"agent {agent_id!r} already exists", "该账号已存在")
    agent = await store.create(agent_id, name, _read_password(), Role(args.role))
    _say(f"created {agent.role.value} {agent.agent_id} ({agent.display_name})")
    return 0


async def _set_password(store: AgentStore, args: argparse.Namespace) -> int:
    agent_id = check_agent_id(args.agent_id)
    if await store.get(agent_id) is None:
        raise AgentError(f"no agent {agent_id!r}", "账号不存在")
    await store.set_password(agent_id, _read_password())
    _say(f"password of {agent_id} changed")
    return 0


async def _list_agents(store: AgentStore, args: argparse.Namespace) -> int:
    agents = await store.list()
    for agent in agents:
        _say(f"{agent.agent_id}\t{agent.role.value}\t{agent.display_name}")
    _say(f"{len(agents)} agent(s)")
    return 0


def _read_password() -> str:
    """From AGENT_PASSWORD, else typed twice without echo."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env is not None:
        return from_env
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        raise BadInput("the two passwords differ")
    return password


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


if __name__ == "__main__":
    sys.exit(main())
