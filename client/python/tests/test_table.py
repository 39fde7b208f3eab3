"""The method table and the error codes against the daemon's sources and
docs/protocol.md §5, so that a method or code added there and not here
fails here (adding it is one line: docs/python-client.md)."""

import os
import re

from connreq.errors import CODES
from connreq.methods import BY_WIRE

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "..")
OWN = {"events.subscribe", "events.unsubscribe"}    # Client.events()


def read(path):
    with open(os.path.join(TOP, path)) as f:
        return f.read()


def test_every_method_of_vocab_h_is_in_the_table():
    block = re.search(r"#define PROTO_METHODS\(X\)(.*?)\n\n",
                      read("proto/vocab.h"), re.S).group(1)
    wire = set(re.findall(r'X\(\w+, "([^"]+)"\)', block))
    assert wire - OWN - set(BY_WIRE) == set()
    assert set(BY_WIRE) - wire == set()


def test_every_error_code_has_its_class():
    block = re.search(r"#define PROTO_ERRORS\(X\)(.*?)\n\n",
                      read("proto/proto.h"), re.S).group(1)
    codes = set(re.findall(r'X\(\w+, "([^"]+)"\)', block)) - {"OK"}
    assert codes - set(CODES) == set()


def test_arguments_and_writes_match_protocol_md():
    rows = re.findall(r"^\| `([a-z_.]+)` \| (yes|–|-) \| ([^|]*) \|",
                      read("docs/protocol.md"), re.M)
    seen = set()
    for wire, writes, args in rows:
        if wire in OWN or wire not in BY_WIRE and "." not in wire:
            continue
        spec = BY_WIRE[wire]
        seen.add(wire)
        names = re.findall(r"`([a-z_]+)(\*?)`", args)
        if wire == "events.read":       # "`member` or `all`, `after*`"
            names = [("member", ""), ("all", "")] + [
                n for n in names if n[0] not in ("member", "all")]
        assert set(spec.args) == {n for n, _ in names}, wire
        assert set(spec.required) == {n for n, r in names if r}, wire
        assert spec.write == (writes == "yes"), wire
    assert seen == set(BY_WIRE)
