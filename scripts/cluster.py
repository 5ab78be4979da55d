"""The assistant as several instances of each service behind nginx, on one machine.

    python -m scripts.cluster                 # make run-cluster: 2 of each, prints how to talk to it
    python -m scripts.cluster --instances 3

nginx (deploy/nginx/cluster.conf.template) is the one door: shoppers, agents and trainers reach
the handoff/gateway instances round robin, the gateways reach the Rasa servers sticky by
conversation, Rasa reaches the action servers round robin. Every instance shares one Redis
(trackers, Rasa's ticket locks, the gateway's turns, feeds, tickets): no instance keeps what
another needs, so any can be killed and the others carry on. docs/deploy.md maps this onto
containers and Kubernetes. Tests and benchmarks start it with `running_cluster(...)`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import shutil
import signal
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Dict, Iterator, List, Optional

import httpx

from bot.fingerprint import model_path
from handoff.settings import get_settings as handoff_settings
from scripts import rasa_cli
from scripts.demo_accounts import DEMO_AGENTS, demo_chat_link, ensure_demo_agents
from scripts.run import (
    action_server_command,
    demo_store_lines,
    endpoint_environment,
    handoff_command,
    rasa_server_command,
    rasa_token,
    require_free_port,
    resolve_redis_url,
)
from scripts.settings import PROJECT_ROOT, RunSettings
from scripts.stack import TOKEN, Assistant, Service, free_port, stack_environment

NGINX_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx" / "cluster.conf.template"
KINDS = ("gateway", "actions", "rasa")
NGINX = "nginx"
FAIL_SECONDS = 3  # nginx skips an instance that refused a connection for this long


@dataclass
class ClusterPorts:
    front: int  # nginx: pages, APIs and WebSockets of the gateways
    rasa: int  # nginx: the Rasa servers
    actions: int  # nginx: the action servers
    instances: Dict[str, List[int]]  # kind -> each instance's own port

    @classmethod
    def allocate(cls, instances: int, front: Optional[int] = None) -> "ClusterPorts":
        return cls(
            front=front or free_port(), rasa=free_port(), actions=free_port(),
            instances={kind: [free_port() for _ in range(instances)] for kind in KINDS},
        )


def instance_name(kind: str, index: int) -> str:
    return f"{kind}-{index + 1}"


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        sys.exit("error: nginx is missing; `make run-cluster` installs it (scripts/ensure_nginx.sh)")
    return found


def nginx_config(ports: ClusterPorts, run_dir: Path) -> str:
    def servers(kind: str) -> str:
        return "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout={FAIL_SECONDS}s;" for port in ports.instances[kind]
        )

    photos = handoff_settings()
    max_body_mb = photos.photo_max_bytes * photos.photo_max_per_request // (1024 * 1024) + 1
    return Template(NGINX_TEMPLATE.read_text()).substitute(
        front_port=ports.front, rasa_port=ports.rasa, actions_port=ports.actions, run_dir=run_dir, user=getpass.getuser(),
        fail_seconds=FAIL_SECONDS, max_body=f"{max_body_mb}m",
        gateway_servers=servers("gateway"), rasa_servers=servers("rasa"), action_servers=servers("actions"),
    )


def cluster_services(settings: RunSettings, ports: ClusterPorts, model: Path, token: str, run_dir: Path) -> List[Service]:
    """nginx first, then every instance; each instance is the single-stack command on its own port."""
    config = run_dir / "nginx.conf"
    config.write_text(nginx_config(ports, run_dir))
    services = [Service(NGINX, [nginx_binary(), "-p", str(run_dir), "-e", str(run_dir / "error.log"), "-c", str(config)],
                        f"http://127.0.0.1:{ports.front}/live")]
    for index, port in enumerate(ports.instances["gateway"]):
        own = settings.copy(update={"handoff_port": port})
        services.append(Service(instance_name("gateway", index), handoff_command(own), f"{own.handoff_url}/live"))
    for index, port in enumerate(ports.instances["actions"]):
        own = settings.copy(update={"action_port": port})
        services.append(Service(instance_name("actions", index), action_server_command(own), f"http://127.0.0.1:{port}/health"))
    for index, port in enumerate(ports.instances["rasa"]):
        own = settings.copy(update={"rasa_port": port})
        services.append(Service(instance_name("rasa", index), rasa_server_command(own, token, str(model)), f"{own.rasa_url}/"))
    return services


def instances_environment(ports: ClusterPorts) -> Dict[str, str]:
    """What the gateways must know of each Rasa server: a model going live is loaded into every one."""
    return {"RASA_INSTANCE_URLS": json.dumps([f"http://127.0.0.1:{port}" for port in ports.instances["rasa"]])}


def front_settings(settings: RunSettings, ports: ClusterPorts) -> RunSettings:
    """What every instance is told about the others: the balanced addresses, never an instance's own."""
    return settings.copy(update={"handoff_port": ports.front, "rasa_port": ports.rasa, "action_port": ports.actions})


@contextmanager
def running_cluster(
    model: Path, redis_url: str, workdir: Path, instances: int = 2, extra_env: Optional[Dict[str, str]] = None
) -> Iterator[Assistant]:
    """The cluster on free ports, its store, photos and nginx files in `workdir`. The Assistant's
    rasa_url and handoff_url are nginx's; services are named nginx, gateway-1, rasa-2, … and write
    their output to `workdir`/logs/<name>.log."""
    ports = ClusterPorts.allocate(instances)
    settings = front_settings(RunSettings(redis_url=redis_url), ports)
    env, orders = stack_environment(settings, redis_url, workdir, {**instances_environment(ports), **(extra_env or {})})
    run_dir = workdir / "nginx"
    run_dir.mkdir(parents=True, exist_ok=True)
    assistant = Assistant(settings.rasa_url, settings.handoff_url, orders, env=env, log_dir=workdir / "logs")
    for service in cluster_services(settings, ports, model, TOKEN, run_dir):
        assistant.services[service.name] = service
    try:
        start_in_order(assistant)
        yield assistant
    finally:
        assistant.stop_all()


def start_in_order(assistant: Assistant) -> None:
    """The gateways and action servers, then the Rasa servers side by side, then nginx in front."""
    names = list(assistant.services)
    for kind in KINDS:
        assistant.start_many([name for name in names if name.startswith(kind + "-")])
    assistant.start(NGINX)


def print_how_to_talk(assistant: Assistant, redis_url: str, password: str, instances: int) -> None:
    front = assistant.handoff_url
    agents = "\n".join(f"      {agent_id:<13} {password}   {name}" for agent_id, name, _ in DEMO_AGENTS)
    pids = "\n".join(
        f"    {name:<10} pid {service.process.pid:<8} {service.health_url}"
        for name, service in assistant.services.items() if service.process is not None
    )
    print(
        f"""
Shouhou is running as a cluster: nginx in front of {instances} gateways, {instances} Rasa servers and
{instances} action servers, sharing Redis {redis_url}. Ctrl-C stops everything.

  Shopper's chat page (signed-in demo shopper): {demo_chat_link(front)}
  Agents' console: {front}/console   trainers' page: {front}/trainer   sign in as
{agents}
  Rasa's HTTP API (sticky by conversation): {assistant.rasa_url}  (token in var/rasa_token)
  Demo store (var/shop.db; phones and stories in docs/demo-store.md):
{demo_store_lines()}

  The instances (kill -9 any of them: the others carry on, and this command starts it again):
{pids}
  Load benchmark, 1 vs 2 instances: make bench-load     Design and production mapping: docs/deploy.md
""",
        flush=True,
    )


def sibling_model(assistant: Assistant, name: str) -> Optional[str]:
    """The model file another running Rasa server serves now (GET /status), if one answers."""
    for other, service in assistant.services.items():
        if other.startswith("rasa-") and other != name and service.process and service.process.poll() is None:
            try:
                status = httpx.get(service.health_url + "status", params={"token": assistant.token}, timeout=5)
                return status.json()["model_file"] if status.status_code == 200 else None
            except (httpx.HTTPError, ValueError, KeyError):
                continue
    return None


def current_model(command: List[str]) -> str:
    return command[command.index("--model") + 1]


def with_model(command: List[str], model: str) -> List[str]:
    at = command.index("--model") + 1
    return [*command[:at], str(model), *command[at + 1 :]]


def supervise(assistant: Assistant) -> int:
    """Restart an instance that died, as an orchestrator would; nginx dying ends the cluster."""
    while True:
        time.sleep(1)
        for name, service in assistant.services.items():
            if service.process is None or service.process.poll() is None:
                continue
            if name == NGINX:
                print(f"error: nginx stopped (exit {service.process.returncode}); stopping the cluster", file=sys.stderr)
                return 1
            print(f"{name} exited (code {service.process.returncode}); starting it again", file=sys.stderr, flush=True)
            if name.startswith("rasa-"):  # with the model its siblings serve (a trainer may have put one live)
                service.command = with_model(service.command, sibling_model(assistant, name) or current_model(service.command))
            assistant.start(name)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=None, help="instances of each service (default 2)")
    args = parser.parse_args(argv)
    settings = RunSettings()
    instances = args.instances or settings.cluster_instances
    if instances < 1:
        sys.exit("error: --instances must be at least 1")
    model = model_path()
    if not model.exists():
        sys.exit("error: no trained model for the current data; run `make train`")
    require_free_port(settings.cluster_port)
    redis_url = resolve_redis_url(settings)
    ports = ClusterPorts.allocate(instances, front=settings.cluster_port)
    front = front_settings(settings.copy(update={"redis_url": redis_url}), ports)
    env = rasa_cli.environment(
        {**endpoint_environment(redis_url, front), **instances_environment(ports), "RASA_TOKEN": rasa_token(settings)}
    )
    run_dir = settings.var_dir / "cluster"
    run_dir.mkdir(parents=True, exist_ok=True)
    assistant = Assistant(front.rasa_url, front.handoff_url, {}, env=env, token=rasa_token(settings), quiet=False)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop_all below, as on Ctrl-C
    for service in cluster_services(front, ports, model, rasa_token(settings), run_dir):
        assistant.services[service.name] = service
    try:
        start_in_order(assistant)
        print_how_to_talk(assistant, redis_url, ensure_demo_agents(redis_url, settings.var_dir), instances)
        return supervise(assistant)
    except KeyboardInterrupt:
        return 0
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        assistant.stop_all()


if __name__ == "__main__":
    sys.exit(main())
