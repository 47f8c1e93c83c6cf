"""`kpledger token list`, `kpledger token revoke`, and `token create --expires`.

`list` shows each token's id (the start of its hash), name, role, participant, when it
was created, when it expires, when it was last used and whether it was revoked; never
the token, which is not stored. `revoke` takes a name (every token of that name) or an
id prefix of at least 6 hex digits, or the token itself.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, time

from ledger.tokens import TOKEN_PREFIX, ApiToken, token_digest, token_id

__all__ = ["add_token_commands", "expiry"]

MIN_ID_PREFIX = 6
_HEX = re.compile(r"^[0-9a-f]+$")


def expiry(text: str) -> datetime:
    """`--expires`: a date (the token expires at its start, 00:00 UTC) or an ISO 8601
    date-time with an offset; it must be in the future."""
    try:
        if len(text) == 10:
            moment = datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time(), UTC)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a date YYYY-MM-DD nor a date-time with an offset"
        )
    if moment <= datetime.now(UTC):
        raise argparse.ArgumentTypeError(f"{text!r} is not in the future")
    return moment


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _list(open_ledger: Callable[[], object]) -> Callable[[argparse.Namespace], int]:
    def run(_: argparse.Namespace) -> int:
        ledger: object = open_ledger()
        records: list[ApiToken] = ledger.tokens()  # type: ignore[attr-defined]
        columns = ["id", "name", "role", "participant", "created", "expires", "last used"]
        rows = [[*columns, "revoked"]]
        rows += [
            [
                token_id(record.digest),
                record.name,
                record.role,
                record.participant or "-",
                _when(record.created_on),
                _when(getattr(record, "expires_at", None)),
                _when(getattr(record, "last_used", None)),
                _when(getattr(record, "revoked_at", None)),
            ]
            for record in records
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        return 0

    return run


def matching(records: list[ApiToken], which: str) -> list[ApiToken]:
    """The tokens `which` names: the token itself, every token of that name, or the one
    token whose id starts with it (at least 6 hex digits)."""
    if which.startswith(TOKEN_PREFIX):
        digest = token_digest(which)
        return [record for record in records if record.digest == digest]
    named = [record for record in records if record.name == which]
    if named:
        return named
    prefix = which.lower()
    if len(prefix) >= MIN_ID_PREFIX and _HEX.match(prefix):
        return [record for record in records if record.digest.startswith(prefix)]
    return []


def _revoke(open_ledger: Callable[[], object]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        ledger: object = open_ledger()
        found = matching(ledger.tokens(), args.which)  # type: ignore[attr-defined]
        if not found:
            print(
                f"kpledger: no token is named {args.which!r} or has an id starting with it "
                f"(ids: kpledger token list; at least {MIN_ID_PREFIX} hex digits)",
                file=sys.stderr,
            )
            return 1
        if len({record.name for record in found}) > 1:
            print(
                f"kpledger: {args.which!r} names several tokens: give more of the id",
                file=sys.stderr,
            )
            return 1
        ledger.revoke_tokens(found)  # type: ignore[attr-defined]
        for record in found:
            who = record.role + (f" of {record.participant}" if record.participant else "")
            print(f"revoked {token_id(record.digest)} {record.name} ({who})")
        return 0

    return run


def add_token_commands(
    token_commands: argparse._SubParsersAction,
    open_ledger: Callable[[], object],
) -> None:
    """Adds `list` and `revoke` to `kpledger token`."""
    listing = token_commands.add_parser(
        "list",
        help="list the tokens: id, name, role, participant, created, expires, last used",
        description="Lists every token ever created, oldest first: its id (the start of "
        "its hash), name, role, participant, when it was created, when it expires, when it "
        "was last used (to the hour) and, if so, when it was revoked. Never the token.",
    )
    listing.set_defaults(run=_list(open_ledger))
    revoke = token_commands.add_parser(
        "revoke",
        help="revoke tokens by name or id prefix; refused by every server within a second",
        description="Revokes every token of the name given, or the one token whose id "
        "starts with the prefix given (at least 6 hex digits; see kpledger token list), or "
        "the token itself. Every kpledger serve process refuses it within a second.",
    )
    revoke.add_argument("which", metavar="NAME|PREFIX", help="a token's name or id prefix")
    revoke.set_defaults(run=_revoke(open_ledger))
