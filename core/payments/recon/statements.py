"""Streaming parsers of the channels' daily statements (WeChat Pay ALL bill, Alipay 业务明细) into normalised
StatementLine records, with the file's own summary checked against the rows once the last row is read.

A file is read one line at a time (never loaded whole): encoding sniffed (UTF-8 with or without BOM, else
GB18030 — a superset of the GBK Alipay writes), CRLF or LF, CSV quoting, back-quoted (`) fields and the
tab padding Alipay puts after long numbers. Amounts become integer fen by exact decimal text parsing; a file
whose rows do not add up to its summary, or that has no summary (truncated), is refused with a
ValidationError naming what disagrees. Column positions are taken from the header, by name.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO, NamedTuple

from core.clock import BUSINESS_TZ
from core.errors import ValidationError
from core.i18n import N_
from core.money import fen_to_yuan_str

CHANNELS = ("wechat", "alipay")
SNIFF_BYTES = 64 * 1024
TIME_CACHE_MAX = 100_000  # a day has 86,400 distinct seconds: parsed once each, not once per line
AMOUNT_CACHE_MAX = 200_000  # distinct amount texts remembered while reading (bounded memory)
FIELD_CHARS_MAX = 1024  # a statement field longer than this is a broken file, not data
csv.field_size_limit(FIELD_CHARS_MAX * 4)
WECHAT_REQUIRED = (
    "交易时间", "微信订单号", "商户订单号", "交易状态", "应结订单金额", "微信退款单号", "商户退款单号", "退款金额",
    "退款状态", "手续费",
)  # fmt: skip
ALIPAY_REQUIRED = (
    "支付宝交易号", "商户订单号", "业务类型", "完成时间", "订单金额（元）", "商家实收（元）", "退款批次号/请求号",
    "服务费（元）",
)  # fmt: skip


class StatementLine(NamedTuple):
    """One payment or refund as the channel booked it. Amounts are positive magnitudes in fen: `fee_fen` is
    the fee charged on a payment, or the fee given back on a refund."""

    channel: str
    kind: str  # trade | refund
    order_no: str  # the merchant order number: our order_no
    channel_trade_no: str
    refund_no: str  # the merchant refund number: our refund_no ("" for a trade)
    channel_refund_no: str
    amount_fen: int
    fee_fen: int
    status: str  # the channel's: SUCCESS, REVOKED, … (a refund line: its refund status)
    time: datetime  # aware, Asia/Shanghai
    line_no: int


@dataclass
class StatementTotals:
    """Counts and sums of a statement: as declared by its summary, or as computed from its rows."""

    trade_count: int = 0
    refund_count: int = 0
    trade_fen: int = 0  # WeChat 应结订单总金额 / Alipay 交易 商家实收
    refund_fen: int = 0  # WeChat 退款总金额 / Alipay 退款 商家实收 (as a positive figure)
    fee_fen: int = 0  # net fee: charged on payments less given back on refunds
    extra: dict[str, int] = field(default_factory=dict)  # other declared sums, checked when present
    fee_declared: bool = True  # an Alipay footer may leave out 服务费

    @property
    def count(self) -> int:
        return self.trade_count + self.refund_count


def _problem(line_no: int, message: str, **params: object) -> ValidationError:
    return ValidationError(
        N_("Statement line {line}: {problem}"), field="statement", line=line_no, problem=_fmt(message, params)
    )


def _fmt(message: str, params: dict) -> str:
    from core.i18n import translate

    return translate(message, params)


def to_fen(text: str, line_no: int = 0, column: str = "") -> int:
    """A statement amount ("12.30", "-0.06", "0.00000", "1,234.50") as exact integer fen."""
    # Fast path for the common "1234.56" / "-0.06": a million lines carry three or four amounts each.
    if len(text) > 3 and text[-3] == ".":
        head, tail = text[:-3], text[-2:]
        digits = head[1:] if head[:1] == "-" else head
        if digits.isdecimal() and tail.isdecimal() and text.isascii():
            fen = int(digits) * 100 + int(tail)
            return -fen if head[:1] == "-" else fen
    s = text.strip().replace(",", "")
    if not s:
        return 0
    negative = s[0] == "-"
    if s[0] in "+-":
        s = s[1:]
    whole, _dot, frac = s.partition(".")
    if not (whole.isascii() and whole.isdecimal()) or (frac and not (frac.isascii() and frac.isdecimal())):
        raise _problem(line_no, N_("“{text}” in column {column} is not an amount."), text=text, column=column)
    if len(frac) > 2:
        if frac[2:].strip("0"):
            raise _problem(
                line_no, N_("“{text}” in column {column} has a fraction of a fen."), text=text, column=column
            )
        frac = frac[:2]
    fen = int(whole) * 100 + (int(frac.ljust(2, "0")) if frac else 0)
    return -fen if negative else fen


def _to_time(text: str, line_no: int, cache: dict[str, datetime] | None = None) -> datetime:
    if cache is not None:
        hit = cache.get(text)
        if hit is not None:
            return hit
        if len(cache) > TIME_CACHE_MAX:
            cache.clear()
    s = text.strip()
    try:
        naive = datetime.fromisoformat(s.replace("/", "-"))
    except ValueError:
        raise _problem(line_no, N_("“{text}” is not a date and time."), text=s) from None
    at = naive.replace(tzinfo=BUSINESS_TZ)
    if cache is not None:
        cache[text] = at
    return at


def _cached_fen(cache: dict[str, int], text: str, line_no: int, column: str) -> int:
    hit = cache.get(text)
    if hit is not None:
        return hit
    if len(cache) > AMOUNT_CACHE_MAX:
        cache.clear()
    fen = cache[text] = to_fen(text, line_no, column)
    return fen


def _choose_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


class StatementReader:
    """Iterate a statement's lines: `for line in StatementReader("wechat", path): ...`.

    When the iteration ends, `declared` holds the file's summary and `computed` the rows' totals (they
    agree, or the iteration raised). `day` is the statement's date where the file states it (Alipay).
    """

    def __init__(self, channel: str, source: Path | BinaryIO | bytes) -> None:
        if channel not in CHANNELS:
            raise ValidationError(
                N_("There is no statement format for channel {channel}."), field="channel", channel=channel
            )
        self.channel = channel
        self.source = source
        self.declared: StatementTotals | None = None
        self.computed = StatementTotals()
        self.day: date | None = None
        self.physical_line = 0

    def __iter__(self) -> Iterator[StatementLine]:
        if isinstance(self.source, bytes):
            yield from self._read(io.BytesIO(self.source))
        elif isinstance(self.source, Path):
            with self.source.open("rb") as fh:
                yield from self._read(fh)
        else:
            yield from self._read(self.source)

    def _read(self, raw: BinaryIO) -> Iterator[StatementLine]:
        if hasattr(raw, "peek"):
            head = raw.peek(SNIFF_BYTES)[:SNIFF_BYTES]
        else:  # BytesIO and other seekable streams
            head = raw.read(SNIFF_BYTES)
            raw.seek(-len(head), io.SEEK_CUR)
        text = io.TextIOWrapper(raw, encoding=_choose_encoding(head), newline="", errors="strict")
        try:
            if self.channel == "wechat":
                yield from self._wechat(text)
            else:
                yield from self._alipay(text)
        except UnicodeDecodeError:
            raise _problem(self.physical_line, N_("the file is not valid text (UTF-8 or GBK).")) from None
        except csv.Error as err:
            raise _problem(
                self.physical_line, N_("the CSV is malformed ({error})."), error=str(err)
            ) from None
        finally:
            if not raw.closed:  # leave the caller's stream open; closing the wrapper would close it
                text.detach()
        self._check_totals()

    # ------------------------------------------------------------------------------------------ WeChat

    def _numbered(self, text: io.TextIOWrapper) -> Iterator[str]:
        for line in text:
            self.physical_line += 1
            yield line

    def _wechat(self, text: io.TextIOWrapper) -> Iterator[StatementLine]:
        rows = (_split(line) for line in self._numbered(text))
        header = None
        for row in rows:
            if any(cell.strip() for cell in row):
                header = [cell.strip().lstrip("\ufeff`").strip() for cell in row]
                break
        if header is None:
            raise ValidationError(N_("The statement file is empty."), field="statement")
        col = _columns(header, WECHAT_REQUIRED, self.physical_line)
        i_time, i_tno, i_ono, i_state, i_settle, i_rid, i_rno, i_refund, i_rstate, i_fee = (
            col[n] for n in WECHAT_REQUIRED
        )
        i_order = header.index("订单金额") if "订单金额" in header else None
        i_applied = header.index("申请退款金额") if "申请退款金额" in header else None
        width = len(header)
        c = self.computed
        order_sum = applied_sum = 0
        times: dict[str, datetime] = {}
        fens: dict[str, int] = {}  # amounts repeat: each distinct text parsed once
        junk = "` \t"  # the back-quote WeChat puts before every field, and stray padding
        line_no = self.physical_line
        for raw in text:  # the hot loop: lines counted and split here, without generator layers
            line_no += 1
            self.physical_line = line_no
            if '"' in raw:
                row = [v.strip(junk) for v in _split(raw)]
            else:
                # Every field is back-quoted: drop the quotes once per line, not once per field; padding
                # around a field (rare) takes the slow path.
                plain = raw.rstrip("\r\n").replace("`", "")
                row = plain.split(",")
                if "\t" in plain or ", " in plain or " ," in plain or plain[:1] == " " or plain[-1:] == " ":
                    row = [v.strip(junk) for v in row]
            if len(row) < width:
                if not any(v.strip() for v in row):
                    continue
                if row[0] == "总交易单数":
                    self.declared = self._wechat_summary(row, next(rows, None))
                    break
                raise _problem(line_no, N_("it has {n} columns, the header {m}."), n=len(row), m=width)
            state = row[i_state]
            text_ = row[i_time]
            at = times.get(text_) or _to_time(text_, line_no, times)
            text_ = row[i_fee]
            fee = fens.get(text_)
            if fee is None:
                fee = _cached_fen(fens, text_, line_no, "手续费")
            settle_text = row[i_settle]
            settle = fens.get(settle_text)
            if settle is None:
                settle = _cached_fen(fens, settle_text, line_no, "应结订单金额")
            c.fee_fen += fee
            c.trade_fen += settle
            if i_order is None:
                order_text = ""
                order = settle
            else:
                order_text = row[i_order]
                order = (
                    settle
                    if order_text == settle_text
                    else _cached_fen(fens, order_text, line_no, "订单金额")
                )
            applied = 0
            if i_applied is not None:
                applied_text = row[i_applied]
                if applied_text != "0.00":
                    applied = to_fen(applied_text, line_no, "申请退款金额")
            applied_sum += applied
            order_sum += order
            if state == "REFUND":
                refund = to_fen(row[i_refund], line_no, "退款金额")
                c.refund_count += 1
                c.refund_fen += refund
                yield StatementLine(
                    "wechat", "refund", row[i_ono], row[i_tno], row[i_rno],
                    row[i_rid], applied if i_applied is not None else refund, -fee,
                    row[i_rstate] or "SUCCESS", at, line_no,
                )  # fmt: skip
            else:
                c.trade_count += 1
                yield StatementLine(
                    "wechat", "trade", row[i_ono], row[i_tno], "", "",
                    order if order_text else settle, fee, state, at, line_no,
                )  # fmt: skip
        if i_order is not None:
            c.extra["订单总金额"] = order_sum
        if i_applied is not None:
            c.extra["申请退款总金额"] = applied_sum

    def _wechat_summary(self, title: list[str], values: list[str] | None) -> StatementTotals:
        line_no = self.physical_line
        if values is None:
            raise _problem(line_no, N_("the summary row is missing."))
        names = [v.strip().lstrip("`").strip() for v in title]
        vals = [v.strip().lstrip("`").strip() for v in values]
        if len(vals) < len(names):
            raise _problem(line_no, N_("the summary row is incomplete."))
        got = dict(zip(names, vals, strict=False))
        for need in ("总交易单数", "应结订单总金额", "退款总金额", "手续费总金额"):
            if need not in got:
                raise _problem(line_no, N_("the summary has no {name}."), name=need)
        count = got["总交易单数"]
        if not (count.isascii() and count.isdecimal()):
            raise _problem(line_no, N_("“{text}” is not a count."), text=count)
        declared = StatementTotals(
            trade_count=int(count),  # WeChat declares one count for all rows
            trade_fen=to_fen(got["应结订单总金额"], line_no, "应结订单总金额"),
            refund_fen=to_fen(got["退款总金额"], line_no, "退款总金额"),
            fee_fen=to_fen(got["手续费总金额"], line_no, "手续费总金额"),
        )
        for name in ("订单总金额", "申请退款总金额"):
            if name in got:
                declared.extra[name] = to_fen(got[name], line_no, name)
        return declared

    # ------------------------------------------------------------------------------------------ Alipay

    def _alipay(self, text: io.TextIOWrapper) -> Iterator[StatementLine]:
        comments: list[tuple[int, str]] = []

        def data_lines() -> Iterator[str]:
            for line in self._numbered(text):
                if line.lstrip("\ufeff").startswith("#"):
                    if len(comments) < 100:  # preamble and footer are a handful of lines
                        comments.append((self.physical_line, line.strip().lstrip("\ufeff")))
                    continue
                yield line

        rows = csv.reader(data_lines())
        header = None
        for row in rows:
            if any(cell.strip() for cell in row):
                header = [cell.strip() for cell in row]
                break
        if header is None:
            raise ValidationError(N_("The statement file is empty."), field="statement")
        self.day = _alipay_day(comments)
        col = _columns(header, ALIPAY_REQUIRED, self.physical_line)
        i_tno, i_ono, i_type, i_time, i_amount, i_net, i_rno, i_fee = (
            col[n]
            for n in (
                "支付宝交易号",
                "商户订单号",
                "业务类型",
                "完成时间",
                "订单金额（元）",
                "商家实收（元）",
                "退款批次号/请求号",
                "服务费（元）",
            )
        )
        i_created = header.index("创建时间") if "创建时间" in header else i_time
        times: dict[str, datetime] = {}
        width = len(header)
        c = self.computed
        for row in rows:
            line_no = self.physical_line
            if not row or not any(v.strip() for v in row):
                continue
            if len(row) < width:
                raise _problem(line_no, N_("it has {n} columns, the header {m}."), n=len(row), m=width)
            kind = row[i_type].strip()
            if kind not in ("交易", "退款"):
                continue  # other business types (e.g. 冻结) are not payments; the footer does not count them
            at_text = row[i_time].strip() or row[i_created].strip()
            at = _to_time(at_text, line_no, times)
            amount = to_fen(row[i_amount], line_no, "订单金额（元）")
            net = to_fen(row[i_net], line_no, "商家实收（元）")
            fee = to_fen(row[i_fee], line_no, "服务费（元）")
            if kind == "交易":
                c.trade_count += 1
                c.trade_fen += net
                c.fee_fen -= fee
                yield StatementLine(
                    "alipay", "trade", row[i_ono].strip(), row[i_tno].strip(), "", "", abs(amount), -fee,
                    "SUCCESS", at, line_no,
                )  # fmt: skip
            else:
                c.refund_count += 1
                c.refund_fen -= net
                c.fee_fen -= fee
                yield StatementLine(
                    "alipay", "refund", row[i_ono].strip(), row[i_tno].strip(), row[i_rno].strip(), "",
                    abs(amount), fee, "SUCCESS", at, line_no,
                )  # fmt: skip
        self.declared = _alipay_summary(comments)

    # ------------------------------------------------------------------------------------------ totals

    def _check_totals(self) -> None:
        d, c = self.declared, self.computed
        if d is None:
            raise ValidationError(
                N_("The statement has no summary lines; the file may be truncated."), field="statement"
            )
        if self.channel == "wechat":
            checks = [("总交易单数", d.trade_count, c.count, False)]
        else:
            checks = [
                ("交易合计 笔数", d.trade_count, c.trade_count, False),
                ("退款合计 笔数", d.refund_count, c.refund_count, False),
            ]
        checks += [
            ("trade", d.trade_fen, c.trade_fen, True),
            ("refund", d.refund_fen, c.refund_fen, True),
        ]
        if d.fee_declared:
            checks.append(("fee", d.fee_fen, c.fee_fen, True))
        checks += [(k, v, c.extra.get(k, 0), True) for k, v in d.extra.items()]
        for name, declared, computed, money in checks:
            if declared != computed:
                show = fen_to_yuan_str if money else str
                raise ValidationError(
                    N_(
                        "The statement does not add up: its summary says {name} = {declared}, "
                        "its rows give {computed}. The file is refused."
                    ),
                    field="statement",
                    name=name,
                    declared=show(declared),
                    computed=show(computed),
                )


def _split(line: str) -> list[str]:
    """One CSV line as fields: a plain split when nothing is quoted (the usual case, and much faster)."""
    if '"' in line:
        return next(csv.reader([line]), [])
    return line.rstrip("\r\n").split(",")


def _columns(header: list[str], needed: tuple[str, ...], line_no: int) -> dict[str, int]:
    missing = [n for n in needed if n not in header]
    if missing:
        raise _problem(line_no, N_("the header lacks the column(s) {names}."), names=", ".join(missing))
    return {n: header.index(n) for n in needed}


_DAY_RE = re.compile(r"起始日期[：:]\s*\[(\d{4})年(\d{1,2})月(\d{1,2})日")
_TOTAL_RE = re.compile(r"^#(交易|退款)合计[：:]\s*(\d+)\s*笔")
_NET_RE = re.compile(r"商家实收共?[：:]?\s*(-?[\d,]+(?:\.\d+)?)\s*元")
_FEE_RE = re.compile(r"服务费共?[：:]?\s*(-?[\d,]+(?:\.\d+)?)\s*元")


def _alipay_day(comments: list[tuple[int, str]]) -> date | None:
    for _line_no, text in comments:
        m = _DAY_RE.search(text)
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
    return None


def _alipay_summary(comments: list[tuple[int, str]]) -> StatementTotals | None:
    found: dict[str, tuple[int, int, int | None]] = {}
    for line_no, text in comments:
        m = _TOTAL_RE.match(text)
        if not m:
            continue
        net = _NET_RE.search(text)
        fee = _FEE_RE.search(text)
        found[m[1]] = (
            int(m[2]),
            to_fen(net[1], line_no, "商家实收") if net else 0,
            to_fen(fee[1], line_no, "服务费") if fee else None,
        )
    if "交易" not in found:
        return None
    t_count, t_net, t_fee = found["交易"]
    r_count, r_net, r_fee = found.get("退款", (0, 0, None))
    # The footer states 服务费 as the bill does: negative when charged, positive when given back.
    return StatementTotals(
        trade_count=t_count,
        refund_count=r_count,
        trade_fen=t_net,
        refund_fen=-r_net,
        fee_fen=-((t_fee or 0) + (r_fee or 0)),
        fee_declared=t_fee is not None or r_fee is not None,
    )
