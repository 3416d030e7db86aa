"""Bank batch debit (代扣): orders wait (PAYING) until a request file goes to the bank and its result file
comes back. Both are UTF-8 CSV with a header line:

request  `order_no,payer_account,amount_fen,subject`
result   `order_no,amount_fen,result,bank_ref,message` with result `S` (debited) or `F` (not debited).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from core.payments.channels.base import (
    CLOSED,
    PAYING,
    SUCCESS,
    Channel,
    ChannelOrder,
    ChannelResult,
    RefundResult,
)

REQUEST_HEADER = ("order_no", "payer_account", "amount_fen", "subject")
RESULT_HEADER = ("order_no", "amount_fen", "result", "bank_ref", "message")
RESULT_LINES_MAX = 100_000


class BankDebitChannel(Channel):
    code = "bank_debit"
    synchronous = False

    def create(self, order: ChannelOrder) -> ChannelResult:
        req = {"amount_fen": order.amount_fen, "payer": order.payer}
        return ChannelResult(PAYING, None, {"batch": "pending"}, request=req, response={"queued": True})

    def query(self, order_no: str) -> ChannelResult:
        # Only the result file knows; the order stays PAYING until it comes.
        return ChannelResult(PAYING)

    def close(self, order_no: str) -> ChannelResult:
        return ChannelResult(CLOSED)

    def refund(self, order_no: str, refund_no: str, amount_fen: int, total_fen: int) -> RefundResult:
        # A debit is refunded by a transfer back to the payer's account, done by the bank at once.
        req = {"order_no": order_no, "refund_no": refund_no, "amount_fen": amount_fen}
        return RefundResult(SUCCESS, refund_no, req, {"result": "SUCCESS"})


@dataclass(frozen=True)
class DebitLine:
    order_no: str
    amount_fen: int
    ok: bool
    bank_ref: str
    message: str


def write_request_file(rows: list[tuple[str, str, int, str]]) -> bytes:
    """The request file for (order_no, payer_account, amount_fen, subject) rows."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(REQUEST_HEADER)
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


def parse_result_file(data: bytes) -> list[DebitLine]:
    """The bank's result lines; ValueError naming the line for anything malformed."""
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != RESULT_HEADER:
        raise ValueError("line 1: unexpected header")
    lines: list[DebitLine] = []
    for n, row in enumerate(reader, start=2):
        if not row:
            continue
        if n > RESULT_LINES_MAX:
            raise ValueError("too many lines")
        if len(row) != len(RESULT_HEADER):
            raise ValueError(f"line {n}: expected {len(RESULT_HEADER)} fields")
        order_no, amount, result, bank_ref, message = (c.strip() for c in row)
        if not amount.isdigit() or result not in ("S", "F"):
            raise ValueError(f"line {n}: bad amount or result")
        lines.append(DebitLine(order_no, int(amount), result == "S", bank_ref, message))
    return lines
