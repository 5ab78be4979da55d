"""Run the assistant locally: Redis, the handoff service, the action server and the Rasa server.

    python -m scripts.run                  # everything; prints how to talk to it (make run)
    python -m scripts.run --shell          # action server + `rasa shell` (make shell)
    python -m scripts.run --redis-only -- CMD ...   # a Redis for CMD, e.g. pytest (make test)

Redis is the one in REDIS_URL, or an embedded one under var/redis when none is set.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from typing import Dict, List, Optional
from urllib.parse import urlparse

import httpx

from bot.fingerprint import model_path
from handoff.settings import get_settings as handoff_settings
from scripts import rasa_cli
from scripts.demo_accounts import DEMO_AGENTS, DEMO_SHOPPER, demo_chat_link, ensure_demo_agents
from scripts.embedded_redis import ensure_embedded_redis, is_up
from scripts.settings import PROJECT_ROOT, RunSettings

STARTUP_TIMEOUT_SECONDS = 180


def resolve_redis_url(settings: RunSettings) -> str:
    if settings.redis_url:
        if not is_up(settings.redis_url, timeout=2.0):
            sys.exit(f"error: REDIS_URL={settings.redis_url} does not answer PING; start that Redis or unset REDIS_URL")
        return settings.redis_url
    return ensure_embedded_redis(settings.embedded_redis_port, settings.var_dir / "redis")


def rasa_token(settings: RunSettings) -> str:
    if settings.rasa_token:
        return settings.rasa_token.get_secret_value()
    token_file = settings.var_dir / "rasa_token"
    if not token_file.exists():
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        token_file.write_text(secrets.token_urlsafe(24))
        token_file.chmod(0o600)
    return token_file.read_text().strip()


def endpoint_environment(redis_url: str, settings: RunSettings) -> Dict[str, str]:
    """The ${VARS} that endpoints.yml expands."""
    parsed = urlparse(redis_url)
    return {
        "REDIS_URL": redis_url,
        "REDIS_HOST": parsed.hostname or "127.0.0.1",
        "REDIS_PORT": str(parsed.port or 6379),
        "REDIS_DB": (parsed.path or "/0").lstrip("/") or "0",
        "REDIS_PASSWORD": parsed.password or "",
        "TRACKER_RETENTION_SECONDS": str(settings.tracker_retention_seconds),
        "ACTION_SERVER_URL": settings.action_server_url,
        "HANDOFF_URL": settings.handoff_url,
        "RASA_URL": settings.rasa_url,  # where the handoff service's gateway finds Rasa
        "TICKET_LOCK_LIFETIME": str(settings.rasa_ticket_lock_seconds),
        "SANIC_HOST": settings.action_host,  # rasa-sdk binds 0.0.0.0 unless told
        # One worker per Rasa (and action) process: scale by processes behind the balancer, never
        # by workers racing on one conversation inside a process (docs/deploy.md).
        "SANIC_WORKERS": "1",
    }


def require_free_port(port: int) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            sys.exit(f"error: port {port} is already in use (is `make run` already running?)")


def wait_until_up(url: str, process: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode} while starting")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{name} did not answer {url} within {STARTUP_TIMEOUT_SECONDS} s")


def start(command: List[str], env: Dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env)


def stop(processes: List[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def action_server_command(settings: RunSettings) -> List[str]:
    return [rasa_cli.executable(), "run", "actions", "--actions", "actions", "--port", str(settings.action_port)]


def handoff_command(settings: RunSettings) -> List[str]:
    # ws="websockets": uvicorn's default needs websockets>=13; Rasa pins websockets 10.4.
    return [
        sys.executable, "-m", "uvicorn", "--factory", "handoff.main:create_app", "--ws", "websockets",
        "--ws-max-size", str(handoff_settings().ws_max_frame_bytes),
        "--host", "127.0.0.1", "--port", str(settings.handoff_port), "--log-level", "warning",
    ]


def demo_store_lines() -> str:
    """The demo shoppers' story orders (seeding the store when it is missing or stale)."""
    from actions.settings import get_settings
    from actions.shop.clock import store_now
    from actions.shop.seed import STORIES, ensure_seeded, labelled_orders

    settings = get_settings()
    if settings.shop_backend != "sqlite":
        return f"    the store's own backend at {settings.shop_api_url}"
    ensure_seeded(settings.shop_db_path, store_now())
    labels = labelled_orders(settings.shop_db_path)
    return "\n".join(f"    {label:<22} {labels.get(label, '-')}  {text}" for label, text in list(STORIES.items())[:7])


def rasa_server_command(settings: RunSettings, token: str, model: str, shell: bool = False) -> List[str]:
    common = ["--model", model, "--endpoints", "endpoints.yml", "--port", str(settings.rasa_port)]
    rasa = [sys.executable, "-m", "bot.rasa_server"]  # `rasa`, with the strict tracker store
    if shell:
        return [*rasa, "shell", *common]
    return [
        *rasa, "run", *common,
        "--credentials", "credentials.yml", "--interface", settings.rasa_host,
        "--enable-api", "--auth-token", token, "--cors", "*",
    ]


def print_how_to_talk(settings: RunSettings, redis_url: str, password: str) -> None:
    embedded = "" if settings.redis_url else " (embedded, data in var/redis)"
    url, handoff = settings.rasa_url, settings.handoff_url
    agents = "\n".join(f"      {agent_id:<13} {password}   {name}" for agent_id, name, _ in DEMO_AGENTS)
    print(
        f"""
Shouhou is running. Ctrl-C stops everything.

  Shopper's chat page (what the store's app opens), as the signed-in shopper {DEMO_SHOPPER}:
    {demo_chat_link(handoff)}
  As a guest (the bot checks the order number and the phone): {handoff}/chat
  Agents' console: {handoff}/console   and the trainers' page: {handoff}/trainer   sign in as
{agents}
  The story to play in two windows: in the chat write 我买的奶粉打开全是结块的, pick 退款, send a
  photo, then 你们什么破质量！！！气死我了 -> the ticket appears in the console; claim it, answer,
  then 交回机器人 and write 退款一般几天到账 in the chat.
  To fix a message the bot does not understand: write 买的锅底是凹的 in the chat; in the trainers'
  page label it report_broken, then 模型 -> 重新训练 -> 上线新模型; the chat then understands it.

  Demo store (var/shop.db; phones and stories in docs/demo-store.md):
{demo_store_lines()}
  The HTTP side, for scripts (docs/handoff.md has every route):
    TOKEN=$(.venv/bin/python -m handoff.issue_token u1001)
    curl -s {handoff}/api/chat/messages -H "Authorization: Bearer $TOKEN" \\
         -H 'Content-Type: application/json' -d '{{"text": "奶粉打开全是结块的！！你们什么破质量"}}'
    curl -s {handoff}/api/chat/updates -H "Authorization: Bearer $TOKEN"   # the conversation, line by line
  Rasa's HTTP API (token in var/rasa_token unless RASA_TOKEN is set), e.g. parse a message:
    curl -s "{url}/model/parse?token=$(cat var/rasa_token)" -H 'Content-Type: application/json' \\
         -d '{{"text": "等了三天都没人回！！！"}}'
  Chat in the terminal: stop this and run `make shell`
  More agents: REDIS_URL={redis_url} .venv/bin/python -m handoff.cli create-agent <id> --name <显示名>

  Handoff service: {handoff}/health    Action server: http://127.0.0.1:{settings.action_port}/health
  Redis: {redis_url}{embedded}
""",
        flush=True,
    )


def serve(settings: RunSettings, env: Dict[str, str], shell: bool) -> int:
    model = model_path()
    if not model.exists():
        sys.exit("error: no trained model for the current data; run `make train`")
    for port in (settings.handoff_port, settings.action_port, settings.rasa_port):
        require_free_port(port)
    env["RASA_TOKEN"] = rasa_token(settings)  # the gateway calls Rasa's HTTP API with it
    processes: List[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, lambda *_: (stop(processes), sys.exit(0)))
    try:
        handoff = start(handoff_command(settings), env)
        processes.append(handoff)
        wait_until_up(f"{settings.handoff_url}/health", handoff, "handoff service")
        actions = start(action_server_command(settings), env)
        processes.append(actions)
        wait_until_up(f"http://127.0.0.1:{settings.action_port}/health", actions, "action server")
        rasa = start(rasa_server_command(settings, rasa_token(settings), str(model), shell), env)
        processes.append(rasa)
        if shell:
            return rasa.wait()
        wait_until_up(f"{settings.rasa_url}/", rasa, "Rasa server")
        print_how_to_talk(settings, env["REDIS_URL"], ensure_demo_agents(env["REDIS_URL"], settings.var_dir))
        while all(p.poll() is None for p in processes):
            time.sleep(1)
        failed = next(p for p in processes if p.poll() is not None)
        print(f"error: a server stopped (exit {failed.returncode}); stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        stop(processes)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shell", action="store_true", help="chat in the terminal instead of serving HTTP")
    parser.add_argument("--redis-only", action="store_true", help="only make sure Redis is up, then run CMD")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="with --redis-only: the command to run")
    args = parser.parse_args(argv)
    settings = RunSettings()
    env = rasa_cli.environment(endpoint_environment(resolve_redis_url(settings), settings))
    if args.redis_only:
        command = [c for c in args.command if c != "--"]
        if not command:
            print(env["REDIS_URL"])
            return 0
        os.chdir(PROJECT_ROOT)
        return subprocess.call(command, env=env)
    return serve(settings, env, shell=args.shell)


if __name__ == "__main__":
    sys.exit(main())
