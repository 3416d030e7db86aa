"""Typed domain errors: each carries a stable code and a message a clerk can act on, translated on display."""

from __future__ import annotations

from typing import Any

from core.i18n import N_, translate


class AnjuError(Exception):
    """Base of every error a user may see. `message` is an English msgid with `{name}` placeholders."""

    code = "error"
    default_message = N_("The operation failed.")

    def __init__(self, message: str | None = None, /, *, code: str | None = None, **params: Any) -> None:
        self.msgid = message or self.default_message
        if code is not None and "{code}" in self.msgid:
            # `code=` filling the message's {code} (a house or fee-item code) is data, not the error's own code.
            params["code"], code = code, None
        self.params = params
        if code:
            self.code = code
        super().__init__(self.msgid)

    def message(self, lang: str | None = None) -> str:
        return translate(self.msgid, self.params, lang)

    def __str__(self) -> str:
        return self.message()

    def to_dict(self, lang: str | None = None) -> dict[str, str]:
        return {"code": self.code, "message": self.message(lang)}


class ValidationError(AnjuError):
    """Bad input; nothing was written."""

    code = "invalid"
    default_message = N_("The input is not valid.")

    def __init__(self, message: str | None = None, /, *, field: str | None = None, **kw: Any) -> None:
        # `field` names the input at fault for the UI, and fills a `{field}` placeholder of the message.
        if field is not None and message is not None and "{field}" in message:
            kw.setdefault("field", field)
        super().__init__(message, **kw)
        self.field = field


class NotFound(AnjuError):
    code = "not_found"
    default_message = N_("The record was not found.")


class Conflict(AnjuError):
    """The request contradicts what already exists (duplicate key with other content, concurrent change)."""

    code = "conflict"
    default_message = N_("The request conflicts with existing data.")


class StateError(AnjuError):
    """A transition not allowed from the record's current state."""

    code = "invalid_state"
    default_message = N_("This action is not allowed in the record's current state.")


class PermissionDenied(AnjuError):
    code = "permission_denied"
    default_message = N_("You do not have permission to do this.")


class AuthenticationError(AnjuError):
    code = "authentication_failed"
    default_message = N_("Wrong user name or password.")


class InsufficientFunds(AnjuError):
    code = "insufficient_funds"
    default_message = N_("The account does not have enough funds.")


class IntegrityProblem(AnjuError):
    """Stored data fails a check (tampered audit log, corrupt backup, schema from a newer version)."""

    code = "integrity"
    default_message = N_("The data failed an integrity check.")


class SiteError(AnjuError):
    """The site directory is missing, already initialised, or not usable."""

    code = "site"
    default_message = N_("The site directory cannot be used.")
