"""The pages people open: the in-app chat (chat.html) and the agents' console (console.html),
plain HTML, CSS and JavaScript with no build step, served by the handoff service."""

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent
