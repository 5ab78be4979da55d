"""Every Redis key the handoff service uses, one template each, one prefix.

Fill a template with `.format(...)`; never build a key anywhere else.
Rasa's own tracker and lock stores use their own (alphanumeric) prefix from endpoints.yml.
"""

from __future__ import annotations

PREFIX = "shouhou:"

# Hash: metadata of one uploaded photo (owner, sha256, width, height, bytes, content_type, created_at, duplicate_of).
PHOTO = PREFIX + "photo:{photo_id}"
# Hash: sha256 of a photo's pixels -> id of the owner's first upload of it (spots the same photo sent twice).
PHOTO_HASHES = PREFIX + "photo_hashes:{owner}"

# Hash: who answers one conversation (owner bot|waiting|agent, agent_id, ticket_id of its open ticket, updated_at).
CONVERSATION = PREFIX + "conversation:{conversation_id}"
# Hash: one handoff ticket (conversation_id, status, priority, created_at, agent_id, claimed_at, ticket = TicketIn JSON).
TICKET = PREFIX + "ticket:{ticket_id}"
# Sorted set: ids of waiting tickets, score = priority * 10^12 + creation sequence (lowest is served first).
TICKET_QUEUE = PREFIX + "tickets:waiting"
# String: counter giving each ticket its creation sequence (orders the queue within a priority).
TICKET_SEQUENCE = PREFIX + "tickets:sequence"
# Stream: ticket events (ticket_created, ticket_claimed) for the agents' console, capped near 10000 entries.
TICKET_EVENTS = PREFIX + "tickets:events"
# Set: ids of the tickets one agent holds now (claimed or transferred to them), kept by the ticket scripts.
AGENT_TICKETS = PREFIX + "agent_tickets:{agent_id}"
# Sorted set: agent_id -> unix time of the agent's last heartbeat (entries older than the window are pruned).
AGENTS_ONLINE = PREFIX + "agents:online"

# Hash: one agents' console account (display_name, role, password_hash = Argon2id, created_at).
AGENT = PREFIX + "agent:{agent_id}"
# Set: ids of every agent account (listing them never needs KEYS or SCAN).
AGENTS = PREFIX + "agents:all"
# Stream: everything said in one conversation (shopper, bot, agent, system lines), read by the chat page and the console from their last id; expires with the conversation.
FEED = PREFIX + "feed:{conversation_id}"
# String: the gateway instance taking a turn in one conversation holds it (its token); a short lease, renewed while the turn runs.
CONVERSATION_TURN = PREFIX + "turn:{conversation_id}"
# String: a shopper message's client id: "pending:<message id>" while its turn runs, "done" once its lines are in the feed (a resend is not handled twice); expires after a day.
CLIENT_MESSAGE = PREFIX + "client_message:{conversation_id}:{client_id}"
# String: messages counted in one rate-limit window of one sender ("shopper:<id>" or "agent:<id>"); expires with the window.
RATE = PREFIX + "rate:{sender}:{window}"
# List: agents' private notes on one ticket (JSON: agent_id, agent_name, text, at), the latest 200.
TICKET_NOTES = PREFIX + "ticket_notes:{ticket_id}"
# Stream: shopper messages agents marked "bot misunderstood", with the right intent (the marks as made; the inbox counts them).
MISUNDERSTOOD = PREFIX + "inbox:misunderstood"
# Hash: one review-inbox item, messages grouped by their text (text, count, first/last seen, reasons, predicted intent...); expires.
INBOX_ITEM = PREFIX + "inbox:item:{key}"
# Sorted set: open inbox items by count (the trainers' page, most frequent first).
INBOX_OPEN = PREFIX + "inbox:open"
# Hash: day (YYYY-MM-DD, China Standard Time) -> messages that landed in the inbox that day.
INBOX_DAILY = PREFIX + "inbox:daily"
# String: the supervisors' canned replies (快捷短语) as JSON {"replies": [...]}; absent = the defaults in handoff/console/canned_replies.yml.
CANNED_REPLIES = PREFIX + "canned_replies"
# Hash: the trainers' retraining job (status running|failed|ready, step, log JSON, candidate, comparison JSON, times).
RETRAIN_JOB = PREFIX + "retrain:job"
# String: held while a retraining job runs (one at a time); expires after an hour in case the job died.
RETRAIN_LOCK = PREFIX + "retrain:lock"
# Rasa's own ticket lock of one conversation (bot/lock_store.py; endpoints.yml key_prefix "shouhou"): present while Rasa handles a message of it.
RASA_LOCK = "shouhou:lock:{conversation_id}"
