"""AtomicRedisLockStore: Rasa's ticket lock per conversation, safe with several Rasa processes.

Rasa 3.6's RedisLockStore changes a lock by GET, change in Python, SET. Two Rasa processes
taking a ticket for the same conversation at the same moment both read the same lock, both
append ticket n and one write wins: two messages of one conversation are then handled at the
same time, and the second turn overwrites the first's tracker. Here every change of a lock
(issue a ticket, drop expired tickets, finish serving) is one Lua script, so Redis applies
them one after the other, and the lock key expires with its last ticket (Rasa's never
expires: a process killed in a turn left it behind for good).

The lock is stored in Rasa's own format (TicketLock JSON, each ticket a JSON string in it), so Rasa's reading code
(`get_lock`, `_acquire_lock`) works unchanged. Configured in endpoints.yml
(`lock_store: type: bot.lock_store.AtomicRedisLockStore`).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Text

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

# Shared helpers of the scripts: decode the lock (or start one), keep the unexpired tickets,
# write it back with an expiry at its last ticket's (or delete it when none is left).
_LOCK_HELPERS = """
local function load(key, conversation_id)
  local raw = redis.call('GET', key)
  if not raw then return {conversation_id = conversation_id, tickets = {}} end
  local lock = cjson.decode(raw)
  local tickets = {}
  for _, ticket in ipairs(lock.tickets) do table.insert(tickets, cjson.decode(ticket)) end
  lock.tickets = tickets
  return lock
end
local function unexpired(tickets, now)
  local kept = {}
  for _, ticket in ipairs(tickets) do
    if ticket.expires >= now then table.insert(kept, ticket) end
  end
  return kept
end
local function store(key, lock, now)
  if #lock.tickets == 0 then redis.call('DEL', key) return end
  local last, encoded = 0, {}
  for _, ticket in ipairs(lock.tickets) do
    if ticket.expires > last then last = ticket.expires end
    table.insert(encoded, cjson.encode(ticket))
  end
  lock.tickets = encoded
  redis.call('SET', key, cjson.encode(lock), 'PX', math.max(1, math.ceil((last - now) * 1000)))
end
"""

# KEYS[1] lock key. ARGV[1] conversation id, ARGV[2] now (unix s), ARGV[3] lifetime (s).
# Returns the number of the ticket issued: one more than the last one held, 0 on a free lock.
ISSUE_TICKET = _LOCK_HELPERS + """
local now = tonumber(ARGV[2])
local lock = load(KEYS[1], ARGV[1])
lock.tickets = unexpired(lock.tickets, now)
local number = 0
if #lock.tickets > 0 then number = lock.tickets[#lock.tickets].number + 1 end
table.insert(lock.tickets, {number = number, expires = now + tonumber(ARGV[3])})
store(KEYS[1], lock, now)
return number
"""

# KEYS[1] lock key. ARGV[1] conversation id, ARGV[2] now, ARGV[3] ticket to drop ('' = none).
# Drops that ticket and the expired ones; deletes the lock when no ticket is left.
RELEASE_TICKETS = _LOCK_HELPERS + """
local now = tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local lock = load(KEYS[1], ARGV[1])
local kept = {}
for _, ticket in ipairs(unexpired(lock.tickets, now)) do
  if tostring(ticket.number) ~= ARGV[3] then table.insert(kept, ticket) end
end
lock.tickets = kept
store(KEYS[1], lock, now)
return #kept
"""


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        # Rasa builds a custom lock store from its endpoint config; the keys are RedisLockStore's.
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)
        self._issue = self.red.register_script(ISSUE_TICKET)
        self._release = self.red.register_script(RELEASE_TICKETS)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return int(self._issue(keys=[self._key(conversation_id)], args=[conversation_id, time.time(), lock_lifetime]))
        except Exception as error:  # Rasa's contract: a LockError, whatever Redis did
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    async def _acquire_lock(self, conversation_id: Text, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        """Ticket 0 is issued only on a free lock (no unexpired ticket before it, in the same
        script): it holds the lock at once, without reading the lock back from Redis."""
        if ticket == 0:
            return TicketLock(conversation_id, deque([Ticket(0, time.time() + LOCK_LIFETIME)]))
        return await super()._acquire_lock(conversation_id, ticket, wait_time_in_seconds)

    def update_lock(self, conversation_id: Text) -> None:
        """Drop expired tickets (a turn whose process died), atomically."""
        self._release(keys=[self._key(conversation_id)], args=[conversation_id, time.time(), ""])

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self._release(keys=[self._key(conversation_id)], args=[conversation_id, time.time(), str(ticket_number)])

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Finishing the last ticket deletes the lock in the same script (no check-then-delete)."""
        self.finish_serving(conversation_id, ticket_number)

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError("every change of a lock goes through a Lua script here")

    def _key(self, conversation_id: Text) -> str:
        return self.key_prefix + conversation_id
