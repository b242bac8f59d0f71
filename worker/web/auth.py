"""Bearer tokens on the API's routes: checked on every request, so a revocation takes effect
on the next one. ``read`` may look; ``write`` may also send commands.

The console authenticates with its own session cookie; health, docs and the OpenAPI
document are public.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from worker.web.api.middleware import TOKEN_NAME
from worker.web.problems import Problem
from worker.web.tokens import ApiToken, verify_token

#: In the OpenAPI document as the ``bearer`` scheme; it never answers by itself.
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API token: `python -m worker tokens create NAME --scope read|write`.",
)


def _unauthorized(code: str, detail: str, error: str | None = None) -> Problem:
    challenge = 'Bearer realm="bus-worker"' + (f', error="{error}"' if error else "")
    return Problem(401, code, detail, headers={"WWW-Authenticate": challenge})


async def authorize(
    request: Request, scope: str, credentials: HTTPAuthorizationCredentials | None = None
) -> ApiToken:
    """The request's token if it is valid and allows ``scope``; else a 401 or a 403."""
    if credentials is None:
        credentials = await BEARER(request)
    if credentials is None:
        raise _unauthorized("missing_token", "send an API token: Authorization: Bearer <token>")
    token = await verify_token(credentials.credentials)
    if token is None:
        raise _unauthorized("invalid_token", "the token is unknown or revoked", "invalid_token")
    if not token.allows(scope):
        raise Problem(
            403,
            "insufficient_scope",
            f"the token {token.name!r} has the {token.scope} scope; this needs {scope}",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
        )
    # For the access log: who asked (the token's name, never the token).
    setattr(request.state, TOKEN_NAME, token.name)
    return token


def requires(scope: str) -> Callable[..., Awaitable[ApiToken]]:
    """A route dependency: the request's token must allow ``scope``."""

    async def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Security(BEARER),
    ) -> ApiToken:
        return await authorize(request, scope, credentials)

    return dependency
