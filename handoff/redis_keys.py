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
