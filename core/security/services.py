"""User and role services: accounts, roles, passwords, login with lockout, and the built-in role sync.

Audit records never hold a password or its hash, and personal data only masked.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core import validate
from core.clock import BUSINESS_TZ, today
from core.context import Actor, Context
from core.errors import AuthenticationError, Conflict, NotFound, PermissionDenied, StateError, ValidationError
from core.i18n import N_, gettext
from core.ids import new_id
from core.security import passwords
from core.security.models import USER_ACTIVE, USER_DISABLED, Role, RolePermission, User, UserRole
from core.security.permissions import BUILTIN_ROLES
from core.security.pii import KIND_ID_NUMBER, KIND_PHONE, mask, reveal_or_mask

USERNAME_RE = re.compile(r"^[a-z0-9_.-]{3,32}$")
DISPLAY_NAME_MAX_CHARS = 100
# What a login form may send as a user name (longer input is cut, so an audit record stays bounded).
USERNAME_INPUT_MAX_CHARS = 64
LOGIN_FAILURES_MAX = 5
LOCKOUT = timedelta(minutes=15)
LIST_USERS_MAX = 1000
ADMIN_ROLE = "admin"


@dataclass(frozen=True)
class UserView:
    """A user as shown: phone and ID number masked unless the viewer holds pii.reveal."""

    id: uuid.UUID
    username: str
    display_name: str
    status: str
    roles: tuple[str, ...]
    failed_logins: int
    locked_until: datetime | None
    password_changed_at: datetime
    last_login_at: datetime | None
    created_at: datetime
    phone: str | None
    id_number: str | None


@dataclass(frozen=True)
class RoleView:
    code: str
    name: str  # an English msgid for built-in roles: show `title`
    description: str
    builtin: bool
    permissions: tuple[str, ...]

    @property
    def title(self) -> str:
        return gettext(self.name)


# ---------------------------------------------------------------------------------------------- helpers


def _clean_username(username: str) -> str:
    return (username or "").strip().lower()


def _valid_username(username: str) -> str:
    name = _clean_username(username)
    if not USERNAME_RE.match(name):
        raise ValidationError(
            N_("A user name is 3 to 32 characters: lower-case letters, digits, '_', '.' or '-'."),
            field="username",
        )
    return name


def _valid_display_name(display_name: str, username: str) -> str:
    name = (display_name or "").strip() or username
    if len(name) > DISPLAY_NAME_MAX_CHARS:
        raise ValidationError(
            N_("A display name can have at most {max} characters."),
            field="display_name",
            max=DISPLAY_NAME_MAX_CHARS,
        )
    return name


def _valid_phone(phone: str | None) -> str | None:
    if phone is None or not phone.strip():
        return None
    return validate.mobile(phone)


def _valid_id_number(ctx: Context, id_number: str | None) -> str | None:
    if id_number is None or not id_number.strip():
        return None
    return validate.id_number(id_number, today=today(ctx.clock))


def _role_codes(roles: Iterable[str]) -> tuple[str, ...]:
    if isinstance(roles, str):
        roles = (roles,)
    return tuple(sorted({r.strip() for r in roles if r and r.strip()}))


def _role_patterns(session: Session, codes: Sequence[str]) -> dict[str, set[str]]:
    """Patterns of each role in `codes`; ValidationError naming the first code that does not exist."""
    found = set(session.scalars(select(Role.code).where(Role.code.in_(codes))))
    for code in codes:
        if code not in found:
            raise ValidationError(N_("There is no role {role}."), field="roles", role=code)
    patterns: dict[str, set[str]] = {code: set() for code in codes}
    for code, pattern in session.execute(
        select(RolePermission.role_code, RolePermission.pattern).where(RolePermission.role_code.in_(codes))
    ):
        patterns[code].add(pattern)
    return patterns


def _check_may_grant(actor: Actor, patterns: dict[str, set[str]]) -> None:
    # Holding users.manage must not be a way to more power: a role is granted only by someone who holds
    # everything in it (fnmatch treats the held pattern as the wider one: "ledger.*" covers "ledger.post").
    for code, role_patterns in patterns.items():
        for pattern in role_patterns:
            if not actor.can(pattern):
                raise PermissionDenied(
                    N_(
                        "You cannot grant the role {role}: it has permissions you do not hold ({permission})."
                    ),
                    role=code,
                    permission=pattern,
                )


def _get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == _clean_username(username))).first()
    if user is None:
        raise NotFound(N_("There is no user {username}."), username=username)
    return user


def _user_roles(session: Session, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[str, ...]]:
    roles: dict[uuid.UUID, list[str]] = {uid: [] for uid in user_ids}
    if user_ids:
        rows = session.execute(
            select(UserRole.user_id, UserRole.role_code)
            .where(UserRole.user_id.in_(user_ids))
            .order_by(UserRole.role_code)
        )
        for uid, code in rows:
            roles[uid].append(code)
    return {uid: tuple(codes) for uid, codes in roles.items()}


def _plain_pii(ctx: Context, user: User) -> tuple[str | None, str | None]:
    phone = ctx.pii.decrypt(user.phone_enc) if user.phone_enc is not None else None
    id_number = ctx.pii.decrypt(user.id_number_enc) if user.id_number_enc is not None else None
    return phone, id_number


def _view(ctx: Context, user: User, roles: tuple[str, ...]) -> UserView:
    phone, id_number = _plain_pii(ctx, user)
    return UserView(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        status=user.status,
        roles=roles,
        failed_logins=user.failed_logins,
        locked_until=user.locked_until,
        password_changed_at=user.password_changed_at,
        last_login_at=user.last_login_at,
        created_at=user.created_at,
        phone=reveal_or_mask(ctx.actor, KIND_PHONE, phone),
        id_number=reveal_or_mask(ctx.actor, KIND_ID_NUMBER, id_number),
    )


def _audit_state(ctx: Context, user: User, roles: Sequence[str]) -> dict:
    """What the audit log may hold about a user: no hash, personal data masked."""
    phone, id_number = _plain_pii(ctx, user)
    return {
        "username": user.username,
        "display_name": user.display_name,
        "status": user.status,
        "roles": list(roles),
        "phone": mask(KIND_PHONE, phone) if phone else None,
        "id_number": mask(KIND_ID_NUMBER, id_number) if id_number else None,
    }


def _refuse_if_hub_owned(session: Session, user: User) -> None:
    """A user account pulled from the central hub is edited only there (status, roles, password)."""
    from core.sync.reference import KIND_USER, refuse_if_hub_owned

    refuse_if_hub_owned(session, KIND_USER, user.username)


def _is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def _admins_left(session: Session, excluding: uuid.UUID) -> int:
    return session.scalar(
        select(func.count())
        .select_from(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role_code == ADMIN_ROLE, User.status == USER_ACTIVE, User.id != excluding)
    )


def _check_not_last_admin(session: Session, user: User) -> None:
    # Disabling or demoting the last active administrator would leave nobody able to manage users.
    is_admin = session.scalar(
        select(func.count())
        .select_from(UserRole)
        .where(UserRole.user_id == user.id, UserRole.role_code == ADMIN_ROLE)
    )
    if is_admin and user.status == USER_ACTIVE and _admins_left(session, user.id) == 0:
        raise StateError(N_("{username} is the last active administrator."), username=user.username)


# ---------------------------------------------------------------------------------------------- roles


def ensure_builtin_roles(ctx: Context) -> None:
    """Create or update the built-in roles to match BUILTIN_ROLES (idempotent; audits only real changes)."""
    with ctx.uow("site.manage") as uow:
        s = uow.session
        for code, role_def in BUILTIN_ROLES.items():
            role = s.get(Role, code)
            held = set(s.scalars(select(RolePermission.pattern).where(RolePermission.role_code == code)))
            wanted = set(role_def.patterns)
            before = None
            if role is None:
                role = Role(code=code, name=role_def.name, description=role_def.description, builtin=True)
                s.add(role)
                s.flush()
            elif (role.name, role.description, role.builtin, held) == (
                role_def.name,
                role_def.description,
                True,
                wanted,
            ):
                continue
            else:
                before = {"name": role.name, "builtin": role.builtin, "permissions": sorted(held)}
                role.name, role.description, role.builtin = role_def.name, role_def.description, True
            if held - wanted:
                s.execute(
                    delete(RolePermission).where(
                        RolePermission.role_code == code, RolePermission.pattern.in_(held - wanted)
                    )
                )
            s.add_all(RolePermission(role_code=code, pattern=p) for p in sorted(wanted - held))
            uow.audit(
                "role.sync",
                "role",
                code,
                before=before,
                after={"name": role.name, "builtin": True, "permissions": sorted(wanted)},
            )


def list_roles(ctx: Context) -> list[RoleView]:
    with ctx.read("roles.view") as s:
        patterns: dict[str, list[str]] = {}
        for code, pattern in s.execute(
            select(RolePermission.role_code, RolePermission.pattern).order_by(RolePermission.pattern)
        ):
            patterns.setdefault(code, []).append(pattern)
        return [
            RoleView(r.code, r.name, r.description, r.builtin, tuple(patterns.get(r.code, ())))
            for r in s.scalars(select(Role).order_by(Role.code))
        ]


# ---------------------------------------------------------------------------------------------- users


def add_user(
    ctx: Context,
    username: str,
    password: str,
    *,
    display_name: str = "",
    roles: Iterable[str] = (),
    phone: str | None = None,
    id_number: str | None = None,
) -> UserView:
    """Create an active user. Phone and ID number are validated, stored encrypted, indexed blind."""
    ctx.require("users.manage")
    username = _valid_username(username)
    display_name = _valid_display_name(display_name, username)
    passwords.check_password_policy(password, username)
    role_codes = _role_codes(roles)
    phone = _valid_phone(phone)
    id_number = _valid_id_number(ctx, id_number)
    # Hashing is slow on purpose: do it before taking the database's write lock.
    password_hash = passwords.hash_password(password)
    pii = ctx.pii
    phone_bidx = pii.blind_index(KIND_PHONE, phone) if phone else None
    id_bidx = pii.blind_index(KIND_ID_NUMBER, id_number) if id_number else None

    with ctx.uow("users.manage") as uow:
        s = uow.session
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict(N_("The user name {username} is taken."), username=username)
        if phone_bidx and s.scalar(select(User.id).where(User.phone_bidx == phone_bidx)) is not None:
            raise Conflict(N_("Another user already has this phone number."))
        if id_bidx and s.scalar(select(User.id).where(User.id_number_bidx == id_bidx)) is not None:
            raise Conflict(N_("Another user already has this ID number."))
        _check_may_grant(ctx.actor, _role_patterns(s, role_codes))
        user = User(
            id=new_id(),
            username=username,
            display_name=display_name,
            password_hash=password_hash,
            status=USER_ACTIVE,
            failed_logins=0,
            locked_until=None,
            password_changed_at=uow.now,
            created_at=uow.now,
            phone_enc=pii.encrypt(phone) if phone else None,
            phone_bidx=phone_bidx,
            id_number_enc=pii.encrypt(id_number) if id_number else None,
            id_number_bidx=id_bidx,
        )
        s.add(user)
        s.flush()
        s.add_all(UserRole(user_id=user.id, role_code=code) for code in role_codes)
        uow.audit("user.create", "user", user.id, after=_audit_state(ctx, user, role_codes))
        return _view(ctx, user, role_codes)


def get_user(ctx: Context, username: str) -> UserView:
    with ctx.read("users.view") as s:
        user = _get_user(s, username)
        return _view(ctx, user, _user_roles(s, [user.id])[user.id])


def list_users(ctx: Context, *, limit: int = LIST_USERS_MAX) -> list[UserView]:
    """Users by user name (at most `limit`, capped at LIST_USERS_MAX)."""
    limit = max(1, min(limit, LIST_USERS_MAX))
    with ctx.read("users.view") as s:
        users = list(s.scalars(select(User).order_by(User.username).limit(limit)))
        roles = _user_roles(s, [u.id for u in users])
        return [_view(ctx, u, roles[u.id]) for u in users]


def find_user_by_phone(ctx: Context, phone: str) -> UserView | None:
    """The user with this mobile number (exact match through the blind index), or None."""
    ctx.require("users.view")
    bidx = ctx.pii.blind_index(KIND_PHONE, validate.mobile(phone))
    with ctx.read("users.view") as s:
        user = s.scalars(select(User).where(User.phone_bidx == bidx)).first()
        if user is None:
            return None
        return _view(ctx, user, _user_roles(s, [user.id])[user.id])


def _set_status(ctx: Context, username: str, expected: str, new: str, action: str, refusal: str) -> None:
    with ctx.uow("users.manage") as uow:
        s = uow.session
        user = _get_user(s, username)
        _refuse_if_hub_owned(s, user)
        if user.status != expected:
            raise StateError(refusal, username=user.username)
        if new == USER_DISABLED:
            if ctx.actor.user_id == user.id:
                raise StateError(N_("You cannot disable your own account."))
            _check_not_last_admin(s, user)
        result = s.execute(
            update(User)
            .where(User.id == user.id, User.status == expected)
            .values(status=new)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise Conflict(
                N_("User {username} was changed at the same time; try again."), username=user.username
            )
        uow.audit(action, "user", user.id, before={"status": expected}, after={"status": new})


def disable_user(ctx: Context, username: str) -> None:
    """Stop a user from logging in (their history stays)."""
    _set_status(
        ctx, username, USER_ACTIVE, USER_DISABLED, "user.disable", N_("User {username} is already disabled.")
    )


def enable_user(ctx: Context, username: str) -> None:
    _set_status(
        ctx, username, USER_DISABLED, USER_ACTIVE, "user.enable", N_("User {username} is already active.")
    )


def unlock_user(ctx: Context, username: str) -> None:
    """Clear a login lockout and the failure counter (nothing to do, nothing audited, if there is none)."""
    with ctx.uow("users.manage") as uow:
        user = _get_user(uow.session, username)
        if user.locked_until is None and user.failed_logins == 0:
            return
        before = {"failed_logins": user.failed_logins, "locked_until": user.locked_until}
        user.failed_logins = 0
        user.locked_until = None
        uow.audit(
            "user.unlock", "user", user.id, before=before, after={"failed_logins": 0, "locked_until": None}
        )


def set_roles(ctx: Context, username: str, roles: Iterable[str]) -> None:
    """Replace a user's roles. Granting a role needs every permission in it; nobody changes their own roles."""
    role_codes = _role_codes(roles)
    with ctx.uow("users.manage") as uow:
        s = uow.session
        user = _get_user(s, username)
        _refuse_if_hub_owned(s, user)
        if ctx.actor.user_id == user.id:
            raise PermissionDenied(N_("You cannot change your own roles."))
        current = _user_roles(s, [user.id])[user.id]
        patterns = _role_patterns(s, role_codes)
        if set(current) == set(role_codes):
            return
        added = {code: patterns[code] for code in set(role_codes) - set(current)}
        _check_may_grant(ctx.actor, added)
        if ADMIN_ROLE in current and ADMIN_ROLE not in role_codes:
            _check_not_last_admin(s, user)
        s.execute(delete(UserRole).where(UserRole.user_id == user.id))
        s.add_all(UserRole(user_id=user.id, role_code=code) for code in role_codes)
        uow.audit(
            "user.set_roles",
            "user",
            user.id,
            before={"roles": list(current)},
            after={"roles": list(role_codes)},
        )


def change_password(
    ctx: Context, username: str, new_password: str, *, old_password: str | None = None
) -> None:
    """Change a password. Your own needs the old password; anyone else's needs users.manage (a reset)."""
    own = ctx.actor.user_id is not None and _clean_username(username) == ctx.actor.username
    if not own:
        ctx.require("users.manage")
    with ctx.read() as s:
        user = _get_user(s, username)
        _refuse_if_hub_owned(s, user)
        user_id, current_hash, name = user.id, user.password_hash, user.username
    if own and user_id != ctx.actor.user_id:
        raise PermissionDenied(
            N_("You do not have permission to do this ({permission})."), permission="users.manage"
        )
    passwords.check_password_policy(new_password, name)
    if own and (old_password is None or not passwords.verify_password(current_hash, old_password)):
        raise ValidationError(N_("The current password is wrong."), field="old_password")
    if passwords.verify_password(current_hash, new_password):
        raise ValidationError(N_("The new password must differ from the current one."), field="password")
    new_hash = passwords.hash_password(new_password)

    with ctx.uow(None if own else "users.manage") as uow:
        result = uow.session.execute(
            update(User)
            .where(User.id == user_id, User.password_hash == current_hash)
            .values(password_hash=new_hash, password_changed_at=uow.now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise Conflict(N_("The password was changed at the same time; try again."))
        uow.audit(
            "user.password_change" if own else "user.password_reset",
            "user",
            user_id,
            after={"password_changed_at": uow.now},
        )


# ---------------------------------------------------------------------------------------------- login


def actor_for_user(session: Session, user: User) -> Actor:
    """The Actor a user acts as: their roles and the union of those roles' permission patterns."""
    roles = _user_roles(session, [user.id])[user.id]
    patterns = (
        set(session.scalars(select(RolePermission.pattern).where(RolePermission.role_code.in_(roles))))
        if roles
        else set()
    )
    return Actor(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=roles,
        permissions=frozenset(patterns),
    )


def authenticate(ctx: Context, username: str, password: str) -> Actor:
    """Check a login (ctx acts as the system: nobody is logged in yet). Returns the user's Actor.

    Wrong user name and wrong password give the same error and take the same time. After
    LOGIN_FAILURES_MAX consecutive failures the account is locked for LOCKOUT. The failure counter and the
    audit record of a failed login are committed before the error is raised.
    """
    name = _clean_username(username)[:USERNAME_INPUT_MAX_CHARS]
    password = password if isinstance(password, str) else ""
    # The slow hash check runs before the write transaction (it would hold the database's write lock for its
    # whole ~50-100 ms); the transaction then decides on the hash it checked, or starts over if it changed.
    for _attempt in range(3):
        with ctx.read() as s:
            checked_hash = s.execute(
                select(User.password_hash).where(User.username == name)
            ).scalar_one_or_none()
        matches = passwords.verify_password(checked_hash or passwords.dummy_hash(), password)
        new_hash = (
            passwords.hash_password(password)
            if matches and checked_hash and passwords.needs_rehash(checked_hash)
            else None
        )
        outcome = _decide_login(ctx, name, checked_hash, matches, new_hash)
        if outcome is not None:
            break
    else:  # the password was changed three times while we checked: treat it as a failed login
        raise AuthenticationError()
    failure, actor = outcome
    if failure is not None:
        raise failure
    assert actor is not None
    return actor


def _decide_login(
    ctx: Context, name: str, checked_hash: str | None, matches: bool, new_hash: str | None
) -> tuple[AuthenticationError | None, Actor | None] | None:
    """Record the login's outcome in one transaction; None when the hash checked is no longer the user's."""
    failure: AuthenticationError | None = None
    actor: Actor | None = None
    with ctx.uow() as uow:
        s = uow.session
        now = uow.now
        user = s.scalars(select(User).where(User.username == name)).first()
        if (user.password_hash if user is not None else None) != checked_hash:
            return None
        if user is None:
            uow.audit("auth.login_failed", "user", name, after={"username": name, "reason": "unknown_user"})
            failure = AuthenticationError()
        elif _is_locked(user, now):
            uow.audit("auth.login_failed", "user", user.id, after={"username": name, "reason": "locked"})
            failure = _locked_error(user.locked_until)
        elif not matches:
            failure = _record_failure(uow, user, now)
        elif user.status != USER_ACTIVE:
            uow.audit("auth.login_failed", "user", user.id, after={"username": name, "reason": "disabled"})
            failure = AuthenticationError(
                N_("This account is disabled; ask an administrator."), code="account_disabled"
            )
        else:
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
            if new_hash is not None:
                user.password_hash = new_hash
            actor = actor_for_user(s, user)
            uow.audit("auth.login", "user", user.id, after={"username": name})
    return failure, actor


def _record_failure(uow, user: User, now: datetime) -> AuthenticationError:
    s = uow.session
    # An atomic increment: concurrent wrong guesses are all counted.
    failures = s.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    after: dict = {"username": user.username, "reason": "wrong_password", "failed_logins": failures}
    error = AuthenticationError()
    if failures >= LOGIN_FAILURES_MAX:
        locked_until = now + LOCKOUT
        # The counter starts again, so after the lockout the user has LOGIN_FAILURES_MAX more tries.
        s.execute(
            update(User)
            .where(User.id == user.id)
            .values(failed_logins=0, locked_until=locked_until)
            .execution_options(synchronize_session=False)
        )
        after["locked_until"] = locked_until
        error = _locked_error(locked_until)
    uow.audit("auth.login_failed", "user", user.id, after=after)
    return error


def _locked_error(locked_until: datetime) -> AuthenticationError:
    return AuthenticationError(
        N_("Too many failed logins: this account is locked until {unlock_at}."),
        code="account_locked",
        unlock_at=locked_until.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M"),
    )
