"""Phone numbers and addresses in what the console shows: 138****5678 and 浙江省杭州市西湖区****,
except to the agent handling the case."""

from __future__ import annotations

import re
from typing import Any

from handoff.tickets.models import TicketOut

# Mainland mobile numbers, also glued to other digits' neighbours (+86, 手机13912870456).
MOBILE = re.compile(r"(?<!\d)(\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
# The area of a Chinese address (province, city, district or county) stays; street and door go.
ADDRESS_AREA = re.compile(r"^.*?(?:区|县|旗)|^.*?市")
ADDRESS_FIELDS = frozenset({"address"})
ADDRESS_KEPT_WITHOUT_AREA = 3
MASK = "****"


def mask_phones(text: str) -> str:
    return MOBILE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}", text)


def mask_address(address: str) -> str:
    """浙江省杭州市西湖区文三路 259 号 → 浙江省杭州市西湖区****; an address without an area keeps 3 characters."""
    address = address.strip()
    if not address:
        return address
    area = ADDRESS_AREA.match(address)
    kept = area.group(0) if area else address[:ADDRESS_KEPT_WITHOUT_AREA]
    return kept + MASK if len(kept) < len(address) else MASK


def masked_facts(value: Any, field: str = "") -> Any:
    """A ticket's order, case or slots with every phone masked, and address fields masked too."""
    if isinstance(value, str):
        return mask_address(value) if field in ADDRESS_FIELDS else mask_phones(value)
    if isinstance(value, dict):
        return {name: masked_facts(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [masked_facts(item, field) for item in value]
    return value


def masked_ticket(ticket: TicketOut) -> TicketOut:
    """The ticket as agents who do not handle it see it: every phone number and address masked."""
    inner = ticket.ticket
    transcript = [turn.copy(update={"text": mask_phones(turn.text)}) for turn in inner.transcript]
    masked = inner.copy(
        update={
            "summary_zh": mask_phones(inner.summary_zh),
            "transcript": transcript,
            "slots": masked_facts(inner.slots),
            "five_elements": masked_facts(inner.five_elements),
            "order": masked_facts(inner.order),
            "case": masked_facts(inner.case),
            "promises": [mask_phones(p) for p in inner.promises],
        }
    )
    return ticket.copy(update={"ticket": masked})
