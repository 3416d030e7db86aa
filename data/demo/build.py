"""`anju demo`: a demo site with staff of every role, an approval waiting, and a community of 1,200 houses with
a year of bills and payments (data/demo/property.py) — so every screen shows something real. Idempotent.
"""

from __future__ import annotations

from collections.abc import Callable

from core.clock import SystemClock
from core.context import Actor, Context
from core.db.engine import Database
from core.i18n import _
from core.site import SiteHome, load_site

DEMO_CODE = "DEMO"
DEMO_NAME = "安居示范物业服务中心"
DEMO_PASSWORD = "anju2026"  # printed for the person trying the demo; a real site sets its own at `anju init`
DEMO_STAFF = (
    ("admin", "系统管理员", ("admin",)),
    ("cashier", "王收银", ("cashier",)),
    ("property", "李物业", ("property",)),
    ("finance", "赵财务", ("finance",)),
    ("approver", "钱审批", ("approver",)),
    ("auditor", "孙审计", ("auditor",)),
)


def ensure_demo(
    home: SiteHome,
    *,
    progress: Callable[[str], None] = lambda _t: None,
    clock: SystemClock | None = None,
    size: str = "full",
) -> str:
    """Create the demo site in `home` unless a site is there; top up a demo site that lacks its data."""
    from core.bootstrap import init_site

    clock = clock or SystemClock()
    if not home.exists():
        progress(_("Creating the demo site at {path} …").format(path=home.root))
        init_site(
            home,
            code=DEMO_CODE,
            name=DEMO_NAME,
            admin_user="admin",
            admin_password=DEMO_PASSWORD,
            clock=clock,
        )
    db = Database(home.db_url)
    try:
        from core.db.migrate import check_version

        check_version(db.engine, allow_pending=True)
        ctx = Context(db=db, actor=Actor.system("demo"), clock=clock, home=home)
        with ctx.read() as s:
            site = load_site(s)
        if site is None or site.code != DEMO_CODE:
            return _("A site already exists at {path}; demo data is only added to a demo site.").format(
                path=home.root
            )
        created = _fill(ctx, progress, size)
    finally:
        db.dispose()
    if created:
        return _(
            "Demo site ready at {path}. Log in as admin (or cashier, finance, approver, auditor) "
            "with password {password}."
        ).format(path=home.root, password=DEMO_PASSWORD)
    return _("Demo site already present at {path}.").format(path=home.root)


def _fill(ctx: Context, progress: Callable[[str], None], size: str) -> bool:
    from core.security import services as security
    from core.workflow import services as workflow
    from data.demo.payhub import fill_payhub
    from data.demo.property import fill_property

    created = False
    existing = {u.username for u in security.list_users(ctx)}
    if "cashier" not in existing:
        progress(_("Adding staff of every role …"))
        with ctx.uow():
            for username, name, roles in DEMO_STAFF:
                if username not in existing:
                    security.add_user(ctx, username, DEMO_PASSWORD, display_name=name, roles=roles)
        workflow.ensure_process(
            ctx, "demo.refund", "退款审批",
            [{"role": "finance", "name": "财务审核"}, {"role": "approver", "name": "主管审批"}],
        )  # fmt: skip
        cashier = _actor(ctx, "cashier")
        workflow.submit(
            ctx.as_actor(cashier), "demo.refund", object_type="demo.payment", object_id="DEMO-0001",
            title="3-2-1201 多缴物业费退款", amount_fen=25_600, comment="业主重复缴费",
        )  # fmt: skip
        created = True
    created = fill_property(ctx, progress, size) or created
    return fill_payhub(ctx, progress, size) or created


def _actor(ctx: Context, username: str) -> Actor:
    from sqlalchemy import select

    from core.security.models import User
    from core.security.services import actor_for_user

    with ctx.read() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one()
        return actor_for_user(s, user)
