"""Reference data pulled from the hub (fee standards, rates, routing rules, channel fee rates, users and roles).

Every item pulled is kept in sync_reference_items (kind, key → payload, version); a kind with a registered
handler is also applied to the site's own tables. The rule: data the hub owns is edited only at the hub, and a
later version always replaces the site's copy (last published wins); `is_hub_owned` lets a site service refuse
a local edit of such an item.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.errors import IntegrityProblem, StateError
from core.i18n import N_
from core.ids import new_id
from core.sync.models import SyncReferenceItem
from core.uow import UnitOfWork

KIND_ROLE = "security.role"
KIND_USER = "security.user"

ReferenceHandler = Callable[[UnitOfWork, str, dict[str, Any]], None]
_HANDLERS: dict[str, ReferenceHandler] = {}
_VALIDATORS: dict[str, Callable[[str, dict[str, Any]], object]] = {}
# Modules that register handlers for the kinds they own, imported before a pull is applied so that a process
# which never imported them (`anju sync` alone) still applies every kind instead of only storing it.
HANDLER_MODULES = ("core.payments.reference",)


def register_reference_handler(
    kind: str, handler: ReferenceHandler, *, validate: Callable[[str, dict[str, Any]], object] | None = None
) -> None:
    """Apply pulled items of `kind` with `handler(uow, key, payload)` inside the pull's transaction.

    `validate(key, payload)` raises on an item the handler would refuse; the hub runs it before publishing, so
    an invalid item never reaches the sites (where it would stop every pull after it).
    """
    _HANDLERS[kind] = handler
    if validate is not None:
        _VALIDATORS[kind] = validate


def validate_item(kind: str, key: str, payload: dict[str, Any]) -> None:
    """Raise (IntegrityProblem or ValidationError) if sites would refuse this item of a kind they apply."""
    _load_handler_modules()
    validate = _VALIDATORS.get(kind)
    if validate is not None:
        validate(key, payload)


def _load_handler_modules() -> None:
    for module in HANDLER_MODULES:
        importlib.import_module(module)


def is_hub_owned(session: Session, kind: str, key: str) -> bool:
    """True when (kind, key) came from the hub: the site must not edit it locally."""
    return (
        session.execute(
            select(SyncReferenceItem.version).where(
                SyncReferenceItem.kind == kind, SyncReferenceItem.key == key
            )
        ).first()
        is not None
    )


def refuse_if_hub_owned(session: Session, kind: str, key: str) -> None:
    """For site services: raise StateError when asked to edit an item the hub owns."""
    if is_hub_owned(session, kind, key):
        raise StateError(
            N_("{key} is managed at the central hub and cannot be changed at this site."),
            code="hub_owned",
            key=key,
        )


def apply_changes(uow: UnitOfWork, changes: list[list[Any]]) -> int:
    """Apply pulled changes [[version, kind, key, payload_json], ...] in version order; returns how many."""
    _load_handler_modules()
    s = uow.session
    for version, kind, key, payload_text in changes:
        payload = json.loads(payload_text)
        item = s.get(SyncReferenceItem, (kind, key))
        if item is None:
            s.add(
                SyncReferenceItem(
                    kind=kind, key=key, version=version, payload=payload_text, updated_at=uow.now
                )
            )
        elif item.version < version:
            item.version, item.payload, item.updated_at = version, payload_text, uow.now
        else:
            continue  # already have this or a later version
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(uow, key, payload)
    s.flush()
    return len(changes)


def _apply_role(uow: UnitOfWork, key: str, payload: dict[str, Any]) -> None:
    """A role the hub defines: name, description, permission patterns (replaced as a whole)."""
    from core.security.models import Role, RolePermission

    s = uow.session
    role = s.get(Role, key)
    _check_role(key, payload)
    patterns = sorted(set(payload.get("permissions", [])))
    if role is None:
        role = Role(
            code=key, name=payload.get("name", key), description=payload.get("description", ""), builtin=False
        )
        s.add(role)
    else:
        role.name = payload.get("name", role.name)
        role.description = payload.get("description", role.description)
    s.flush()
    s.execute(delete(RolePermission).where(RolePermission.role_code == key))
    s.add_all(RolePermission(role_code=key, pattern=pattern) for pattern in patterns)
    uow.audit("sync.role_pulled", "role", key, after={"permissions": patterns})


def _apply_user(uow: UnitOfWork, key: str, payload: dict[str, Any]) -> None:
    """A user account the hub owns: display name, password hash, status and roles (no personal data)."""
    from core.security.models import Role, User, UserRole

    s = uow.session
    _check_user(key, payload)  # the same check the hub ran before publishing it
    status = payload.get("status", "active")
    user = s.execute(select(User).where(User.username == key)).scalar_one_or_none()
    if user is None:
        user = User(
            id=new_id(),
            username=key,
            display_name=payload.get("display_name") or key,
            password_hash=payload["password_hash"],
            status=status,
            failed_logins=0,
            password_changed_at=uow.now,
            created_at=uow.now,
        )
        s.add(user)
    else:
        if user.password_hash != payload["password_hash"]:
            user.password_changed_at = uow.now
        user.display_name = payload.get("display_name") or key
        user.password_hash = payload["password_hash"]
        user.status = status
    s.flush()
    roles = sorted(set(payload.get("roles", [])))
    missing = [r for r in roles if s.get(Role, r) is None]
    if missing:
        raise IntegrityProblem(
            N_("The hub's user {user} holds unknown roles: {roles}."), user=key, roles=", ".join(missing)
        )
    s.execute(delete(UserRole).where(UserRole.user_id == user.id))
    s.add_all(UserRole(user_id=user.id, role_code=r) for r in roles)
    uow.audit("sync.user_pulled", "user", user.id, after={"username": key, "status": status, "roles": roles})


def _check_role(key: str, payload: dict[str, Any]) -> None:
    permissions = payload.get("permissions", []) if isinstance(payload, dict) else None
    if not isinstance(permissions, list) or not all(isinstance(x, str) and x for x in permissions):
        raise IntegrityProblem(N_("The hub sent an invalid role {role}."), role=key)


def _check_user(key: str, payload: dict[str, Any]) -> None:
    from core.security.models import USER_STATUSES

    if (
        not isinstance(payload, dict)
        or payload.get("status", "active") not in USER_STATUSES
        or not isinstance(payload.get("password_hash"), str)
        or not payload["password_hash"]
        or not isinstance(payload.get("roles", []), list)
    ):
        raise IntegrityProblem(N_("The hub sent an invalid user account {user}."), user=key)


register_reference_handler(KIND_ROLE, _apply_role, validate=_check_role)
register_reference_handler(KIND_USER, _apply_user, validate=_check_user)
