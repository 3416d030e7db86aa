"""What the counter shows for the codes services return (statuses, kinds): English msgids, translated when
shown. One table per kind of code, because the same code means different things (a house `occupied` is
lived in, a parking space `occupied` has a car in it)."""

from __future__ import annotations

from collections.abc import Mapping

from core.i18n import N_, _

HOUSE_STATUS = {
    "unsold": N_("unsold"),
    "vacant": N_("vacant"),
    "occupied": N_("lived in"),
    "renovating": N_("being renovated"),
}
BILL_STATUS = {
    "unpaid": N_("unpaid"),
    "partially_paid": N_("partly paid"),
    "paid": N_("paid"),
    "waived": N_("waived"),
}
REPAIR_STATUS = {
    "pending": N_("waiting for dispatch"),
    "grabbable": N_("in the grab pool"),
    "dispatched": N_("dispatched"),
    "accepted": N_("accepted by the worker"),
    "in_progress": N_("being repaired"),
    "paused": N_("paused"),
    "completed": N_("completed"),
    "rated": N_("rated"),
}
SPACE_STATUS = {
    "free": N_("available"),
    "sold": N_("sold"),
    "rented": N_("rented"),
    "occupied": N_("car parked"),
}
RECEIPT_CHANNEL = {
    "cash": N_("Cash"),
    "pos": N_("POS card"),
    "bank": N_("Bank transfer"),
    "wechat": N_("WeChat Pay"),
    "alipay": N_("Alipay"),
    "hub": N_("Payment hub"),
}
SPACE_KIND = {"fixed": N_("fixed space"), "temporary": N_("visitor space")}


def label(table: Mapping[str, str], code: str | None) -> str:
    """The translated label of `code`; an unknown code as it is (never an empty cell)."""
    if not code:
        return ""
    return _(table[code]) if code in table else code
