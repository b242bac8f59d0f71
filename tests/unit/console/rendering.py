"""What the console's unit tests share: a console over settings with a findable AMQP
password, and a visit of each role."""

from __future__ import annotations

from tests.wiring import CONTEXTS
from worker.config import Settings
from worker.web.admins import Administrator
from worker.web.console.gate import Visit
from worker.web.console.sessions import OpenSession
from worker.web.console.state import Console

SETTINGS = Settings(extra_contexts="", amqp_url="amqp://ops:hunter2-secret@rabbit:5672/prod")
CONSOLE = Console(SETTINGS, CONTEXTS)


def visit(role: str) -> Visit:
    session = OpenSession("s" * 64, role, "csrf-of-this-session")
    return Visit(Administrator(f"{role}-1", role), session)
