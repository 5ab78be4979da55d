"""Personal-data retention: the purge behind `python -m handoff.cli purge` (`make purge`).

What the service keeps about a shopper expires by itself (Redis TTLs set by the code that
writes each key, docs/security.md has the table): Rasa's tracker and the conversation's feed
`conversation_retention_seconds` (TRACKER_RETENTION_SECONDS) after the last line, a finished
ticket and its notes that long after it ended, a photo's metadata that long after the upload,
client message ids after a day, review-inbox items `inbox_retention_seconds` after last seen.
What cannot expire by itself is the purge's job:

- `purge_older_than`: photo files on disk (no TTL) whose metadata is gone or too old, finished
  tickets and their notes, feeds and trackers whose last line is older than the retention (so a
  shorter retention applies to what was kept under a longer one), ownership records of
  conversations the bot answers, misunderstood marks and inbox items older than the trainers'
  retention, saved test stories; a key that should expire and has no TTL is given one. Open
  tickets (waiting, claimed) are kept and counted: an agent must finish them.
- `erase_conversation`: one shopper's conversation, completely ("right to be forgotten").

A maintenance command: it walks the keys with SCAN, never KEYS, and is never in a request path.
With `dry_run` it only counts. Synchronous (redis-py), like the command line that runs it.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Union

import redis
import yaml

from handoff import redis_keys
from handoff.photos import FILE_EXTENSIONS
from handoff.settings import PROJECT_ROOT, HandoffSettings

ENDPOINTS_FILE = PROJECT_ROOT / "endpoints.yml"
# Rasa's RedisTrackerStore and RedisLockStore put these after the endpoints' key_prefix
# (rasa.core.constants / rasa.core.lock_store); tests/test_handoff/test_retention.py checks them.
RASA_TRACKER_PART = "tracker:"
RASA_LOCK_PART = "lock:"
SCAN_COUNT = 1000
PAGE = 1000
# A photo file without metadata may be an upload in flight (the file is written first): left this long.
PHOTO_FILE_GRACE_SECONDS = 3600
TEMPORARY_UPLOAD_GLOB = ".upload-*.tmp"
SAVED_STORY_GLOB = "test_*.yml"
MAX_CONVERSATION_ID_CHARS = 200
FINISHED_TICKET_STATUSES = {"returned", "closed"}
TICKET_TIME_FIELDS = ("created_at", "claimed_at", "transferred_at", "returned_at", "closed_at")

# What the report lists, in this order.
KINDS = {
    "tracker": "conversations in Rasa's tracker store",
    "feed": "conversation feeds",
    "ownership": "ownership records",
    "client_message": "client message ids",
    "rate": "rate-limit counters",
    "ticket": "tickets",
    "ticket_notes": "ticket notes",
    "photo": "photo metadata",
    "photo_file": "photo files",
    "photo_index": "photo hash index entries",
    "inbox_item": "review-inbox items removed",
    "inbox_unlinked": "review-inbox items unlinked from the conversation",
    "misunderstood": "misunderstood marks",
    "saved_story": "saved test stories",
    "expiry_set": "keys given an expiry",
    "open_ticket_kept": "open tickets older than the retention (kept: finish them in the console)",
}

# Delete a conversation's ownership record only if the bot still answers it, unchanged since read.
# KEYS[1] conversation hash; ARGV[1] updated_at as read. Returns 1 when deleted.
DELETE_IF_UNCHANGED_SCRIPT = """
local owner = redis.call('HGET', KEYS[1], 'owner') or 'bot'
if owner ~= 'bot' or (redis.call('HGET', KEYS[1], 'updated_at') or '') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""


class PurgeError(ValueError):
    """Bad input (English, for the operator): nothing was removed."""


@dataclass
class PurgeReport:
    dry_run: bool
    title: str
    counts: Counter = field(default_factory=Counter)

    def lines(self) -> List[str]:
        head = f"{self.title}{' (dry run: nothing removed)' if self.dry_run else ''}"
        verb = "would be " if self.dry_run else ""
        counts = [f"  {label}: {self.counts[kind]}" for kind, label in KINDS.items()]
        return [head, *counts, f"  total {verb}removed or changed: {self.total()}"]

    def total(self) -> int:
        return sum(count for kind, count in self.counts.items() if kind != "open_ticket_kept")


def check_days(days: int) -> int:
    if days < 1:
        raise PurgeError(f"days must be a whole number, at least 1 (got {days})")
    return days


def check_conversation_id(conversation_id: str) -> str:
    if not conversation_id or len(conversation_id) > MAX_CONVERSATION_ID_CHARS:
        raise PurgeError(f"a conversation id has 1 to {MAX_CONVERSATION_ID_CHARS} characters")
    if any(char.isspace() or not char.isprintable() for char in conversation_id):
        raise PurgeError(f"not a conversation id: {conversation_id!r}")
    return conversation_id


def rasa_key_prefix(endpoints: Path = ENDPOINTS_FILE) -> str:
    """What Rasa's Redis stores put before their keys: "<key_prefix>:" (only an alphanumeric
    prefix is used, as Rasa does), or "" when endpoints.yml names none."""
    config = yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}
    prefix = str((config.get("tracker_store") or {}).get("key_prefix") or "")
    return f"{prefix}:" if prefix.isalnum() else ""


def glob_escape(text: str) -> str:
    """`text` matched literally in a SCAN MATCH pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def purge_older_than(
    client: redis.Redis, settings: HandoffSettings, days: Optional[int] = None, dry_run: bool = False,
    now: Optional[float] = None,
) -> PurgeReport:
    """Remove what is older than `days` (default: the retention settings); see the module doc."""
    purge = _Purge(client, settings, dry_run, now)
    if days is not None:
        purge.personal_seconds = purge.trainer_seconds = check_days(days) * 86400
    title = f"purge of personal data older than {purge.personal_seconds / 86400:g} days"
    return purge.run_age_purge(PurgeReport(dry_run, title))


def erase_conversation(
    client: redis.Redis, settings: HandoffSettings, conversation_id: str, dry_run: bool = False
) -> PurgeReport:
    """Erase everything kept about one conversation; PurgeError when nothing is kept about it."""
    conversation_id = check_conversation_id(conversation_id)
    purge = _Purge(client, settings, dry_run)
    report = purge.run_erasure(conversation_id, PurgeReport(dry_run, f"erasure of conversation {conversation_id}"))
    if report.total() == 0:
        raise PurgeError(f"nothing is stored for conversation {conversation_id!r} (unknown, or erased already)")
    return report


class _Purge:
    def __init__(
        self, client: redis.Redis, settings: HandoffSettings, dry_run: bool, now: Optional[float] = None
    ) -> None:
        self.redis = client
        self.settings = settings
        self.dry_run = dry_run
        self.now = time.time() if now is None else now
        self.personal_seconds = settings.conversation_retention_seconds
        self.trainer_seconds = settings.inbox_retention_seconds
        self.rasa_prefix = rasa_key_prefix()
        self.counts: Counter = Counter()
        self.removed_photos: Set[str] = set()
        self._delete_if_unchanged = client.register_script(DELETE_IF_UNCHANGED_SCRIPT)

    # -- the two runs ------------------------------------------------------------------------

    def run_age_purge(self, report: PurgeReport) -> PurgeReport:
        for step in (
            self._trackers, self._feeds, self._ownership, self._client_messages, self._tickets, self._orphan_notes,
            self._photos, self._photo_files, self._photo_indexes, self._inbox_items, self._old_marks,
            self._old_saved_stories,
        ):
            step()
        report.counts = self.counts
        return report

    def run_erasure(self, conversation_id: str, report: PurgeReport) -> PurgeReport:
        self._erase_keys(conversation_id)
        self._erase_tickets(conversation_id)
        self._erase_photos(conversation_id)
        self._erase_inbox_items(conversation_id)
        self._erase_marks(conversation_id)
        self._erase_saved_stories(conversation_id)
        report.counts = self.counts
        return report

    # -- small tools -------------------------------------------------------------------------

    @property
    def personal_cutoff(self) -> float:
        return self.now - self.personal_seconds

    @property
    def trainer_cutoff(self) -> float:
        return self.now - self.trainer_seconds

    def scan(self, pattern: str) -> Iterator[str]:
        for key in self.redis.scan_iter(match=pattern, count=SCAN_COUNT):
            yield _text(key)

    def delete(self, kind: str, *keys: str) -> None:
        """Count one `kind` and delete its keys (unless dry run)."""
        self.counts[kind] += 1
        if not self.dry_run:
            self.redis.delete(*keys)

    def expire_at_age(self, last_seen: float, retention: int, *keys: str) -> None:
        """Keys without a TTL expire `retention` after `last_seen`."""
        remaining = max(int(last_seen + retention - self.now), 1)
        for key in keys:
            if self.redis.ttl(key) == -1:
                self.counts["expiry_set"] += 1
                if not self.dry_run:
                    self.redis.expire(key, remaining)

    def unlink(self, kind: str, path: Path) -> None:
        self.counts[kind] += 1
        if not self.dry_run:
            path.unlink(missing_ok=True)

    def tracker_key(self, part: str, conversation_id: str) -> str:
        return f"{self.rasa_prefix}{RASA_TRACKER_PART}{part}:{conversation_id}"

    # -- age purge: conversations ------------------------------------------------------------

    def _trackers(self) -> None:
        events_prefix = self.tracker_key("events", "")
        for key in self.scan(glob_escape(events_prefix) + "*"):
            conversation_id = key[len(events_prefix):]
            meta = self.tracker_key("meta", conversation_id)
            last = _event_time(self.redis.lindex(key, -1))
            if last is not None and last < self.personal_cutoff:
                self.delete("tracker", key, meta)
            else:
                self.expire_at_age(self.now if last is None else last, self.personal_seconds, key, meta)
        meta_prefix = self.tracker_key("meta", "")
        for key in self.scan(glob_escape(meta_prefix) + "*"):  # a session index without its events
            if not self.redis.exists(self.tracker_key("events", key[len(meta_prefix):])) and self.redis.ttl(key) == -1:
                self.delete("tracker", key)

    def _feeds(self) -> None:
        for key in self.scan(redis_keys.FEED.format(conversation_id="*")):
            latest = self.redis.xrevrange(key, count=1)
            last = _stream_time(latest[0][0]) if latest else None
            if last is None or last < self.personal_cutoff:
                self.delete("feed", key)
            else:
                self.expire_at_age(last, self.personal_seconds, key)

    def _ownership(self) -> None:
        """A record of a conversation the bot answers means what no record means: old ones go."""
        for key in self.scan(redis_keys.CONVERSATION.format(conversation_id="*")):
            fields = _texts(self.redis.hgetall(key))
            updated_at = fields.get("updated_at", "")
            if (fields.get("owner") or "bot") != "bot" or _float(updated_at, self.now) >= self.personal_cutoff:
                continue
            # A conversation handed off meanwhile keeps its record.
            self.counts["ownership"] += 1 if self.dry_run else self._delete_if_unchanged(keys=[key], args=[updated_at])

    def _client_messages(self) -> None:
        for key in self.scan(redis_keys.CLIENT_MESSAGE.format(conversation_id="*", client_id="*")):
            self.expire_at_age(self.now, self.personal_seconds, key)

    # -- age purge: tickets --------------------------------------------------------------------

    def _tickets(self) -> None:
        prefix = redis_keys.TICKET.format(ticket_id="")
        for key in self.scan(redis_keys.TICKET.format(ticket_id="*")):
            fields = _texts(self.redis.hgetall(key))
            notes = redis_keys.TICKET_NOTES.format(ticket_id=key[len(prefix):])
            last = max(_float(fields.get(name), 0.0) for name in TICKET_TIME_FIELDS)
            if fields.get("status") not in FINISHED_TICKET_STATUSES:
                self.counts["open_ticket_kept"] += last < self.personal_cutoff
            elif last < self.personal_cutoff:
                self._delete_ticket(key, notes)
            else:
                self.expire_at_age(last, self.personal_seconds, key, notes)

    def _delete_ticket(self, key: str, notes: str) -> None:
        if self.redis.exists(notes):
            self.delete("ticket_notes", notes)
        self.delete("ticket", key)

    def _orphan_notes(self) -> None:
        prefix = redis_keys.TICKET_NOTES.format(ticket_id="")
        for key in self.scan(redis_keys.TICKET_NOTES.format(ticket_id="*")):
            if not self.redis.exists(redis_keys.TICKET.format(ticket_id=key[len(prefix):])):
                self.delete("ticket_notes", key)

    # -- age purge: photos ---------------------------------------------------------------------

    def _photos(self) -> None:
        prefix = redis_keys.PHOTO.format(photo_id="")
        for key in self.scan(redis_keys.PHOTO.format(photo_id="*")):
            fields = _texts(self.redis.hgetall(key))
            created = _iso_time(fields.get("created_at"))
            if created is None or created >= self.personal_cutoff:
                self.expire_at_age(self.now if created is None else created, self.personal_seconds, key)
                continue
            photo_id = key[len(prefix):]
            self.delete("photo", key)
            self.removed_photos.add(photo_id)
            path = self._photo_path(photo_id, fields.get("content_type", ""))
            if path is not None and path.exists():
                self.unlink("photo_file", path)

    def _photo_files(self) -> None:
        """Files whose metadata expired (or never got written), and leftovers of failed uploads."""
        photo_dir = Path(self.settings.photo_dir)
        if not photo_dir.is_dir():
            return
        settled = self.now - PHOTO_FILE_GRACE_SECONDS
        for path in sorted(photo_dir.iterdir()):
            if not path.is_file() or path.stat().st_mtime >= settled:
                continue
            if path.match(TEMPORARY_UPLOAD_GLOB) or self._orphan_photo(path):
                self.unlink("photo_file", path)

    def _orphan_photo(self, path: Path) -> bool:
        if path.suffix not in FILE_EXTENSIONS.values() or path.stem in self.removed_photos:
            return False
        return not self.redis.exists(redis_keys.PHOTO.format(photo_id=path.stem))

    def _photo_indexes(self) -> None:
        """The owners' pixel-hash indexes: entries of photos that are gone are dropped."""
        for key in self.scan(redis_keys.PHOTO_HASHES.format(owner="*")):
            entries = _texts(self.redis.hgetall(key))
            gone = [sha256 for sha256, photo_id in entries.items() if not self._photo_kept(photo_id)]
            self.counts["photo_index"] += len(gone)
            if gone and not self.dry_run:
                self.redis.hdel(key, *gone)
            if len(gone) < len(entries):
                self.expire_at_age(self.now, self.personal_seconds, key)

    def _photo_kept(self, photo_id: str) -> bool:
        return photo_id not in self.removed_photos and bool(self.redis.exists(redis_keys.PHOTO.format(photo_id=photo_id)))

    def _photo_path(self, photo_id: str, content_type: str) -> Optional[Path]:
        extension = FILE_EXTENSIONS.get(content_type)
        return Path(self.settings.photo_dir) / f"{photo_id}{extension}" if extension else None

    # -- age purge: trainers' data -------------------------------------------------------------

    def _inbox_items(self) -> None:
        prefix = redis_keys.INBOX_ITEM.format(key="")
        for key in self.scan(redis_keys.INBOX_ITEM.format(key="*")):
            last_seen = _float(self.redis.hget(key, "last_seen"), self.now)
            if last_seen < self.trainer_cutoff:
                self._drop_inbox_item(key, key[len(prefix):])
            else:
                self.expire_at_age(last_seen, self.trainer_seconds, key)

    def _drop_inbox_item(self, key: str, item_key: str) -> None:
        self.delete("inbox_item", key)
        if not self.dry_run:
            self.redis.zrem(redis_keys.INBOX_OPEN, item_key)

    def _old_marks(self) -> None:
        stream = redis_keys.MISUNDERSTOOD
        oldest_kept = f"{int(self.trainer_cutoff * 1000)}-0"
        if self.dry_run:
            self.counts["misunderstood"] += sum(1 for _ in self._marks(stream, before=oldest_kept))
        else:
            self.counts["misunderstood"] += self.redis.xtrim(stream, minid=oldest_kept, approximate=False)
        if self.redis.exists(stream):
            self.expire_at_age(self.now, self.trainer_seconds, stream)

    def _marks(self, stream: str, before: str = "+") -> Iterator[tuple]:
        """(id, mark) of the stream's entries before `before` (exclusive; "+" = all), oldest first."""
        start, end = "-", "+" if before == "+" else f"({before}"
        while True:
            batch = self.redis.xrange(stream, min=start, max=end, count=PAGE)
            for entry_id, fields in batch:
                yield _text(entry_id), json.loads(_text(fields.get(b"mark", b"{}")))
            if len(batch) < PAGE:
                return
            start = f"({_text(batch[-1][0])}"

    def _old_saved_stories(self) -> None:
        for path in self._saved_stories():
            if path.stat().st_mtime < self.personal_cutoff:
                self.unlink("saved_story", path)

    def _saved_stories(self) -> List[Path]:
        folder = Path(self.settings.saved_stories_dir)
        return sorted(folder.glob(SAVED_STORY_GLOB)) if folder.is_dir() else []

    # -- erasure of one conversation -----------------------------------------------------------

    def _erase_keys(self, conversation_id: str) -> None:
        tracker = [self.tracker_key(part, conversation_id) for part in ("events", "meta")]
        tracker.append(f"{self.rasa_prefix}{RASA_LOCK_PART}{conversation_id}")
        singles = {
            "tracker": tracker,
            "feed": [redis_keys.FEED.format(conversation_id=conversation_id)],
            "ownership": [redis_keys.CONVERSATION.format(conversation_id=conversation_id)],
        }
        for kind, keys in singles.items():
            present = [key for key in keys if self.redis.exists(key)]
            if present:
                self.delete(kind, *present)
        escaped = glob_escape(conversation_id)
        for key in self.scan(redis_keys.CLIENT_MESSAGE.format(conversation_id=escaped, client_id="*")):
            self.delete("client_message", key)
        for key in self.scan(redis_keys.RATE.format(sender=f"shopper:{escaped}", window="*")):
            self.delete("rate", key)

    def _erase_tickets(self, conversation_id: str) -> None:
        prefix = redis_keys.TICKET.format(ticket_id="")
        ticket_ids = [
            key[len(prefix):]
            for key in self.scan(redis_keys.TICKET.format(ticket_id="*"))
            if _text(self.redis.hget(key, "conversation_id") or b"") == conversation_id
        ]
        for ticket_id in ticket_ids:
            self._delete_ticket(redis_keys.TICKET.format(ticket_id=ticket_id), redis_keys.TICKET_NOTES.format(ticket_id=ticket_id))
        if ticket_ids and not self.dry_run:
            self.redis.zrem(redis_keys.TICKET_QUEUE, *ticket_ids)
            for held in self.scan(redis_keys.AGENT_TICKETS.format(agent_id="*")):
                self.redis.srem(held, *ticket_ids)

    def _erase_photos(self, conversation_id: str) -> None:
        """The shopper's uploads: a photo's owner is the token's subject, which is the conversation id."""
        prefix = redis_keys.PHOTO.format(photo_id="")
        for key in self.scan(redis_keys.PHOTO.format(photo_id="*")):
            fields = _texts(self.redis.hgetall(key))
            if fields.get("owner") != conversation_id:
                continue
            self.delete("photo", key)
            path = self._photo_path(key[len(prefix):], fields.get("content_type", ""))
            if path is not None and path.exists():
                self.unlink("photo_file", path)
        index = redis_keys.PHOTO_HASHES.format(owner=conversation_id)
        entries = self.redis.hlen(index)
        if entries:
            self.counts["photo_index"] += entries
            if not self.dry_run:
                self.redis.delete(index)

    def _erase_inbox_items(self, conversation_id: str) -> None:
        """Items whose latest message came from this conversation: dropped when it is their only
        message, otherwise kept for the trainers without the link to the conversation."""
        prefix = redis_keys.INBOX_ITEM.format(key="")
        for key in self.scan(redis_keys.INBOX_ITEM.format(key="*")):
            linked, count = (_text(value or b"") for value in self.redis.hmget(key, "conversation_id", "count"))
            if linked != conversation_id:
                continue
            if _float(count, 0.0) <= 1:
                self._drop_inbox_item(key, key[len(prefix):])
            else:
                self.counts["inbox_unlinked"] += 1
                if not self.dry_run:
                    self.redis.hdel(key, "conversation_id")

    def _erase_marks(self, conversation_id: str) -> None:
        stream = redis_keys.MISUNDERSTOOD
        ids = [entry_id for entry_id, mark in self._marks(stream) if mark.get("conversation_id") == conversation_id]
        self.counts["misunderstood"] += len(ids)
        if ids and not self.dry_run:
            self.redis.xdel(stream, *ids)

    def _erase_saved_stories(self, conversation_id: str) -> None:
        """Saved stories say where they come from on their first line (handoff/review/stories.py)."""
        marker = f"# Saved from conversation {conversation_id} by "
        for path in self._saved_stories():
            with path.open(encoding="utf-8") as file:
                first_line = file.readline()
            if first_line.startswith(marker):
                self.unlink("saved_story", path)


def _event_time(raw: Optional[bytes]) -> Optional[float]:
    """The timestamp of a tracker event as Rasa stores it (JSON), if it has one."""
    if raw is None:
        return None
    try:
        return float(json.loads(raw)["timestamp"])
    except (ValueError, KeyError, TypeError):
        return None


def _stream_time(entry_id: Union[bytes, str]) -> float:
    return int(_text(entry_id).partition("-")[0]) / 1000


def _iso_time(value: Optional[str]) -> Optional[float]:
    try:
        return datetime.fromisoformat(value).timestamp() if value else None
    except ValueError:
        return None


def _float(value: Union[bytes, str, None], default: float) -> float:
    try:
        return float(_text(value)) if value not in (None, "", b"") else default
    except ValueError:
        return default


def _texts(fields: Dict[Union[bytes, str], Union[bytes, str]]) -> Dict[str, str]:
    return {_text(name): _text(value) for name, value in fields.items()}


def _text(value: Union[bytes, str]) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
