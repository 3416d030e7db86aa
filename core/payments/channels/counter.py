"""In-process counter channels: cash (tendered and change), POS bank card (terminal reference no.), bank
transfer (reference of the incoming transfer) and provident-fund account deduction. They settle at once."""

from __future__ import annotations

from core.payments.channels.base import SUCCESS, Channel, ChannelOrder, ChannelResult, RefundResult


class CashChannel(Channel):
    code = "cash"
    synchronous = True

    def create(self, order: ChannelOrder) -> ChannelResult:
        tendered = order.amount_fen if order.tendered_fen is None else order.tendered_fen
        # The service checked tendered >= amount before anything was written.
        change = tendered - order.amount_fen
        req = {"amount_fen": order.amount_fen, "tendered_fen": tendered}
        info = {"tendered_fen": tendered, "change_fen": change}
        return ChannelResult(SUCCESS, None, info, None, 0, req, info)

    def refund(self, order_no: str, refund_no: str, amount_fen: int, total_fen: int) -> RefundResult:
        return RefundResult(SUCCESS, None, {"amount_fen": amount_fen}, {"paid_out_fen": amount_fen})


class _ReferenceChannel(Channel):
    """A channel whose settlement the clerk attests with a reference from another system."""

    synchronous = True

    def create(self, order: ChannelOrder) -> ChannelResult:
        req = {"amount_fen": order.amount_fen, "reference": order.reference}
        return ChannelResult(SUCCESS, order.reference, {"reference": order.reference}, None, None, req, req)

    def refund(self, order_no: str, refund_no: str, amount_fen: int, total_fen: int) -> RefundResult:
        req = {"order_no": order_no, "refund_no": refund_no, "amount_fen": amount_fen}
        return RefundResult(SUCCESS, refund_no, req, {"result": "SUCCESS"})


class PosChannel(_ReferenceChannel):
    code = "pos"


class BankTransferChannel(_ReferenceChannel):
    code = "bank_transfer"


class HousingFundChannel(_ReferenceChannel):
    code = "housing_fund"
