"""The `rasa` command with this project's one change to the server: a failing tracker store
fails the turn (bot/strict_tracker_store.py) instead of keeping it in process memory.

    python -m bot.rasa_server run --model … --endpoints endpoints.yml …

Same arguments as `rasa`; scripts/run.py starts the Rasa server (and `rasa shell`) this way.
"""

from __future__ import annotations

from bot import strict_tracker_store


def main() -> None:
    strict_tracker_store.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
