"""Issue a shopper token as the store's app would (for trying the bot without the app).

    python -m handoff.issue_token u1001           # an in-app shopper
    python -m handoff.issue_token --guest demo-1  # a guest, for conversation demo-1

Signed with SHOPPER_TOKEN_SECRET (the development default unless set), valid for
SHOPPER_TOKEN_TTL_SECONDS.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from handoff.settings import get_settings
from handoff.shopper_tokens import issue_guest_token, issue_shopper_token


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff.issue_token", description=__doc__.split("\n\n")[0])
    parser.add_argument("subject", help="shopper id (e.g. u1001), or a conversation id with --guest")
    parser.add_argument("--guest", action="store_true", help="a guest token for this conversation id")
    args = parser.parse_args(argv)
    settings = get_settings()
    secret = settings.shopper_token_secret.get_secret_value()
    issue = issue_guest_token if args.guest else issue_shopper_token
    sys.stdout.write(issue(args.subject, secret, settings.shopper_token_ttl_seconds) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
