"""`anju demo`: a demo site with staff of every role, a property book with a few weeks of collections, and
approvals waiting — enough for every screen of the foundation to show something real. Idempotent.

Later issues extend it (a community of ~1,200 houses, bills, payments, repairs…) through the same services.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from core.clock import SystemClock, today
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
PROPERTY_BOOK = "PROPERTY"
PROPERTY_ACCOUNTS = (
    ("1001", "库存现金", "asset"),
    ("1002", "银行存款", "asset"),
    ("1012.wechat", "待清算-微信支付", "asset"),
    ("1012.alipay", "待清算-支付宝", "asset"),
    ("1122", "应收物业费", "asset"),
    ("2203", "预收物业费", "liability"),
    ("4001", "实收资本", "equity"),
    ("6001", "物业服务收入", "income"),
    ("6602", "手续费支出", "expense"),
)


def ensure_demo(
    home: SiteHome, *, progress: Callable[[str], None] = lambda _t: None, clock: SystemClock | None = None
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
        created = _fill(ctx, progress)
    finally:
        db.dispose()
    if created:
        return _(
            "Demo site ready at {path}. Log in as admin (or cashier, finance, approver, auditor) "
            "with password {password}."
        ).format(path=home.root, password=DEMO_PASSWORD)
    return _("Demo site already present at {path}.").format(path=home.root)


def _fill(ctx: Context, progress: Callable[[str], None]) -> bool:
    from core.ledger import services as ledger
    from core.security import services as security
    from core.workflow import services as workflow

    existing = {u.username for u in security.list_users(ctx)}
    if "cashier" in existing:
        return False
    progress(_("Adding staff, books and a few weeks of collections …"))
    with ctx.uow():
        for username, name, roles in DEMO_STAFF:
            if username not in existing:
                security.add_user(ctx, username, DEMO_PASSWORD, display_name=name, roles=roles)
        ledger.ensure_book(ctx, PROPERTY_BOOK, "物业公司账簿", "property")
        for code, name, kind in PROPERTY_ACCOUNTS:
            ledger.ensure_account(ctx, PROPERTY_BOOK, code, name, kind)
        rng = random.Random(20261125)
        start = today(ctx.clock) - timedelta(days=27)
        specs = [
            ledger.EntrySpec(
                PROPERTY_BOOK,
                start,
                "开办资金",
                (("1002", 50_000_000), ("4001", -50_000_000)),
                doc_type="demo",
                doc_id="capital",
            )
        ]
        for day in range(28):
            date = start + timedelta(days=day)
            for n in range(rng.randint(8, 20)):
                amount = rng.choice((12_800, 25_600, 31_250, 38_400, 51_200, 76_800))
                channel = rng.choice(("1001", "1012.wechat", "1012.alipay", "1002"))
                specs.append(
                    ledger.EntrySpec(
                        PROPERTY_BOOK,
                        date,
                        "物业费收款",
                        ((channel, amount), ("6001", -amount)),
                        doc_type="demo",
                        doc_id=f"{date:%Y%m%d}-{n}",
                    )
                )
        ledger.post_batch(ctx, specs)
    workflow.ensure_process(
        ctx,
        "demo.refund",
        "退款审批",
        [{"role": "finance", "name": "财务审核"}, {"role": "approver", "name": "主管审批"}],
    )
    cashier = _actor(ctx, "cashier")
    workflow.submit(
        ctx.as_actor(cashier),
        "demo.refund",
        object_type="demo.payment",
        object_id="DEMO-0001",
        title="3-2-1201 多缴物业费退款",
        amount_fen=25_600,
        comment="业主重复缴费",
    )
    return True


def _actor(ctx: Context, username: str) -> Actor:
    from sqlalchemy import select

    from core.security.models import User
    from core.security.services import actor_for_user

    with ctx.read() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one()
        return actor_for_user(s, user)
