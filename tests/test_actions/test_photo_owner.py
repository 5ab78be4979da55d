"""Whose photos a conversation may use: the owner the photo store recorded at upload."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.conversation import photo_owner


def tracker(sender_id: str) -> Tracker:
    return Tracker(sender_id, {}, {"text": "照片发了", "metadata": {}}, [], False, None, {}, "action_listen")


def test_a_guest_behind_the_gateway_owns_the_photos_of_their_conversation():
    # the gateway's guest conversation id is the token's subject, which the photo store records as owner
    assert photo_owner(tracker("guest:3f9c2a")) == "guest:3f9c2a"


def test_a_guest_on_the_rest_channel_owns_the_photos_uploaded_for_that_conversation():
    assert photo_owner(tracker("demo-1")) == "guest:demo-1"
