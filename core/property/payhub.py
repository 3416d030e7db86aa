"""Property as an app of the payment hub: when an order of app "property" succeeds (QR, UnionPay, counter),
the bills of the house named in its metadata are settled and a receipt issued — in the hub's transaction.

The order's `out_trade_no` is the property payment's reference, so a counter that settles in its own
transaction (desktop) and this handler settle the same payment once.
"""

from __future__ import annotations

import uuid
from typing import Any

from core.payments import notify
from core.property import billing
from core.uow import UnitOfWork

APP_ID = "property"
# Hub channels → the property ledger's receipt channels (billing.CHANNELS).
CHANNEL_OF = {
    "cash": "cash",
    "pos": "pos",
    "bank_transfer": "bank",
    "wechat": "wechat",
    "alipay": "alipay",
}


def payment_metadata(house_id: uuid.UUID, bill_ids: list[uuid.UUID] | None, collect_late_fee: bool) -> dict:
    """What a property order carries so the hub's notice can settle it."""
    return {
        "house_id": str(house_id),
        "bill_ids": [str(b) for b in bill_ids or []],
        "collect_late_fee": bool(collect_late_fee),
    }


def on_notice(uow: UnitOfWork, notice: dict[str, Any]) -> None:
    """Settle a successful payment order of app "property"; anything else needs no action here."""
    if notice.get("kind") != "pay" or notice.get("status") != "SUCCESS":
        return
    meta = notice.get("metadata") or {}
    if not meta.get("house_id"):
        return  # an order not tied to a house (e.g. a deposit paid elsewhere): nothing to settle
    record = billing.PaymentRecord(
        uuid.UUID(meta["house_id"]),
        CHANNEL_OF.get(notice.get("channel", ""), "hub"),
        int(notice["amount_fen"]),
        notice["out_trade_no"],
    )
    bill_ids = [uuid.UUID(b) for b in meta.get("bill_ids") or []] or None
    billing.settle_payment_in(
        uow, record, bill_ids=bill_ids, collect_late_fee=bool(meta.get("collect_late_fee"))
    )


notify.register_handler(APP_ID, on_notice)
