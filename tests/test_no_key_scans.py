"""Nothing a request runs walks Redis's key space (SCAN/KEYS): it grows with every conversation."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCANS = re.compile(r"\bscan_iter\(|\.scan\(|['\"]KEYS['\"]|\.keys\(\s*['\"]")
# Maintenance, never in a request: the purge command; Rasa's listing of every conversation
# (GET /conversations, an operator's call) in the tracker store.
ALLOWED = {"handoff/retention.py", "bot/tracker_store.py"}


def test_no_request_path_scans_redis_keys():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("handoff", "actions", "bot", "trainer")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if str(path.relative_to(ROOT)) not in ALLOWED
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SCANS.search(line)
    ]
    assert offenders == []


def test_the_pattern_finds_a_scan():
    assert SCANS.search("for key in client.scan_iter(match='shouhou:*'):")
    assert SCANS.search('await redis.keys("shouhou:*")')
