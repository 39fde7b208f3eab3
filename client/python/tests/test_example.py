"""docs/python-client.md's web handler, run as written."""

import io
import os
import re
from wsgiref.util import setup_testing_defaults

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.join(HERE, "..", "..", "..", "docs", "python-client.md")


def request(app, method, path, user, body=b"", query=""):
    env = {"REQUEST_METHOD": method, "PATH_INFO": path,
           "QUERY_STRING": query, "CONTENT_LENGTH": str(len(body)),
           "CONTENT_TYPE": "application/x-www-form-urlencoded",
           "wsgi.input": io.BytesIO(body)}
    if user is not None:
        env["REMOTE_USER"] = user
    setup_testing_defaults(env)
    got = {}

    def start_response(status, headers):
        got["status"] = status
    out = b"".join(app(env, start_response)).decode()
    return got["status"], out


def test_web_example(daemon, monkeypatch):
    code = re.search(r"```python\n(.*?)```", open(DOC).read(), re.S).group(1)
    monkeypatch.setenv("CONNREQ_SOCKET", daemon.path)
    ns = {"__name__": "example"}
    exec(compile(code, DOC, "exec"), ns)
    app = ns["app"]
    st, out = request(app, "POST", "/invite", "ann", b"to=bob&note=Hi+Bob")
    assert st == "200 OK" and re.search(r"Invitation \d+ sent", out), out
    st, out = request(app, "GET", "/", "bob")
    assert st == "200 OK" and "<li>ann: Hi Bob</li>" in out, out
    st, out = request(app, "POST", "/invite", "ann", b"to=ann")
    assert st == "409 Conflict" and "Not sent:" in out, out
    st, out = request(app, "POST", "/invite", "ann", b"to=")
    assert st.startswith("400"), (st, out)
    # Without a login (wsgiref's own server sets no REMOTE_USER), ?me=
    # says who it is, and the form posts as them; with neither, 401.
    st, out = request(app, "GET", "/", None, query="me=bob")
    assert st == "200 OK" and "<li>ann: Hi Bob</li>" in out, out
    assert 'action="/invite?me=bob"' in out, out
    st, out = request(app, "POST", "/invite", None, b"to=carol",
                      query="me=bob")
    assert st == "200 OK" and re.search(r"Invitation \d+ sent", out), out
    st, out = request(app, "GET", "/", None)
    assert st.startswith("401") and "?me=" in out, (st, out)
    ns["client"].close()
