"""The simulator's memory: merchants and their keys, orders and refunds per channel, behaviour settings, and
the signed asynchronous callbacks (delays, duplicates, dropped attempts, retries until the hub says 2xx)."""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx

from core.money import apply_rate
from core.payments import rules

CHANNELS = ("wechat", "alipay", "unionpay")
FEE_RATES = {"wechat": Decimal("0.006"), "alipay": Decimal("0.006"), "unionpay": Decimal("0.0025")}
APP_IDS = {"wechat": "wx8888888888888888", "alipay": "2021000000000000", "unionpay": "898000000000000"}
CALLBACK_ATTEMPTS_MAX = 8
CALLBACK_TIMEOUT_S = 5.0
ORDERS_MAX = 2_000_000


@dataclass
class SimConfig:
    callback_delay_s: float = 0.0
    duplicate_callbacks: bool = False
    timeout_next_orders: int = 0
    hang_s: float = 15.0
    fail_rate: float = 0.0  # chance that one callback attempt is lost on the way (it is retried)
    seed: int | None = None


@dataclass
class Order:
    channel: str
    mch_id: str
    out_trade_no: str
    channel_trade_no: str
    amount_fen: int
    subject: str
    notify_url: str
    expire_at: str
    status: str = "NOTPAY"
    paid_at: datetime | None = None
    fee_fen: int = 0
    refunded_fen: int = 0
    payer: str = ""

    def public(self) -> dict:
        return {
            "status": self.status,
            "channel_trade_no": self.channel_trade_no,
            "out_trade_no": self.out_trade_no,
            "amount_fen": self.amount_fen,
            "fee_fen": self.fee_fen,
            "paid_at": self.paid_at.isoformat() if self.paid_at else None,
            "refunded_fen": self.refunded_fen,
        }


@dataclass
class Refund:
    channel: str
    mch_id: str
    out_refund_no: str
    refund_id: str
    out_trade_no: str
    amount_fen: int
    fee_refund_fen: int
    status: str
    refunded_at: datetime

    def public(self) -> dict:
        return {
            "refund_id": self.refund_id,
            "out_refund_no": self.out_refund_no,
            "out_trade_no": self.out_trade_no,
            "amount_fen": self.amount_fen,
            "status": self.status,
            "refunded_at": self.refunded_at.isoformat(),
        }


@dataclass
class Store:
    merchants: dict[str, str]
    config: SimConfig = field(default_factory=SimConfig)
    orders: dict[tuple[str, str], Order] = field(default_factory=dict)
    refunds: dict[tuple[str, str], Refund] = field(default_factory=dict)
    callbacks_sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    rng: random.Random = field(default_factory=random.Random)

    def set_config(self, **values) -> SimConfig:
        with self.lock:
            self.config = replace(self.config, **values)
            if self.config.seed is not None:
                self.rng.seed(self.config.seed)
            return self.config

    def reset(self) -> None:
        with self.lock:
            self.orders.clear()
            self.refunds.clear()
            self.config = SimConfig()
            self.callbacks_sent = 0

    def take_timeout(self) -> bool:
        with self.lock:
            if self.config.timeout_next_orders > 0:
                self.config.timeout_next_orders -= 1
                return True
            return False

    def find(self, out_trade_no: str) -> Order | None:
        with self.lock:
            for ch in CHANNELS:
                if (ch, out_trade_no) in self.orders:
                    return self.orders[(ch, out_trade_no)]
        return None

    def create_order(self, channel: str, mch_id: str, data: dict) -> tuple[Order | None, str]:
        no = str(data.get("out_trade_no", ""))
        amount = data.get("amount_fen")
        if not no or len(no) > 32 or not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            return None, "INVALID_REQUEST"
        with self.lock:
            existing = self.orders.get((channel, no))
            if existing is not None:
                if existing.amount_fen != amount:
                    return None, "OUT_TRADE_NO_USED"
                return existing, ""
            if len(self.orders) >= ORDERS_MAX:
                return None, "SYSTEMERROR"
            prefix = {"wechat": "4200", "alipay": "2026", "unionpay": "6222"}[channel]
            order = Order(
                channel,
                mch_id,
                no,
                prefix + secrets.token_hex(12),
                amount,
                str(data.get("subject", ""))[:128],
                str(data.get("notify_url", "")),
                str(data.get("expire_at", "")),
            )
            self.orders[(channel, no)] = order
            return order, ""

    def code_url(self, order: Order) -> str:
        if order.channel == "wechat":
            return f"weixin://wxpay/bizpayurl?pr={order.channel_trade_no[-10:]}"
        if order.channel == "alipay":
            return f"https://qr.alipay.com/{order.channel_trade_no[-16:]}"
        return f"https://qr.95516.com/00010000/{order.channel_trade_no[-16:]}"

    def pay(self, out_trade_no: str, success: bool, payer: str = "") -> Order | None:
        """The payer pays (or the payment fails). Returns the order if this changed it."""
        with self.lock:
            order = None
            for ch in CHANNELS:
                order = self.orders.get((ch, out_trade_no)) or order
            if order is None or order.status != "NOTPAY":
                return None
            if success:
                order.status = "SUCCESS"
                order.paid_at = datetime.now(UTC).replace(microsecond=0)
                order.fee_fen = apply_rate(order.amount_fen, FEE_RATES[order.channel])
                order.payer = payer or f"o{secrets.token_hex(6)}"
            else:
                order.status = "PAYERROR"
            return order

    def close(self, channel: str, out_trade_no: str) -> Order | None:
        with self.lock:
            order = self.orders.get((channel, out_trade_no))
            if order is not None and order.status == "NOTPAY":
                order.status = "CLOSED"
            return order

    def refund(self, channel: str, data: dict) -> tuple[Refund | None, str]:
        no, refund_no, amount = data.get("out_trade_no"), data.get("out_refund_no"), data.get("amount_fen")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0 or not refund_no:
            return None, "INVALID_REQUEST"
        with self.lock:
            existing = self.refunds.get((channel, str(refund_no)))
            if existing is not None:
                return existing, ""
            order = self.orders.get((channel, str(no)))
            if order is None or order.status not in ("SUCCESS", "REFUND"):
                return None, "TRADE_STATE_ERROR"
            if order.refunded_fen + amount > order.amount_fen:
                return None, "REFUND_AMOUNT_EXCEED"
            # Proportional fee refund; the last refund returns what is left of the fee.
            if order.refunded_fen + amount == order.amount_fen:
                fee_back = order.fee_fen - sum(
                    r.fee_refund_fen
                    for r in self.refunds.values()
                    if r.channel == channel and r.out_trade_no == no
                )
            else:
                fee_back = rules.refund_fee_fen(
                    order.amount_fen, order.fee_fen, amount, order.refunded_fen, 0
                )
            order.refunded_fen += amount
            order.status = "REFUND"
            rf = Refund(
                channel,
                order.mch_id,
                str(refund_no),
                "50" + secrets.token_hex(12),
                str(no),
                amount,
                fee_back,
                "SUCCESS",
                datetime.now(UTC).replace(microsecond=0),
            )
            self.refunds[(channel, str(refund_no))] = rf
            return rf, ""

    # ----------------------------------------------------------------------------------------- callbacks

    def callback_body(self, order: Order) -> bytes:
        return json.dumps(
            {
                "channel": order.channel,
                "mch_id": order.mch_id,
                "out_trade_no": order.out_trade_no,
                "channel_trade_no": order.channel_trade_no,
                "amount_fen": order.amount_fen,
                "fee_fen": order.fee_fen,
                "status": order.status,
                "paid_at": order.paid_at.isoformat() if order.paid_at else None,
            },
            separators=(",", ":"),
        ).encode()

    def schedule_callback(self, order: Order) -> None:
        cfg = self.config
        copies = 2 if cfg.duplicate_callbacks else 1
        for n in range(copies):
            t = threading.Thread(
                target=self._deliver, args=(order, cfg.callback_delay_s + n * 0.2, cfg.fail_rate), daemon=True
            )
            t.start()

    def _deliver(self, order: Order, delay_s: float, fail_rate: float) -> None:
        time.sleep(delay_s)
        body = self.callback_body(order)
        key = self.merchants.get(order.mch_id, "")
        headers = {"Content-Type": "application/json", "X-Sim-Signature": rules.sim_sign(key, body)}
        wait_s = 0.2
        with httpx.Client(timeout=CALLBACK_TIMEOUT_S) as client:
            for _ in range(CALLBACK_ATTEMPTS_MAX):
                with self.lock:
                    lost = self.rng.random() < fail_rate
                if not lost:
                    try:
                        resp = client.post(order.notify_url, content=body, headers=headers)
                        with self.lock:
                            self.callbacks_sent += 1
                        if 200 <= resp.status_code < 300:
                            return
                    except httpx.HTTPError:
                        pass
                time.sleep(wait_s)
                wait_s = min(wait_s * 2, 5.0)

    # ----------------------------------------------------------------------------------------- statements

    def statement_records(self, channel: str, day: date):
        from hub.sim.statements import SimRefund, SimTrade

        with self.lock:
            orders = [o for (ch, _), o in self.orders.items() if ch == channel and o.paid_at is not None]
            refunds = [r for (ch, _), r in self.refunds.items() if ch == channel]
            by_no = {o.out_trade_no: o for o in orders}
        trades = [
            SimTrade(
                o.mch_id,
                APP_IDS[channel],
                o.out_trade_no,
                o.channel_trade_no,
                o.amount_fen,
                o.fee_fen,
                FEE_RATES[channel],
                o.status,
                o.paid_at,
                o.subject,
                o.payer,
            )
            for o in orders
        ]
        rfs = [
            SimRefund(
                r.out_refund_no,
                r.refund_id,
                r.out_trade_no,
                by_no[r.out_trade_no].channel_trade_no if r.out_trade_no in by_no else "",
                r.amount_fen,
                r.fee_refund_fen,
                r.refunded_at,
                r.mch_id,
                APP_IDS[channel],
                by_no[r.out_trade_no].subject if r.out_trade_no in by_no else "",
                FEE_RATES[channel],
            )
            for r in refunds
        ]
        return trades, rfs
