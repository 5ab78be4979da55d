"""Phone numbers in what the console shows: 138****5678, except to the agent handling the case."""

from __future__ import annotations

import re

from handoff.tickets.models import TicketOut

# Mainland mobile numbers, also glued to other digits' neighbours (+86, 手机13912870456).
MOBILE = re.compile(r"(?<!\d)(\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def mask_phones(text: str) -> str:
    return MOBILE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}", text)


def masked_ticket(ticket: TicketOut) -> TicketOut:
    """The ticket as agents who do not handle it see it: every phone number masked."""
    inner = ticket.ticket
    transcript = [turn.copy(update={"text": mask_phones(turn.text)}) for turn in inner.transcript]
    slots = {name: mask_phones(value) if isinstance(value, str) else value for name, value in inner.slots.items()}
    masked = inner.copy(
        update={
            "summary_zh": mask_phones(inner.summary_zh),
            "transcript": transcript,
            "slots": slots,
            "promises": [mask_phones(p) for p in inner.promises],
        }
    )
    return ticket.copy(update={"ticket": masked})
