"""connreq: a client for connreqd (docs/protocol.md), synchronous
(Client) and asyncio (AsyncClient), generated from one method table
(connreq.methods.METHODS). See docs/python-client.md."""

from . import errors
from .aio import AsyncClient, AsyncEventStream
from .client import Client, EventStream, Pending, Pipeline
from .errors import *  # noqa: F401,F403  (ServerError and one per code)
from .methods import METHODS
from .transport import default_socket
from .types import Connection, Event, Introduction, Invitation, Result

__version__ = "0.1.0"
__all__ = (["Client", "AsyncClient", "EventStream", "AsyncEventStream",
            "Pending", "Pipeline", "METHODS", "default_socket",
            "Invitation", "Connection", "Introduction", "Event",
            "Result"]
           + errors.__all__)
