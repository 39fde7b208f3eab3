"""Typed results: the protocol's objects as dataclasses (docs/protocol.md
§3, §8.1). Keys the daemon adds later land in ``extra``; a key missing from
a map is None. A wire key that is a Python keyword takes a trailing
underscore (``from`` -> ``from_``)."""

from dataclasses import dataclass, field, fields
from typing import Any, Dict, Optional


def _from_wire(cls, m):
    if not isinstance(m, dict):
        return m
    known = {}
    for f in fields(cls):
        if f.name == "extra":
            continue
        wire = f.name.rstrip("_")
        v = m.get(wire)
        conv = _NESTED.get((cls.__name__, wire))
        known[f.name] = conv(v) if conv and v is not None else v
    names = {f.name.rstrip("_") for f in fields(cls)}
    return cls(**known, extra={k: v for k, v in m.items() if k not in names})


@dataclass(frozen=True)
class Invitation:
    id: Optional[int] = None
    from_: Optional[str] = None
    to: Optional[str] = None
    note: Optional[str] = None
    priority: Optional[str] = None
    state: Optional[str] = None
    created_at: Optional[int] = None
    updated_at: Optional[int] = None
    expires_at: Optional[int] = None
    resend_of: Optional[int] = None
    attempt: Optional[int] = None
    reminded_at: Optional[int] = None
    introduced_by: Optional[str] = None
    automatic: Optional[bool] = None
    # The recipient's view only: connections the two share, up to 1000.
    mutual_count: Optional[int] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_wire(cls, m):
        return _from_wire(cls, m)


@dataclass(frozen=True)
class Connection:
    a: Optional[str] = None
    b: Optional[str] = None
    since: Optional[int] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_wire(cls, m):
        return _from_wire(cls, m)


@dataclass(frozen=True)
class Introduction:
    """docs/protocol.md, intro.*: ``invitation`` is the id of the
    invitation it became (once forwarded)."""
    id: Optional[int] = None
    from_: Optional[str] = None
    via: Optional[str] = None
    to: Optional[str] = None
    note: Optional[str] = None
    state: Optional[str] = None
    told: Optional[bool] = None
    created_at: Optional[int] = None
    updated_at: Optional[int] = None
    expires_at: Optional[int] = None
    invitation: Optional[int] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_wire(cls, m):
        return _from_wire(cls, m)


@dataclass(frozen=True)
class Event:
    seq: Optional[int] = None
    type: Optional[str] = None
    at: Optional[int] = None
    member: Optional[str] = None
    invitation: Optional[Invitation] = None
    connection: Optional[Connection] = None
    introduction: Optional[Introduction] = None
    other: Optional[str] = None
    code: Optional[str] = None
    message: Optional[str] = None
    until: Optional[int] = None
    plan: Optional[int] = None
    done: Optional[int] = None
    total: Optional[int] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_wire(cls, m):
        return _from_wire(cls, m)


_NESTED = {
    ("Event", "invitation"): Invitation.from_wire,
    ("Event", "connection"): Connection.from_wire,
    ("Event", "introduction"): Introduction.from_wire,
}


class Result:
    """A method's result: the answer's map, read as attributes
    (``r.invitation``, ``r.items``, ``r.next``) or by key (``r["next"]``).
    Known objects are converted: ``invitation`` to Invitation,
    ``connection`` to Connection, ``introduction`` to Introduction,
    ``events`` to a list of Event, and
    ``items`` to the method's item type. A key the map lacks reads as None
    through an attribute (``r.connection``: none made). as_dict() gives
    the map."""

    __slots__ = ("_d",)

    def __init__(self, d):
        object.__setattr__(self, "_d", d)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._d.get(name.rstrip("_"))

    def __getitem__(self, key):
        return self._d[key]

    def __contains__(self, key):
        return key in self._d

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)

    def __eq__(self, other):
        if isinstance(other, Result):
            other = other._d
        return self._d == other

    def get(self, key, default=None):
        return self._d.get(key, default)

    def as_dict(self):
        return dict(self._d)

    def __repr__(self):
        return "Result(%r)" % (self._d,)


def convert(result: Dict[str, Any], items: Optional[type] = None) -> Result:
    r = dict(result) if isinstance(result, dict) else {}
    if isinstance(r.get("invitation"), dict):
        r["invitation"] = Invitation.from_wire(r["invitation"])
    if isinstance(r.get("connection"), dict):
        r["connection"] = Connection.from_wire(r["connection"])
    if isinstance(r.get("introduction"), dict):
        r["introduction"] = Introduction.from_wire(r["introduction"])
    if isinstance(r.get("events"), list):
        r["events"] = [Event.from_wire(e) for e in r["events"]]
    if items is not None and isinstance(r.get("items"), list):
        r["items"] = [items.from_wire(i) for i in r["items"]]
    return Result(r)


__all__ = ["Invitation", "Connection", "Introduction", "Event", "Result",
           "convert"]
