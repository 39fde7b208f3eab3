"""The method table: every protocol method of docs/protocol.md §5, once.

Each line is M(wire name, arguments, ...): the arguments are the wire names
separated by spaces, a trailing ``*`` marks a required one; ``write=True``
for a method that changes the store (it may carry a ``request_id`` and is
never re-sent blindly after a dropped connection); ``items=`` the type of
the result's ``items`` list. The Python method is the wire name with dots
made underscores (``invite.send`` -> ``invite_send``); an argument that is a
Python keyword takes a trailing underscore (``from`` -> ``from_``).

Adding a protocol method is one line here; both the synchronous and the
asyncio client get it.
"""

from dataclasses import dataclass
from typing import Optional, Tuple

from .types import Connection, Introduction, Invitation


@dataclass(frozen=True)
class Method:
    wire: str
    args: Tuple[str, ...]
    required: Tuple[str, ...]
    write: bool = False
    items: Optional[type] = None

    @property
    def pyname(self) -> str:
        return self.wire.replace(".", "_")


def M(wire: str, args: str = "", write: bool = False,
      items: Optional[type] = None) -> Method:
    names = args.split()
    return Method(wire, tuple(a.rstrip("*") for a in names),
                  tuple(a.rstrip("*") for a in names if a.endswith("*")),
                  write, items)


METHODS = [
    M("hello"),
    M("invite.send", "from* to* note priority email expires_in", write=True),
    M("invite.accept", "actor* id*", write=True),
    M("invite.ignore", "actor* id*", write=True),
    M("invite.unignore", "actor* id*", write=True),
    M("invite.withdraw", "actor* id*", write=True),
    M("invite.resend", "actor* id* note email expires_in", write=True),
    M("invite.get", "id* actor"),
    M("invite.list", "member* box* state priority older_than limit after",
      items=Invitation),
    M("invite.history", "a* b*", items=Invitation),
    M("invite.can_send", "from* to* email"),
    M("invite.report", "actor* id* reason*", write=True),
    M("invite.advise", "member*"),
    M("connection.list", "member* limit after", items=Connection),
    M("connection.remove", "actor* other*", write=True),
    M("connection.mutual", "a* b* limit after"),
    M("member.settings.set", "member* invitations_from email "
      "auto_accept_min_mutual auto_accept_until hold_no_mutual "
      "hold_low_health hold_restricted_days hold_new_member_days "
      "digest_every", write=True),
    M("member.settings.get", "member*"),
    M("member.auto_accept.add", "member* other*", write=True),
    M("member.auto_accept.remove", "member* other*", write=True),
    M("member.auto_accept.list", "member* limit after"),
    M("member.block", "actor* other*", write=True),
    M("member.unblock", "actor* other*", write=True),
    M("stats.get", "member* window"),
    M("plan.withdraw_stale", "member* older_than per_day max_priority",
      write=True),
    M("plan.list", "member*"),
    M("plan.cancel", "actor* id*", write=True),
    M("server.info"),
    M("clock.advance", "seconds*", write=True),
    M("events.read", "member all after* limit"),
    M("intro.ask", "from* via* to* note", write=True),
    M("intro.forward", "actor* id* note", write=True),
    M("intro.decline", "actor* id* tell_sender", write=True),
    M("intro.get", "actor* id*"),
    M("intro.list", "member* box* limit after", items=Introduction),
    M("store.backup", "path*"),
    M("server.metrics"),
    M("member.export", "member*"),
    M("member.erase", "member*", write=True),
    M("import.rows", "rows*", write=True),
    # events.subscribe / events.unsubscribe: see Client.events(), which
    # keeps a connection of its own for them.
]

BY_WIRE = {m.wire: m for m in METHODS}
