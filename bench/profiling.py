"""Where the time goes during a load run: CPU used by each process of the stack, and py-spy
profiles of running services summarised as the functions and packages that take the samples.

py-spy (in the venv, requirements.in) reads the target's memory from outside (`--nonblocking`:
the target is never paused), so it needs ptrace rights over it: root, or the same user with
kernel.yama.ptrace_scope 0. When it cannot attach, the summary says why instead.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import psutil
import redis

SAMPLES_PER_SECOND = 100
TOP = 12
# Leaf frames of a thread that waits rather than works: the event loop in uvloop's epoll (Sanic's
# and uvicorn's entry frames: uvloop runs in C, so nothing sits above them while idle), an idle
# worker of a thread pool (asyncio.to_thread), a thread blocked on a lock or a selector.
WAITING_LEAVES = {
    ("serve", "sanic/server/runners.py"),
    ("asyncio_run", "uvicorn/_compat.py"),
    ("run_forever", "asyncio/base_events.py"),
    ("_worker", "concurrent/futures/thread.py"),
    ("wait", "threading.py"),
    ("select", "selectors.py"),
}
# Inclusive shares are listed for these packages' frames: where in the project (and in Rasa) the time goes.
OWN_PACKAGES = {"handoff", "bot", "actions", "rasa", "rasa_sdk"}
FRAME = re.compile(r"^(?P<function>.*) \((?P<path>[^()]*?)(?::\d+)?\)$")


# ---- CPU per process --------------------------------------------------------------------------


def process_cpu_seconds(pid: int, with_children: bool = True) -> float:
    """User + system CPU seconds of a process and its children (nginx's worker); 0 when gone."""
    try:
        process = psutil.Process(pid)
        processes = [process, *(process.children(recursive=True) if with_children else [])]
    except psutil.Error:
        return 0.0
    total = 0.0
    for each in processes:
        try:
            times = each.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            continue
    return total


def redis_cpu_seconds(redis_url: str) -> float:
    info = redis.Redis.from_url(redis_url).info("cpu")
    return float(info.get("used_cpu_user", 0.0)) + float(info.get("used_cpu_sys", 0.0))


def machine_busy_seconds() -> float:
    """CPU seconds every process of the machine spent working (all cores together)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


@dataclass
class CpuReading:
    at: float
    by_process: Dict[str, float]
    machine: float


class CpuMeter:
    """Cores used by each named process (and Redis, this load generator and everything else on the
    machine) between two readings: 1.0 is one core kept busy the whole time."""

    def __init__(self, pids: Mapping[str, int], redis_url: str) -> None:
        self.pids = dict(pids)
        self.redis_url = redis_url

    def read(self) -> CpuReading:
        by_process = {name: process_cpu_seconds(pid) for name, pid in self.pids.items()}
        by_process["redis"] = redis_cpu_seconds(self.redis_url)
        # This process alone: the services (and py-spy, counted in "other work") are its children.
        by_process["load generator"] = process_cpu_seconds(psutil.Process().pid, with_children=False)
        return CpuReading(time.monotonic(), by_process, machine_busy_seconds())

    @staticmethod
    def cores_between(start: CpuReading, end: CpuReading) -> Dict[str, float]:
        seconds = max(end.at - start.at, 1e-6)
        cores = {name: (end.by_process[name] - start.by_process[name]) / seconds for name in start.by_process}
        machine = (end.machine - start.machine) / seconds
        cores["other work on the machine"] = max(machine - sum(cores.values()), 0.0)
        cores["machine busy"] = machine
        cores["machine cores"] = float(psutil.cpu_count() or 1)
        return {name: round(value, 3) for name, value in cores.items()}


def cores_by_kind(cores: Mapping[str, float]) -> Dict[str, float]:
    """gateway-1 + gateway-2 -> gateway, …; the machine's figures kept as they are."""
    grouped: Counter = Counter()
    for name, value in cores.items():
        grouped[re.sub(r"-\d+$", "", name)] += value
    return {name: round(value, 3) for name, value in grouped.items()}


# ---- py-spy -----------------------------------------------------------------------------------


def py_spy() -> Optional[str]:
    venv_copy = Path(sys.executable).with_name("py-spy")
    return str(venv_copy) if venv_copy.exists() else shutil.which("py-spy")


@dataclass
class Recording:
    name: str
    pid: int
    output: Path
    process: Optional[subprocess.Popen] = None
    failure: Optional[str] = None


def start_recording(name: str, pid: int, seconds: float, folder: Path) -> Recording:
    """py-spy record on `pid` for `seconds`, raw (collapsed stacks, one per line: a flame graph's input)."""
    folder.mkdir(parents=True, exist_ok=True)
    recording = Recording(name, pid, folder / f"{name}.raw.txt")
    binary = py_spy()
    if binary is None:
        recording.failure = "py-spy is not installed (make setup installs it from requirements.lock)"
        return recording
    command = [binary, "record", "--pid", str(pid), "--duration", str(max(int(seconds), 1)),
               "--rate", str(SAMPLES_PER_SECOND), "--nonblocking", "--format", "raw", "--output", str(recording.output)]
    recording.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return recording


def finish_recording(recording: Recording, timeout: float) -> Dict:
    """Wait for py-spy, then the summary of what it sampled (or why there is none)."""
    if recording.process is not None:
        try:
            output, _ = recording.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            recording.process.kill()
            output, _ = recording.process.communicate()
        if recording.process.returncode != 0 or not recording.output.exists():
            recording.failure = f"py-spy exited with {recording.process.returncode}: {output.strip()[-400:]}"
    if recording.failure:
        return {"process": recording.name, "pid": recording.pid, "error": recording.failure}
    return {"process": recording.name, "pid": recording.pid, "raw_file": str(recording.output),
            **summarise(read_stacks(recording.output))}


def read_stacks(path: Path) -> List[Tuple[List[str], int]]:
    """py-spy's raw output: `frame;frame;…;leaf count` per line, outermost frame first."""
    stacks = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def frame_parts(frame: str) -> Tuple[str, str]:
    """("function", "path/of/file.py") of a frame written `function (path/of/file.py:line)`."""
    match = FRAME.match(frame.strip())
    return (match["function"], match["path"]) if match else (frame.strip(), "")


def package_of(path: str) -> str:
    """The top-level package or module a file belongs to: rasa, tensorflow, asyncio, handoff, …"""
    if not path:
        return "(native)"
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif "/lib/python3" in path:
        path = path.split("/lib/python3", 1)[1].split("/", 1)[-1]
    head = path.lstrip("/").split("/", 1)[0]
    return head[:-3] if head.endswith(".py") else head


def below_the_event_loop(frames: List[str]) -> List[str]:
    """The frames a callback of the event loop runs (the server's start-up frames above it left out)."""
    entries = [index for index, frame in enumerate(frames) if frame_parts(frame) in WAITING_LEAVES]
    return frames[entries[-1] + 1:] if entries else frames


def summarise(stacks: Iterable[Tuple[List[str], int]]) -> Dict:
    """Shares of the working samples (waiting threads left out, their count said): by package of
    the leaf frame, by leaf function (its own time), and by the function a sample passes through
    (inclusive, for the project's and Rasa's frames below the event loop; those in nearly every
    working sample left out).
    "Working" is what py-spy sees from outside: on the CPU, or blocked in a synchronous call (a
    blocking socket read in an event loop counts: the loop serves nobody meanwhile)."""
    own: Counter = Counter()
    packages: Counter = Counter()
    through: Counter = Counter()
    total = waiting = 0
    for frames, count in stacks:
        if frame_parts(frames[-1]) in WAITING_LEAVES:
            waiting += count
            continue
        total += count
        function, path = frame_parts(frames[-1])
        own[f"{function} ({path})"] += count
        packages[package_of(path)] += count
        for function, path in {frame_parts(frame) for frame in below_the_event_loop(frames)}:
            if package_of(path) in OWN_PACKAGES:
                through[f"{function} ({path})"] += count
    if not total:
        return {"samples": 0, "waiting_samples": waiting}

    def shares(counter: Counter, skip_above: float = 1.01) -> List[Dict]:
        kept = [(name, count) for name, count in counter.most_common() if count / total < skip_above]
        return [{"name": name, "share": round(count / total, 4)} for name, count in kept[:TOP]]

    return {
        "samples": total,  # working: about samples / SAMPLES_PER_SECOND seconds of one thread busy
        "waiting_samples": waiting,
        "samples_per_second": SAMPLES_PER_SECOND,
        "by_package": shares(packages),
        "by_function_own": shares(own),
        "by_function_inclusive": shares(through, skip_above=0.9),
    }


@dataclass
class ProfileSummary:
    recordings: List[Dict] = field(default_factory=list)

    def lines(self) -> List[str]:
        out = []
        for recording in self.recordings:
            if "error" in recording:
                out.append(f"  {recording['process']}: no profile: {recording['error']}")
                continue
            packages = ", ".join(f"{p['name']} {p['share']:.0%}" for p in recording["by_package"][:6])
            functions = ", ".join(f"{f['name']} {f['share']:.0%}" for f in recording["by_function_own"][:4])
            out.append(f"  {recording['process']} ({recording['samples']} working samples, "
                       f"{recording['waiting_samples']} waiting left out): by package {packages}")
            out.append(f"  {'':{len(recording['process'])}}  top functions (own time): {functions}")
        return out
