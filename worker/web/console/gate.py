"""Who is asking, and may they: the session cookie, the role read afresh on every request,
and the CSRF token every POST must carry.

Nothing is done for a POST before all three pass: an open session, the session's own CSRF
token in the form, and a role with the permission the action needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.requests import Request

from worker.web.admins import Administrator, find_administrator
from worker.web.console.sessions import COOKIE, OpenSession, Sessions, same_token

#: What each permission lets a role do, for the message of a refusal.
ALLOWS = {
    "look": "look at the console",
    "act": "act on dead letters and sagas (operator or admin)",
    "manage": "manage administrators and API tokens (admin)",
}


class LoginNeeded(Exception):
    """No open session: a page asks to log in, a POST is refused."""


class Refused(Exception):
    """An answer other than the page: its status and the one line that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Visit:
    """The logged-in administrator of this request, as the database has them now."""

    administrator: Administrator
    session: OpenSession

    @property
    def name(self) -> str:
        return self.administrator.name

    @property
    def role(self) -> str:
        return self.administrator.role

    @property
    def csrf(self) -> str:
        return self.session.csrf

    def can(self, permission: str) -> bool:
        return self.administrator.can(permission)


def refusal(visit: Visit, permission: str) -> Refused:
    return Refused(403, f"{visit.name} is {visit.role}: only roles that may {ALLOWS[permission]}")


class Gate:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    async def visit(self, request: Request) -> Visit | None:
        """The request's administrator; a removed one's session is closed on the spot."""
        session = await self.sessions.find(request.cookies.get(COOKIE))
        if session is None:
            return None
        administrator = await find_administrator(session.administrator)
        if administrator is None:
            await self.sessions.close(session.id)
            return None
        return Visit(administrator, session)

    async def look(self, request: Request, permission: str = "look") -> Visit:
        visit = await self.visit(request)
        if visit is None:
            raise LoginNeeded()
        if not visit.can(permission):
            raise refusal(visit, permission)
        return visit

    async def act(self, request: Request, permission: str) -> tuple[Visit, FormData]:
        """A POST's administrator and form, once its CSRF token and the role are checked."""
        visit = await self.visit(request)
        if visit is None:
            raise LoginNeeded()
        form = await request.form()
        if not same_token(form.get("csrf"), visit.csrf):
            raise Refused(
                403, "the form's CSRF token is missing or wrong: nothing was done (reload the page)"
            )
        if not visit.can(permission):
            raise refusal(visit, permission)
        return visit, form


def text(form: FormData, name: str) -> str:
    """A form field as text ("" when absent, or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""
