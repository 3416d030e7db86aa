"""Daily statement files in the channels' real formats, written by the channel simulator: WeChat Pay's
对账单 (downloadbill / tradebill, bill_type=ALL) and Alipay's 业务明细 trade bill (GBK CSV).

What the WeChat Pay writer follows (API v2 `downloadbill`, v3 `tradebill` — the file is the same):
- UTF-8, lines ending in CRLF as the real download does; first row the 27 column names of the
  ALL bill, no back-quotes on the header; every data field prefixed with a back-quote (`) so spreadsheets
  keep long numbers as text; a field containing a comma is quoted as CSV (the real file never has one,
  since WeChat strips commas from 商品名称, but a parser must not break on it).
- One row per successful payment (交易状态 SUCCESS, 退款 columns 0 / empty) and one per refund booked that day
  (交易状态 REFUND: 应结订单金额 and 订单金额 0.00, 退款金额 and 申请退款金额 the refund, 退款类型 ORIGINAL,
  退款状态 SUCCESS, 手续费 the fee given back as a negative amount). A refund row carries the refund's
  time in 交易时间. Amounts are yuan with 2 decimals; 费率 is a percentage such as "0.60%".
- Then the summary: the row 总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额
  and one back-quoted row of figures (总交易单数 counts payment and refund rows).
What the Alipay writer follows (`alipay.data.dataservice.bill.downloadurl.query`, bill_type=trade, the
`*_业务明细.csv` inside the zip):
- GBK; preamble lines `#支付宝业务明细查询`, `#账号：[<pid>]`, `#起始日期：[yyyy年MM月dd日 00:00:00]   终止日期：[…]`;
  the 25-column header; one row per payment (业务类型 交易) or refund (业务类型 退款: 订单金额 and 商家实收
  negative, 服务费 given back as a positive amount, 退款批次号/请求号 the merchant's refund request no.);
  long numbers end with a tab as in the real file (so Excel keeps them as text); then the footer
  `#-----…业务明细列表结束…-----`, `#交易合计：N笔，商家实收：X元，服务费：F元`, `#退款合计：…`, `#导出时间：[…]`.
  (The real footer's wording varies between Alipay releases; the parser reads the counts and sums from it.)
Rows are selected by the channel's own clock: a payment belongs to the day (Asia/Shanghai) of its paid_at,
a refund to the day of its refunded_at — which is why a payment near midnight can appear a day after ours.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from core.clock import BUSINESS_TZ
from core.money import fen_to_yuan_str

WECHAT_COLUMNS: tuple[str, ...] = (
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
)
WECHAT_SUMMARY_COLUMNS: tuple[str, ...] = (
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
)
ALIPAY_COLUMNS: tuple[str, ...] = (
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝红包（元）",
    "集分宝（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "券核销金额（元）",
    "券名称",
    "商家红包消费金额（元）",
    "卡消费金额（元）",
    "退款批次号/请求号",
    "服务费（元）",
    "分润（元）",
    "备注",
)
ALIPAY_LIST_END = (
    "#-----------------------------------------业务明细列表结束------------------------------------"
)

# Channel order states that mean the payer's money arrived (a later refund does not remove the payment row).
PAID_STATES = frozenset({"SUCCESS", "REFUND"})


@dataclass(frozen=True)
class SimTrade:
    """A payment as the simulated channel recorded it."""

    mch_id: str
    app_id: str
    out_trade_no: str  # our order_no: the merchant order number the channel sees
    channel_trade_no: str
    amount_fen: int
    fee_fen: int
    fee_rate: Decimal | str
    status: str  # the channel's state: SUCCESS, REFUND (paid, later refunded), NOTPAY, CLOSED, PAYERROR
    paid_at: datetime | None  # aware
    subject: str = ""
    payer: str = ""  # openid / buyer logon id


@dataclass(frozen=True)
class SimRefund:
    """A successful refund as the simulated channel recorded it."""

    out_refund_no: str  # our refund_no: the merchant refund number the channel sees
    refund_id: str
    out_trade_no: str
    channel_trade_no: str
    amount_fen: int
    fee_refund_fen: int
    refunded_at: datetime | None  # aware; None while the refund is still processing
    mch_id: str = ""
    app_id: str = ""
    subject: str = ""
    fee_rate: Decimal | str = "0"
    status: str = "SUCCESS"


def _local_day(instant: datetime) -> date:
    if instant.tzinfo is None:
        raise ValueError("statement times must be timezone-aware")
    return instant.astimezone(BUSINESS_TZ).date()


def _local_text(instant: datetime) -> str:
    return instant.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _percent(rate: Decimal | str) -> str:
    return f"{(Decimal(str(rate)) * 100).quantize(Decimal('0.01'))}%"


def trades_of_day(day: date, trades: Iterable[SimTrade]) -> list[SimTrade]:
    """The payments the channel books on `day`, in time order."""
    chosen = [t for t in trades if t.status in PAID_STATES and t.paid_at and _local_day(t.paid_at) == day]
    return sorted(chosen, key=lambda t: (t.paid_at, t.out_trade_no))


def refunds_of_day(day: date, refunds: Iterable[SimRefund]) -> list[SimRefund]:
    chosen = [
        r
        for r in refunds
        if r.status == "SUCCESS" and r.refunded_at is not None and _local_day(r.refunded_at) == day
    ]
    return sorted(chosen, key=lambda r: (r.refunded_at, r.out_refund_no))


def _bq(values: Iterable[object]) -> list[str]:
    return [f"`{v}" for v in values]


_SPECIAL = (",", '"', "\r", "\n")


class _Rows:
    """Formats one CSV row at a time (quoting a field only when it needs it), so a file can be streamed."""

    def __init__(self) -> None:
        self._buf = io.StringIO()
        self._writer = csv.writer(self._buf, lineterminator="\r\n")

    def __call__(self, fields: Iterable[object]) -> str:
        texts = [str(f) for f in fields]
        if not any(c in t for t in texts for c in _SPECIAL):
            return ",".join(texts) + "\r\n"
        self._buf.seek(0)
        self._buf.truncate()
        self._writer.writerow(texts)
        return self._buf.getvalue()


def wechat_statement_lines(
    day: date, trades: Iterable[SimTrade], refunds: Iterable[SimRefund], *, appid: str = "wx8888888888888888"
) -> Iterator[str]:
    """The lines (with CRLF) of the WeChat Pay ALL bill of `day`: header, rows, summary title and row."""
    row = _Rows()
    yield row(WECHAT_COLUMNS)
    count = settle_fen = refund_fen = fee_fen = order_fen = applied_fen = 0
    for t in trades_of_day(day, trades):
        yield row(
            _bq(
                (
                    _local_text(t.paid_at),
                    appid,
                    t.mch_id,
                    "0",
                    "",
                    t.channel_trade_no,
                    t.out_trade_no,
                    t.payer,
                    "NATIVE",
                    "SUCCESS",
                    "OTHERS",
                    "CNY",
                    fen_to_yuan_str(t.amount_fen),
                    "0.00",
                    "0",
                    "0",
                    "0.00",
                    "0.00",
                    "",
                    "",
                    t.subject,
                    "",
                    fen_to_yuan_str(t.fee_fen),
                    _percent(t.fee_rate),
                    fen_to_yuan_str(t.amount_fen),
                    "0.00",
                    "",
                )
            )
        )
        count += 1
        settle_fen += t.amount_fen
        order_fen += t.amount_fen
        fee_fen += t.fee_fen
    for r in refunds_of_day(day, refunds):
        yield row(
            _bq(
                (
                    _local_text(r.refunded_at),
                    appid,
                    r.mch_id,
                    "0",
                    "",
                    r.channel_trade_no,
                    r.out_trade_no,
                    "",
                    "NATIVE",
                    "REFUND",
                    "OTHERS",
                    "CNY",
                    "0.00",
                    "0.00",
                    r.refund_id,
                    r.out_refund_no,
                    fen_to_yuan_str(r.amount_fen),
                    "0.00",
                    "ORIGINAL",
                    "SUCCESS",
                    r.subject,
                    "",
                    fen_to_yuan_str(-r.fee_refund_fen),
                    _percent(r.fee_rate),
                    "0.00",
                    fen_to_yuan_str(r.amount_fen),
                    "",
                )
            )
        )
        count += 1
        refund_fen += r.amount_fen
        applied_fen += r.amount_fen
        fee_fen -= r.fee_refund_fen
    yield row(WECHAT_SUMMARY_COLUMNS)
    yield row(
        _bq(
            (
                count,
                fen_to_yuan_str(settle_fen),
                fen_to_yuan_str(refund_fen),
                "0.00",
                fen_to_yuan_str(fee_fen),
                fen_to_yuan_str(order_fen),
                fen_to_yuan_str(applied_fen),
            )
        )
    )


def wechat_statement(
    day: date, trades: Iterable[SimTrade], refunds: Iterable[SimRefund], *, appid: str = "wx8888888888888888"
) -> bytes:
    """The WeChat Pay ALL bill of `day` as the download's bytes (UTF-8)."""
    return "".join(wechat_statement_lines(day, trades, refunds, appid=appid)).encode("utf-8")


def write_wechat_statement(
    path: Path, day: date, trades: Iterable[SimTrade], refunds: Iterable[SimRefund]
) -> None:
    """Write the bill to `path` line by line (a million-row day never sits in memory as one string)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.writelines(wechat_statement_lines(day, trades, refunds))


def _cn_day(day: date) -> str:
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"


def alipay_statement_lines(
    day: date,
    trades: Iterable[SimTrade],
    refunds: Iterable[SimRefund],
    *,
    account: str = "2088000000000000",
    exported_at: datetime | None = None,
) -> Iterator[str]:
    """The lines (with CRLF) of the Alipay 业务明细 bill of `day`: `#` preamble, header, rows, `#` footer."""
    row = _Rows()
    yield "#支付宝业务明细查询\r\n"
    yield f"#账号：[{account}]\r\n"
    yield f"#起始日期：[{_cn_day(day)} 00:00:00]   终止日期：[{_cn_day(day + timedelta(days=1))} 00:00:00]\r\n"
    yield row(ALIPAY_COLUMNS)
    n_trade = trade_fen = trade_fee_fen = 0
    for t in trades_of_day(day, trades):
        at = _local_text(t.paid_at)
        amount = fen_to_yuan_str(t.amount_fen)
        yield row(
            (
                f"{t.channel_trade_no}\t",
                f"{t.out_trade_no}\t",
                "交易",
                t.subject,
                at,
                at,
                "",
                "",
                "",
                "",
                t.payer,
                amount,
                amount,
                "0.00",
                "0.00",
                "0.00",
                "0.00",
                "0.00",
                "",
                "0.00",
                "0.00",
                "",
                fen_to_yuan_str(-t.fee_fen),
                "0.00",
                "",
            )
        )
        n_trade += 1
        trade_fen += t.amount_fen
        trade_fee_fen -= t.fee_fen
    n_refund = refund_fen = refund_fee_fen = 0
    for r in refunds_of_day(day, refunds):
        at = _local_text(r.refunded_at)
        amount = fen_to_yuan_str(-r.amount_fen)
        yield row(
            (
                f"{r.channel_trade_no}\t",
                f"{r.out_trade_no}\t",
                "退款",
                r.subject,
                at,
                at,
                "",
                "",
                "",
                "",
                "",
                amount,
                amount,
                "0.00",
                "0.00",
                "0.00",
                "0.00",
                "0.00",
                "",
                "0.00",
                "0.00",
                f"{r.out_refund_no}\t",
                fen_to_yuan_str(r.fee_refund_fen),
                "0.00",
                "",
            )
        )
        n_refund += 1
        refund_fen -= r.amount_fen
        refund_fee_fen += r.fee_refund_fen
    yield ALIPAY_LIST_END + "\r\n"
    yield (
        f"#交易合计：{n_trade}笔，商家实收：{fen_to_yuan_str(trade_fen)}元，"
        f"服务费：{fen_to_yuan_str(trade_fee_fen)}元\r\n"
    )
    yield (
        f"#退款合计：{n_refund}笔，商家实收：{fen_to_yuan_str(refund_fen)}元，"
        f"服务费：{fen_to_yuan_str(refund_fee_fen)}元\r\n"
    )
    stamp = exported_at or datetime.combine(day + timedelta(days=1), datetime.min.time(), BUSINESS_TZ)
    local = stamp.astimezone(BUSINESS_TZ)
    yield f"#导出时间：[{_cn_day(local.date())} {local.strftime('%H:%M:%S')}]\r\n"


def alipay_statement(
    day: date,
    trades: Iterable[SimTrade],
    refunds: Iterable[SimRefund],
    *,
    account: str = "2088000000000000",
    exported_at: datetime | None = None,
) -> bytes:
    """The Alipay 业务明细 bill of `day` as the download's bytes (GBK; a character GBK lacks becomes "?")."""
    text = "".join(alipay_statement_lines(day, trades, refunds, account=account, exported_at=exported_at))
    return text.encode("gbk", errors="replace")
