"""Creating a site: identity row, personal-data keys, built-in roles and the first administrator."""

from __future__ import annotations

import re
from pathlib import Path

from core.clock import Clock, SystemClock
from core.context import Context
from core.errors import SiteError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.site import Site, SiteHome, load_site

SITE_CODE_RE = re.compile(r"^[A-Z0-9]{2,8}$")


def create_site_identity(ctx: Context, *, code: str, name: str) -> None:
    """Write the site row, make the PII keys and the built-in roles. Refuses a database that has a site."""
    from core.security.pii import ensure_keys
    from core.security.services import ensure_builtin_roles

    code = code.strip().upper()
    if not SITE_CODE_RE.match(code):
        raise ValidationError(N_("A site code is 2 to 8 capital letters or digits."), field="code")
    if not name.strip():
        raise ValidationError(N_("The site needs a name."), field="name")
    if ctx.home is not None:
        ensure_keys(ctx.home.keys_dir)
    with ctx.uow() as uow:
        if load_site(uow.session) is not None:
            raise SiteError(N_("This site is already initialised."), code="site_exists")
        site = Site(site_id=new_id(), code=code, name=name.strip(), created_at=uow.now)
        uow.session.add(site)
        uow.audit("site.create", "site", site.site_id, after={"code": code, "name": site.name})
        ensure_builtin_roles(ctx)


def ensure_reference_data(ctx: Context) -> None:
    """Bring code-defined reference data (built-in roles, …) up to date; idempotent, run after upgrades."""
    from core.security.services import ensure_builtin_roles

    with ctx.uow():
        ensure_builtin_roles(ctx)


def init_site(
    home: SiteHome, *, code: str, name: str, admin_user: str, admin_password: str, clock: Clock | None = None
) -> None:
    """`anju init`: make the directory, migrate a new database, write identity and keys, add the first admin.

    Everything is validated before the database file is created, and a failure removes the half-made file,
    so a failed init can simply be run again.
    """
    from core.context import Actor
    from core.db.engine import Database
    from core.db.migrate import upgrade
    from core.security.passwords import check_password_policy
    from core.security.services import add_user

    if home.exists():
        raise SiteError(N_("A site already exists at {path}; refusing to overwrite it."), path=str(home.root))
    check_password_policy(admin_password, admin_user)
    home.ensure_dirs()
    db = Database(home.db_url)
    try:
        upgrade(db.engine)
        ctx = Context(db=db, actor=Actor.system("init"), clock=clock or SystemClock(), home=home)
        create_site_identity(ctx, code=code, name=name)
        add_user(ctx, admin_user, admin_password, display_name=admin_user, roles=("admin",))
    except BaseException:
        db.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{home.db_path}{suffix}").unlink(missing_ok=True)
        raise
    db.dispose()
