"""The explicit context every service takes: who acts (actor), when (clock), where (db, site), and the unit of work.

A Context belongs to one thread. A service opens `ctx.uow(permission)`: it checks the permission, joins the
transaction already open in this context or starts one, and commits the change together with its audit
records and outbox events when the outermost block ends (or rolls all of it back on an exception).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from core.clock import Clock, SystemClock
from core.db.engine import Database
from core.errors import PermissionDenied
from core.i18n import N_
from core.site import SiteHome, SiteInfo, load_site

if TYPE_CHECKING:
    from core.security.pii import PiiCipher
    from core.uow import UnitOfWork


@dataclass(frozen=True)
class Actor:
    """Who is acting: a logged-in user, or the site itself (`system`) for the CLI and jobs."""

    user_id: uuid.UUID | None
    username: str
    display_name: str = ""
    roles: tuple[str, ...] = ()
    permissions: frozenset[str] = frozenset()

    def can(self, permission: str) -> bool:
        """Permissions held may be patterns: `*`, `ledger.*`, `*.view`."""
        return any(fnmatchcase(permission, held) for held in self.permissions)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(
            user_id=None, username=name, display_name=name, roles=("system",), permissions=frozenset({"*"})
        )


@dataclass
class Context:
    db: Database
    actor: Actor
    clock: Clock = field(default_factory=SystemClock)
    home: SiteHome | None = None
    _site: SiteInfo | None = None
    _pii: PiiCipher | None = None
    _uow: UnitOfWork | None = field(default=None, repr=False)

    def require(self, permission: str) -> None:
        if not self.actor.can(permission):
            raise PermissionDenied(
                N_("You do not have permission to do this ({permission})."), permission=permission
            )

    def as_actor(self, actor: Actor) -> Context:
        """The same site and clock, another actor (and no open transaction)."""
        return replace(self, actor=actor, _uow=None)

    @contextmanager
    def uow(self, permission: str | None = None) -> Iterator[UnitOfWork]:
        """Check `permission`, then run the block in the context's one write transaction."""
        from core.uow import UnitOfWork

        if permission:
            self.require(permission)
        if self._uow is not None:
            yield self._uow
            return
        unit = UnitOfWork(self)
        self._uow = unit
        try:
            if self.actor.user_id is not None:
                _refuse_disabled_account(unit.session, self.actor)
            yield unit
            unit.commit()
        except BaseException:
            unit.rollback()
            raise
        finally:
            self._uow = None
            unit.close()

    @contextmanager
    def read(self, permission: str | None = None) -> Iterator[Session]:
        """A session to read with: the open transaction's (to see its own writes) or a read-only one."""
        if permission:
            self.require(permission)
        if self._uow is not None:
            yield self._uow.session
            return
        with self.db.reader() as session:
            yield session

    @property
    def site(self) -> SiteInfo:
        if self._site is None:
            with self.read() as session:
                self._site = load_site(session)
            if self._site is None:
                from core.errors import SiteError

                raise SiteError(N_("This database has no site identity; run 'anju init'."))
        return self._site

    @property
    def pii(self) -> PiiCipher:
        if self._pii is None:
            from core.security.pii import PiiCipher

            if self.home is None:
                from core.errors import SiteError

                raise SiteError(N_("No site directory: personal data keys are unavailable."))
            self._pii = PiiCipher.from_dir(self.home.keys_dir)
        return self._pii


def _refuse_disabled_account(session: Session, actor: Actor) -> None:
    """A user disabled after logging in can change nothing more: every write transaction of a logged-in user
    starts by reading the account's status (one primary-key lookup) inside the same transaction."""
    from sqlalchemy import select

    from core.security.models import USER_DISABLED, User

    status = session.execute(select(User.status).where(User.id == actor.user_id)).scalar_one_or_none()
    if status == USER_DISABLED:
        raise PermissionDenied(
            N_("The account {username} has been disabled; ask an administrator."),
            code="account_disabled",
            username=actor.username,
        )
