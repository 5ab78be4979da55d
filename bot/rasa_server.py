"""The `rasa` command with this project's changes to the server:

- a failing tracker store fails the turn (bot/strict_tracker_store.py) instead of keeping it
  in process memory;
- events and action server responses are validated against Rasa's schemas compiled once
  (bot/event_validation.py) instead of re-checking the schema on every call;
- the action server is called over kept-alive connections (bot/pooled_endpoints.py), not a
  new connection per custom action;
- a tracker's applied events and copies are brought up to date with the new events instead
  of walking the whole conversation again (bot/incremental_tracker.py);
- a custom action call carries the events of the shopper's latest messages, as endpoints.yml
  says (bot/action_calls.py), not the whole session;
- the model's graph runs node after node in an order kept per target (bot/graph_runner.py),
  not through dask's scheduler on every parse and prediction.

    python -m bot.rasa_server run --model … --endpoints endpoints.yml …

Same arguments as `rasa`; scripts/run.py starts the Rasa server (and `rasa shell`) this way.
"""

from __future__ import annotations

from bot import (
    action_calls,
    event_validation,
    graph_runner,
    incremental_tracker,
    pooled_endpoints,
    strict_tracker_store,
)


def main() -> None:
    strict_tracker_store.install()
    event_validation.install()
    pooled_endpoints.install()
    incremental_tracker.install()
    action_calls.install()
    graph_runner.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
