"""Demo data for the payment hub and the newer property screens: the last days of counter and QR payments
across channels (cash, POS, bank transfer, WeChat Pay, Alipay) in cashier shifts (one closed short, through
approval), an external app with its orders and notices (one delivery failing), refunds (one partial),
deposits (held, one refunded through approval, one with a deduction), arrears reminders (a schedule, a
stop-list entry, runs), a reconciliation with differences (some resolved, some open) and a settlement batch.

Everything goes through the core services with a clock set inside each day. WeChat Pay and Alipay are
answered by an in-process demo adapter (no simulator needs to run); their daily statements are written with
the simulator's statement writer and then read back by the reconciliation like any downloaded statement.
"""

from __future__ import annotations

import random
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from core.clock import BUSINESS_TZ, FakeClock, today
from core.context import Actor, Context
from core.i18n import _
from core.payments.channels import ChannelConfig, Channels
from core.payments.channels.base import (
    CLOSED,
    PAYING,
    SUCCESS,
    Channel,
    ChannelOrder,
    ChannelResult,
    RefundResult,
)

SHOP_APP = "shop"
SHOP_NOTIFY_URL = "https://shop.example.com/anju/notify"
WINDOW_DAYS = {"full": 10, "small": 5}  # the recent days with hub activity
# Per size: property payments per day, shop orders per day, houses billed a deposit.
PACE = {"full": (18, 5, 6), "small": (4, 3, 3)}
DEPOSIT_FEN = 200_000  # 装修保证金 2,000.00 元
PROPERTY_CHANNELS = ("cash", "pos", "bank_transfer", "wechat", "alipay")
DENOMINATIONS = (10000, 5000, 2000, 1000, 500, 100, 50, 10, 5, 2, 1)


class DemoQrChannel(Channel):
    """WeChat Pay / Alipay for the demo: a QR order is PAYING until queried, then paid (the payer scanned)."""

    synchronous = False

    def __init__(self, code: str, clock: FakeClock) -> None:
        self.code, self.clock = code, clock

    def create(self, order: ChannelOrder) -> ChannelResult:
        scheme = "weixin://wxpay/bizpayurl?pr=" if self.code == "wechat" else "https://qr.alipay.com/"
        return ChannelResult(PAYING, pay_info={"code_url": scheme + order.order_no})

    def query(self, order_no: str) -> ChannelResult:
        prefix = "42" if self.code == "wechat" else "2026"
        return ChannelResult(SUCCESS, channel_trade_no=f"{prefix}{order_no}", paid_at=self.clock.now())

    def close(self, order_no: str) -> ChannelResult:
        return ChannelResult(CLOSED)

    def refund(self, order_no: str, refund_no: str, amount_fen: int, total_fen: int) -> RefundResult:
        return RefundResult(SUCCESS, channel_refund_no=f"50{refund_no}")


@dataclass
class _Day:
    """What the channels recorded on one day, for that day's statements."""

    trades: dict[str, list] = field(default_factory=lambda: {"wechat": [], "alipay": []})
    refunds: dict[str, list] = field(default_factory=lambda: {"wechat": [], "alipay": []})


def _local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), BUSINESS_TZ)


def _counted(fen: int) -> dict[str, int]:
    """A cash count by denomination adding up to `fen`."""
    out: dict[str, int] = {}
    for d in DENOMINATIONS:
        if fen >= d:
            out[str(d)], fen = fen // d, fen % d
    return out


def _actor(ctx: Context, username: str) -> Actor:
    from sqlalchemy import select

    from core.security.models import User
    from core.security.services import actor_for_user

    with ctx.read() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one()
        return actor_for_user(s, user)


def _houses(ctx: Context, community_id: uuid.UUID) -> list:
    from core.property import services as ps

    houses, b = [], 1
    while True:
        found = ps.search_houses(ctx, community_id, code_prefix=f"{b}-", limit=1000)
        if not found:
            return houses
        houses.extend(found)
        b += 1


def window(now_day: date, month_start: date, size: str = "full") -> list[date]:
    """The demo's recent days: up to WINDOW_DAYS before today, after the current month's bill run."""
    first = max(now_day - timedelta(days=WINDOW_DAYS[size]), month_start + timedelta(days=1))
    return [first + timedelta(days=i) for i in range((now_day - first).days)]


def fill_payhub(ctx: Context, progress: Callable[[str], None], size: str = "full") -> bool:
    """Add the hub's recent history to the demo community unless the external app is there already."""
    from core.payments import services as payments
    from core.property import services as ps
    from data.demo.property import COMMUNITY_CODE

    if any(a.app_id == SHOP_APP for a in payments.list_apps(ctx)):
        return False
    community = next((c for c in ps.list_communities(ctx) if c.code == COMMUNITY_CODE), None)
    if community is None:
        return False
    now_day = today(ctx.clock)
    days = window(now_day, now_day.replace(day=1), size)
    if not days:
        return False  # the first days of a month: the current bills were only just run
    clock = FakeClock(_local(days[0], 8))
    demo = _Demo(replace(ctx, clock=clock, _uow=None), clock, size, community.id, progress)
    demo.run(days)
    return True


class _Demo:
    def __init__(
        self,
        ctx: Context,
        clock: FakeClock,
        size: str,
        community_id: uuid.UUID,
        progress: Callable[[str], None],
    ) -> None:
        self.ctx, self.clock, self.size, self.community_id, self.progress = (
            ctx, clock, size, community_id, progress,
        )  # fmt: skip
        self.rng = random.Random(20261126)
        self.channels = Channels(ChannelConfig())
        for code in ("wechat", "alipay"):
            self.channels.use(code, DemoQrChannel(code, clock))
        self.cashier = ctx.as_actor(_actor(ctx, "cashier"))
        self.clerk = ctx.as_actor(_actor(ctx, "property"))
        self.approver = ctx.as_actor(_actor(ctx, "approver"))
        self.finance = ctx.as_actor(_actor(ctx, "finance"))
        self.houses = _houses(ctx, community_id)
        self.by_day: dict[date, _Day] = {}
        self.receipts: list = []  # (receipt id, total, channel) of counter payments, for refund requests
        self.shop_orders: list = []
        from data.demo.ops import OpsDemo

        self.ops = OpsDemo(ctx, clock, community_id, self.houses, self.clerk, progress)

    def at(self, day: date, hh: int, mm: int = 0) -> None:
        self.clock.set(_local(day, hh, mm))

    # ------------------------------------------------------------------------------------------ setup

    def setup(self, first: date) -> None:
        from core.payments import services as payments
        from core.payments.settlement import services as settlement
        from core.property import billing, reminders

        self.at(first, 8)
        payments.ensure_payhub_books(self.ctx)
        if not any(a.app_id == "property" for a in payments.list_apps(self.ctx)):
            payments.add_app(self.ctx, "物业收费", app_id="property")
        payments.add_app(self.ctx, "社区商城", SHOP_NOTIFY_URL, app_id=SHOP_APP)
        settlement.set_payee(
            self.ctx, "property", "安居示范物业服务有限公司", "110912345610201", "招商银行北京分行"
        )
        settlement.set_payee(
            self.ctx, SHOP_APP, "幸福里社区商城有限公司", "622588001234567", "中国银行北京朝阳支行"
        )
        billing.create_fee_item(
            self.ctx,
            self.community_id,
            "ZXBZJ",
            "装修保证金",
            "deposit",
            cycle="once",
            amount_fen=DEPOSIT_FEN,
        )
        reminders.set_schedule(self.ctx, self.community_id, "before_due", 3, ["app_push"])
        reminders.set_schedule(self.ctx, self.community_id, "after_due", 1, ["sms", "printed"])
        reminders.set_schedule(self.ctx, self.community_id, "every", 7, ["app_push", "sms"])
        self.ops.setup(first)

    # ------------------------------------------------------------------------------------------- days

    def run(self, days: list[date]) -> None:
        from core.payments import shifts

        self.setup(days[0])
        per_day, shop_per_day, deposits = PACE[self.size]
        deposit_houses = self.rng.sample(self.houses, min(deposits, len(self.houses)))
        short_day = days[len(days) // 2]
        with tempfile.TemporaryDirectory(prefix="anju-demo-") as folder:
            for i, day in enumerate(days):
                self.progress(
                    _("Payment hub: counter, QR and app payments of {day} …").format(day=day.isoformat())
                )
                if i:
                    self.reconcile(days[i - 1], Path(folder), seed=False)  # 00:30: yesterday's statements
                self.by_day[day] = _Day()
                if i == 0:
                    self.reminder_stop(day)  # 07:00
                self.ops.day(i, len(days), day)
                self.at(day, 8, 30)
                shifts.open_shift(self.cashier, 50_000)
                cash = 50_000
                if i == 0:
                    cash += self.take_deposits(day, deposit_houses)
                cash += self.property_payments(day, per_day, first=i == 0)
                self.shop_payments(day, shop_per_day, last=day == days[-1])
                if day == days[-1]:
                    self.refunds(day)
                    self.deposit_refunds(day)
                self.close_shift(day, cash, short=day == short_day)
                self.notices(day, fail=day == days[-1])
            self.reminder_run(days)
            self.progress(_("Payment hub: reconciliation and settlement …"))
            self.reconcile(days[-1], Path(folder), seed=True)
        self.resolve_and_settle(days)

    def _payable(self) -> tuple:
        """A random house with something to pay and what it owes; when none is found, an owner paying 300.00 元
        ahead (预存, kept on the house's prepaid account)."""
        from core.property import billing

        for _try in range(12):
            h = self.rng.choice(self.houses)
            due = sum(line.outstanding_fen for line in billing.outstanding(self.ctx, h.id))
            if due > 0:
                return h, due
        return self.rng.choice(self.houses), 30_000

    def property_payments(self, day: date, count: int, *, first: bool = False) -> int:
        """Owners paying at the counter (cash, POS, transfer) or by QR (WeChat, Alipay); returns cash taken."""
        from core.payments import services as payments
        from core.property import counter

        cash = 0
        for n in range(count):
            self.at(day, 9 + n * 8 // max(count, 1), self.rng.randrange(60))
            house, due = self._payable()
            channel = self.rng.choices(PROPERTY_CHANNELS, (25, 15, 5, 35, 20))[0]
            if first and n < len(PROPERTY_CHANNELS):
                channel = PROPERTY_CHANNELS[n]  # every channel appears, whatever the dice say
            key = f"DEMO-HUB-{day:%Y%m%d}-{n:03d}"
            if channel in counter.QR_CHANNELS:
                req = counter.PaymentRequest(house.id, (), due, channel, key)
                order = counter.start_qr_payment(self.cashier, req, channels=self.channels)
                self.clock.advance(seconds=40)
                order = payments.refresh_order(self.cashier, order.order_no, channels=self.channels)
                self._trade(day, order)
                continue
            tendered = -(-due // 10_000) * 10_000 if channel == "cash" else None
            reference = (
                None if channel == "cash" else f"{'POS' if channel == 'pos' else 'TRF'}{day:%m%d}{n:04d}"
            )
            req = counter.PaymentRequest(house.id, (), due, channel, key, tendered, reference)
            result = counter.take_payment(self.cashier, req)
            self.receipts.append((result.receipt.id, result.receipt.total_fen, channel))
            if channel == "cash":
                cash += due
        return cash

    def shop_payments(self, day: date, count: int, *, last: bool = False) -> None:
        """The external app (社区商城) paid by WeChat Pay and Alipay through the hub's API services."""
        from core.payments import services as payments

        goods = (
            ("有机蔬菜周配送", 12_800),
            ("桶装水 5 桶", 9_000),
            ("家政保洁 2 小时", 16_000),
            ("鲜花绿植", 6_800),
        )
        for n in range(count):
            self.at(day, 10 + n, self.rng.randrange(60))
            subject, amount = self.rng.choice(goods)
            channel = "wechat" if self.rng.random() < 0.6 or (last and n < 3) else "alipay"  # 3 to reconcile
            order, _created = payments.create_order(
                self.ctx, SHOP_APP, f"SHOP{day:%Y%m%d}{n:03d}", amount, subject, channel=channel,
                payer=f"幸福里业主{self.rng.randrange(100, 999)}", channels=self.channels,
            )  # fmt: skip
            self.clock.advance(seconds=55)
            order = payments.refresh_order(self.ctx, order.order_no, channels=self.channels)
            self._trade(day, order)
            self.shop_orders.append(order)

    def _trade(self, day: date, order) -> None:
        from hub.sim.statements import SimTrade

        if order.status != "SUCCESS" or order.channel not in ("wechat", "alipay"):
            return
        self.by_day[day].trades[order.channel].append(
            SimTrade("1900000109", "wxdemo", order.order_no, order.channel_trade_no, order.amount_fen,
                     order.fee_fen, Decimal(order.fee_rate), "SUCCESS", order.paid_at, order.subject)
        )  # fmt: skip

    def close_shift(self, day: date, cash_fen: int, *, short: bool) -> None:
        """Count the drawer at 18:00; on `short` day 50.00 元 is missing, explained and approved."""
        from core.payments import shifts
        from core.workflow import services as wf

        self.at(day, 18)
        if not short:
            shifts.close_shift(self.cashier, _counted(cash_fen))
            return
        view = shifts.close_shift(self.cashier, _counted(cash_fen - 5_000), reason="找零失误，短款 50 元")
        self.clock.advance(minutes=25)
        wf.approve(self.approver, view.approval_id, "已核实，计入现金长短款")

    # --------------------------------------------------------------------------------------- refunds

    def refunds(self, day: date) -> None:
        """A shop order refunded in part and one in full; a counter receipt refunded after approval; one
        counter refund request left waiting for the approver."""
        from core.payments import services as payments
        from core.property import counter
        from core.workflow import services as wf
        from hub.sim.statements import SimRefund

        self.at(day, 15)
        todays = [o for o in self.shop_orders if o.business_date == day] or self.shop_orders[-2:]
        plans = [(todays[0], todays[0].amount_fen // 2, "部分商品缺货")]
        if len(todays) > 1:
            plans.append((todays[1], todays[1].amount_fen, "顾客取消订单"))
        for k, (order, amount, reason) in enumerate(plans):
            rf, _created = payments.refund(
                self.ctx, SHOP_APP, order.out_trade_no, f"SHOPR{day:%Y%m%d}{k}", amount, reason,
                channels=self.channels,
            )  # fmt: skip
            if rf.status == "SUCCESS" and order.business_date == day:
                self.by_day[day].refunds[order.channel].append(
                    SimRefund(rf.refund_no, f"50{rf.refund_no}", order.order_no, order.channel_trade_no,
                              rf.amount_fen, rf.fee_refund_fen, rf.refunded_at or self.clock.now())
                )  # fmt: skip
        card_receipts = [r for r in self.receipts if r[2] != "cash"]
        if len(card_receipts) >= 2:
            (paid_id, paid_total, _c), (wait_id, wait_total, _c2) = card_receipts[-2:]
            req = counter.request_refund(self.cashier, paid_id, paid_total, "业主重复缴费")
            wf.approve(self.approver, req.id, "核实重复缴费，同意退款")
            counter.pay_out_refund(self.cashier, req.id)
            counter.request_refund(self.cashier, wait_id, wait_total, "业主对面积有异议，申请退款")

    # -------------------------------------------------------------------------------------- deposits

    def take_deposits(self, day: date, houses: list) -> int:
        """装修保证金 billed and paid (cash and POS) for houses starting renovation; returns cash taken."""
        from core.property import billing, counter

        cash = 0
        self.deposits_paid = []
        for n, h in enumerate(houses):
            self.at(day, 9, 5 + n)
            bill_id = billing.charge_once(self.ctx, h.id, "ZXBZJ")
            channel = "pos" if n % 2 == 0 else "cash"
            req = counter.PaymentRequest(
                h.id, (bill_id,), DEPOSIT_FEN, channel, f"DEMO-DEP-{n:03d}", DEPOSIT_FEN if channel == "cash" else None,
                None if channel == "cash" else f"POSD{n:04d}", collect_late_fee=False,
            )  # fmt: skip
            counter.take_payment(self.cashier, req)
            cash += DEPOSIT_FEN if channel == "cash" else 0
            self.deposits_paid.append((h, channel))
        return cash

    def deposit_refunds(self, day: date) -> None:
        """One deposit (paid by POS) refunded in full after approval; one partly deducted; one refund waiting."""
        from core.property import deposits
        from core.workflow import services as wf

        self.at(day, 16)
        pos = [h for h, ch in self.deposits_paid if ch == "pos"]
        held = {d.house_id: d for d in deposits.list_deposits(self.ctx)}
        if pos:
            dep = held[pos[0].id]
            rf = deposits.request_refund(self.clerk, dep.id, dep.balance_fen, "装修验收合格，退还保证金")
            wf.approve(self.approver, rf.approval_id, "验收单已核")
            deposits.pay_refund(self.clerk, rf.id, channels=self.channels)
        others = [h for h, _ch in self.deposits_paid if h.id != (pos[0].id if pos else None)]
        if others:
            deposits.deduct(self.clerk, held[others[0].id].id, 30_000, "装修损坏公共墙面，扣除修复费用")
        if len(others) > 1:
            dep = held[others[1].id]
            deposits.request_refund(self.clerk, dep.id, dep.balance_fen, "装修完工，申请退还", method="cash")

    # ------------------------------------------------------------------------------------- reminders

    def reminder_stop(self, day: date) -> None:
        """An owner in hospital goes on the stop list (免催) for two months."""
        from core.property import billing, reminders

        self.at(day, 7)
        late = next((h for h in self.houses if len(billing.outstanding(self.ctx, h.id)) > 3), None)
        if late is not None:
            reminders.add_stop(
                self.ctx, house_id=late.id, reason="业主住院治疗，暂缓催缴", until=day + timedelta(days=60)
            )

    def reminder_run(self, days: list[date]) -> None:
        """One run of the arrears reminders, at 21:00 on the last day, for the latest day on which the schedule
        fires (a dry run of each day finds it; dry runs write nothing)."""
        from core.property import reminders

        self.at(days[-1], 21)
        for on in reversed(days):
            if reminders.run_reminders(self.ctx, on, community_id=self.community_id, dry_run=True).messages:
                reminders.run_reminders(self.ctx, on, community_id=self.community_id)
                return

    # ------------------------------------------------------------------------------------ notices

    def notices(self, day: date, *, fail: bool) -> None:
        """The day's notices are POSTed to the shop's URL at 20:00 and its server acknowledges them; on the
        `fail` day the last order's gets a 502 (its retry is due later)."""
        import httpx

        from core.payments import notify

        self.at(day, 20)
        todays = [o.order_no for o in self.shop_orders if o.business_date == day]
        failing = todays[-1] if fail and len(todays) > 2 else ""  # not one of the refunded orders

        def shop_server(request: httpx.Request) -> httpx.Response:
            if failing and failing.encode() in request.content:
                return httpx.Response(502, text="Bad Gateway")
            return httpx.Response(200, text="SUCCESS")

        with httpx.Client(transport=httpx.MockTransport(shop_server)) as client:
            notify.deliver_http_due(self.ctx, client=client)
        notify.deliver_inprocess(self.ctx)

    # ------------------------------------------------------------------------- recon and settlement

    def reconcile(self, day: date, folder: Path, *, seed: bool) -> None:
        """The channels' statements of `day`, read at 00:30 the next morning. With `seed`, WeChat Pay's differs
        from our books: an order it never booked, an amount and a fee that differ, a payment unknown to us."""
        from core.payments.recon import services as recon
        from hub.sim.statements import SimTrade, alipay_statement, wechat_statement

        self.at(day + timedelta(days=1), 0, 30)
        for channel, writer in (("wechat", wechat_statement), ("alipay", alipay_statement)):
            trades = list(self.by_day[day].trades[channel])
            refunds = list(self.by_day[day].refunds[channel])
            if seed and channel == "wechat" and len(trades) >= 3:
                trades.pop(0)  # the channel never booked it: missing at the channel
                trades[0] = replace(trades[0], amount_fen=trades[0].amount_fen - 100)  # 1.00 元 less
                trades[1] = replace(trades[1], fee_fen=trades[1].fee_fen + 1)  # one fen more fee
                trades.append(
                    SimTrade("1900000109", "wxdemo", f"{self.ctx.site.code}X{day:%Y%m%d}0001", f"42X{day:%Y%m%d}",
                             8_800, 53, Decimal("0.006"), "SUCCESS", _local(day, 21, 12), "未知订单")
                )  # fmt: skip
            path = folder / f"{channel}_{day:%Y%m%d}.csv"
            path.write_bytes(writer(day, trades, refunds))
            recon.run_recon(self.finance, channel, day, path)
            self.clock.advance(minutes=1)

    def resolve_and_settle(self, days: list[date]) -> None:
        """Finance resolves two of the differences (the rest stay open) and settles the day before yesterday."""
        from core.payments.recon import services as recon
        from core.payments.settlement import services as settlement

        last = days[-1]
        self.at(last + timedelta(days=1), 0, 45)
        diffs = recon.list_differences(self.finance, status="open")
        for d in diffs[:2]:
            decision = "accept_channel" if d.kind != "missing_at_channel" else "accept_local"
            recon.resolve(self.finance, d.id, decision, "已与渠道核对，按核实结果处理")
        if len(days) >= 2:
            settlement.run_settlement(self.finance, days[-2])
