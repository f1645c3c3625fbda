"""The rules for accounts and sessions: register, log in, refresh.

Wrong email and wrong password are the same `InvalidCredentials` (and take as long: an unknown
email is verified against a dummy hash), so logging in does not reveal which emails are
registered (registering does, `EmailTaken`, as a sign-up without e-mail verification must).
Failed logins for one email slow further attempts down exponentially (`LoginThrottled`), known
email or not: an attempt is claimed (and counted as a failure) before its password is checked,
so concurrent guesses cannot slip past the throttle. Roles come from the account's row at every
login and refresh, so a role an operator granted or revoked is in the next token.

Every refusal is a domain error; `storeplane_gateway.http.error_answers` says how the API answers it.
"""

from __future__ import annotations

import re

from storeplane_gateway.areas.accounts.passwords import MAX_PASSWORD, MIN_PASSWORD, Passwords
from storeplane_gateway.areas.accounts.schemas import TokenBody
from storeplane_gateway.areas.accounts.session_tokens import TokenIssuer
from storeplane_gateway.domain.errors import (
    InvalidCredentials,
    InvalidEmail,
    LoginThrottled,
    PasswordTooLong,
    RefreshAccountGone,
    RefreshTokenSpent,
    WeakPassword,
)
from storeplane_gateway.domain.users import EMAIL_PATTERN, MAX_EMAIL, User
from storeplane_gateway.ports import AuditNotes, LoginThrottle, Sessions, Users, no_notes

_EMAIL = re.compile(EMAIL_PATTERN)


def normalize_email(raw: str) -> str:
    return raw.strip().lower()


def checked_email(raw: str) -> str:
    """The email `raw` stands for (normalized), or InvalidEmail."""
    email = normalize_email(raw)
    if len(raw) > MAX_EMAIL or not _EMAIL.fullmatch(raw):  # the schema's pattern: what clients may send
        raise InvalidEmail()
    return email


def check_password(password: str) -> None:
    """Refuse a password too short (WeakPassword) or too long to be worth hashing (PasswordTooLong)."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        raise PasswordTooLong(MAX_PASSWORD)


class AccountService:
    """The account and session rules over the ports, the password hasher and the token issuer."""

    def __init__(
        self, *, users: Users, sessions: Sessions, logins: LoginThrottle, passwords: Passwords, tokens: TokenIssuer
    ) -> None:
        self._users = users
        self._sessions = sessions
        self._logins = logins
        self._passwords = passwords
        self._tokens = tokens

    async def register(self, raw_email: str, password: str, *, notes: AuditNotes = no_notes) -> TokenBody:
        """A new account (a `user`) and its first session; EmailTaken if the email is registered."""
        email = checked_email(raw_email)
        notes(email=email)
        check_password(password)
        user = await self._users.add(email, await self._passwords.hash(password))
        notes(actor=user)
        return await self._start_session(user)

    async def login(self, raw_email: str, password: str, *, notes: AuditNotes = no_notes) -> TokenBody:
        """A new session for the account, if the password is its own and the email may be tried now."""
        email = normalize_email(raw_email)
        if len(email) > MAX_EMAIL or len(password) > MAX_PASSWORD:
            raise InvalidCredentials()  # it could never have been registered; don't spend a hash on it
        notes(email=email)
        # Claimed (and counted as a failure) before the password is checked: concurrent guesses queue here.
        attempt = await self._logins.claim(email)
        if attempt.retry_after > 0:
            raise LoginThrottled(attempt.retry_after)
        stored = await self._users.by_email(email)
        if not await self._passwords.verify(stored.password_hash if stored else None, password) or stored is None:
            raise InvalidCredentials(attempt.delay_if_failed)
        await self._logins.succeeded(email)
        if self._passwords.needs_rehash(stored.password_hash):
            await self._users.replace_password_hash(stored.id, await self._passwords.hash(password))
        user = User(id=stored.id, email=stored.email, role=stored.role)  # the role as it is now
        notes(actor=user)
        return await self._start_session(user)

    async def refresh(self, refresh_token: str, *, notes: AuditNotes = no_notes) -> TokenBody:
        """The session's next tokens; the refresh token works once (used again, it ends the session)."""
        claims = self._tokens.read_refresh(refresh_token)
        stored = await self._users.by_id(claims.user_id)
        if stored is None:
            raise RefreshAccountGone()
        user = User(id=stored.id, email=stored.email, role=stored.role)  # a role granted or revoked since applies now
        notes(actor=user, target=claims.session_id)
        issued = self._tokens.issue(user, claims.session_id)
        rotated = await self._sessions.rotate(
            claims.session_id,
            user.id,
            used_jti=claims.jti,
            next_jti=issued.session.refresh_jti,
            expires_at=issued.session.expires_at,
        )
        if not rotated:
            raise RefreshTokenSpent()
        return issued.body

    async def _start_session(self, user: User) -> TokenBody:
        issued = self._tokens.issue(user)
        await self._sessions.start(issued.session)
        return issued.body
