"""The browser's session: its refresh token in an HttpOnly cookie that only the refresh route is sent.

A client that sends `X-Storeplane-Session: cookie` to register, log in or refresh gets the same answer
minus the refresh token, which comes instead as the `storeplane_refresh` cookie (`HttpOnly`: no script
reads it; `Secure`; `SameSite=Strict`; `Path=/api/v1/auth/refresh`: no other route is sent it). So the
dashboard keeps no token in `localStorage` and stays logged in across reloads (it refreshes on start).
Without the header the cookie is ignored and the JSON flow of the CLI and integrators is unchanged.

Against cross-site request forgery, the cookie is `SameSite=Strict` and the refresh route reads it only
with the custom header, which a cross-site form cannot send and a cross-origin `fetch` can send only after
a CORS preflight the gateway never grants for it (docs/security.md).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Response
from litestar.datastructures import Cookie
from litestar.params import CookieParameter, HeaderParameter

from storeplane_gateway.areas.accounts.schemas import BrowserTokenBody, TokenBody

SESSION_HEADER = "X-Storeplane-Session"
COOKIE_MODE = "cookie"
REFRESH_COOKIE = "storeplane_refresh"
REFRESH_PATH = "/api/v1/auth/refresh"

SessionMode = Annotated[
    str,
    HeaderParameter(
        name=SESSION_HEADER,
        pattern=f"^({COOKIE_MODE})?$",  # empty: as if not sent
        required=False,
        description=(
            "`cookie`: a browser's session. The refresh token is set as the HttpOnly cookie "
            f"`{REFRESH_COOKIE}` (sent to `{REFRESH_PATH}` only) instead of being in the body."
        ),
    ),
]
RefreshCookie = Annotated[
    str,
    CookieParameter(
        name=REFRESH_COOKIE,
        required=False,
        description=f"The browser's refresh token; read only with `{SESSION_HEADER}: cookie`.",
    ),
]
TokenAnswer = Response[TokenBody | BrowserTokenBody]


def refresh_cookie(token: str, max_age: int) -> Cookie:
    return Cookie(
        key=REFRESH_COOKIE,
        value=token,
        path=REFRESH_PATH,
        max_age=max_age,
        httponly=True,
        secure=True,
        samesite="strict",
    )


def cleared_cookie() -> Cookie:
    """The refresh cookie, expired: the browser forgets it."""
    cookie = refresh_cookie("", 0)
    cookie.description = "A browser's refresh cookie, cleared"
    return cookie


def cleared_cookie_header() -> dict[str, str]:
    """`Set-Cookie` clearing the refresh cookie, for an error answer (which has headers, not cookies)."""
    return {"Set-Cookie": cleared_cookie().to_header(header="")}


# What the OpenAPI schema shows a route may set (`documentation_only`: the handler sets the real one).
DOCUMENTED_COOKIE = Cookie(
    key=REFRESH_COOKIE,
    path=REFRESH_PATH,
    httponly=True,
    secure=True,
    samesite="strict",
    description=f"With `{SESSION_HEADER}: cookie` only: the refresh token (HttpOnly)",
    documentation_only=True,
)


def token_answer(body: TokenBody, mode: str, *, status_code: int = 200) -> TokenAnswer:
    """The tokens as JSON; in cookie mode the refresh token goes into the cookie instead of the body."""
    if mode != COOKIE_MODE:
        return Response(body, status_code=status_code)
    browser = BrowserTokenBody(
        token=body.token,
        token_type=body.token_type,
        expires_in=body.expires_in,
        refresh_expires_in=body.refresh_expires_in,
        user=body.user,
    )
    return Response(
        browser,
        status_code=status_code,
        cookies=[refresh_cookie(body.refresh_token, body.refresh_expires_in)],
    )
