"""Streaming parsers of the channels' daily statements (WeChat Pay ALL bill, Alipay 业务明细) into normalised
StatementLine records, with the file's own summary checked against the rows once the last row is read.

A file is streamed (never loaded whole): a WeChat bill in blocks of about BLOCK_BYTES, each split and parsed
a column at a time when its rows are plain (ColumnBlock: a million rows without a Python step per row),
else line by line with the same rules and messages; an Alipay bill line by line. Encoding sniffed (UTF-8 with or without BOM, else
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
from collections.abc import Callable, Iterator
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
BLOCK_BYTES = 64 * 1024  # read and parsed at a time: ~300 lines of a WeChat bill, whose parts stay in cache
LIST_BLOCK_LINES = 1000  # lines read one by one are handed on in lists of this many
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


class ColumnBlock:
    """Consecutive WeChat rows (lines first_line, first_line + 1, …) held as columns: what the matcher needs
    of every row, without a StatementLine for each. `order_no`, `amount_fen` and `fee_fen` of a trade row are
    those of its line; `all_paid` says every row is a trade the channel reports as SUCCESS. Other fields stay
    as the file's bytes until line(i) builds the row's StatementLine (refund rows are kept as lines)."""

    __slots__ = (
        "all_paid",
        "amount_fen",
        "fee_fen",
        "first_line",
        "order_no",
        "refunds",
        "states",
        "time_keys",
        "time_of",
        "trade_no",
    )

    def __init__(
        self,
        first_line: int,
        order_no: list[str],
        amount_fen: list[int],
        fee_fen: list[int],
        states: list[bytes],
        trade_no: list[bytes],
        time_keys: list[bytes],
        time_of: dict[bytes, datetime],
        refunds: dict[int, StatementLine],
        all_paid: bool,
    ) -> None:
        self.first_line = first_line
        self.order_no = order_no
        self.amount_fen = amount_fen
        self.fee_fen = fee_fen
        self.states = states
        self.trade_no = trade_no
        self.time_keys = time_keys
        self.time_of = time_of
        self.refunds = refunds
        self.all_paid = all_paid

    def __len__(self) -> int:
        return len(self.order_no)

    def status(self, i: int) -> str:
        """The channel's status of row `i` (of a refund row: its refund status)."""
        refund = self.refunds.get(i)
        return refund.status if refund is not None else _text(self.states[i])

    def line(self, i: int) -> StatementLine:
        """Row `i` of the block as a StatementLine."""
        refund = self.refunds.get(i)
        if refund is not None:
            return refund
        return StatementLine(
            "wechat", "trade", self.order_no[i], _text(self.trade_no[i]), "", "", self.amount_fen[i],
            self.fee_fen[i], _text(self.states[i]), self.time_of[self.time_keys[i]], self.first_line + i,
        )  # fmt: skip

    def lines(self) -> Iterator[StatementLine]:
        return map(self.line, range(len(self.order_no)))


class _WechatLayout(NamedTuple):
    """Column positions in a WeChat bill, taken from its header."""

    time: int
    trade_no: int
    order_no: int
    state: int
    settle: int
    refund_id: int
    refund_no: int
    refund: int
    refund_state: int
    fee: int
    order: int | None
    applied: int | None
    width: int


class _Text:
    """A statement's bytes, a block at a time: single lines decoded (the header and summary; a line ends at
    \r, \n or \r\n, as in a text file opened with newline=""), or a block of whole lines as bytes. Both
    encodings read here (UTF-8, GB18030) never use the bytes of \r and \n inside a character, so a block
    cut at a line end decodes on its own."""

    def __init__(self, raw: BinaryIO, encoding: str, reader: StatementReader) -> None:
        self.raw = raw
        self.reader = reader
        self.encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        self.buf = b""
        self.eof = False
        self.started = False

    def _fill(self) -> None:
        data = self.raw.read(BLOCK_BYTES) if not self.eof else b""
        if not self.started:
            self.started = True
            data = data.removeprefix(codecs.BOM_UTF8)
        if not data:
            self.eof = True
        self.buf += data

    def decode(self, data: bytes) -> str:
        """`data` (lines following the reader's current line) as text; a bad byte is refused by its line."""
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError as err:
            line = self.reader.physical_line + data[: err.start].count(b"\n") + 1
            raise _problem(line, N_("the file is not valid text (UTF-8 or GBK).")) from None

    def readline(self) -> str:
        """The next line with its ending, decoded; "" at the end of the file."""
        while True:
            m = _EOL.search(self.buf)
            if m is not None and (m.end() < len(self.buf) or m.group() != b"\r" or self.eof):
                line, self.buf = self.buf[: m.end()], self.buf[m.end() :]
                return self.decode(line)
            if self.eof:
                line, self.buf = self.buf, b""
                return self.decode(line)
            self._fill()

    def block(self) -> bytes:
        """The next lines, about BLOCK_BYTES of them, ending at a line end (or the end of the file)."""
        self._fill()
        while True:
            if self.eof:
                out, self.buf = self.buf, b""
                return out
            cut = max(self.buf.rfind(b"\n"), self.buf.rfind(b"\r", 0, len(self.buf) - 1))
            if cut >= 0:
                out, self.buf = self.buf[: cut + 1], self.buf[cut + 1 :]
                return out
            self._fill()


class StatementReader:
    """Iterate a statement's lines: `for line in StatementReader("wechat", path): ...`, or its blocks of
    lines (`blocks()`), which is how the reconciliation reads a million-line file.

    When the iteration ends, `declared` holds the file's summary and `computed` the rows' totals (they
    agree, or the iteration raised). `day` is the statement's date where the file states it (Alipay).
    """

    def __init__(
        self,
        channel: str,
        source: Path | BinaryIO | bytes,
        on_time: Callable[[datetime, int], None] | None = None,
    ) -> None:
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
        self.on_time = on_time  # sees each distinct line time (with its first line) once; may raise
        # A day has 86,400 distinct seconds and amounts repeat: each distinct text (or its bytes) parsed once.
        self._times: dict[str | bytes, datetime] = {}
        self._fens: dict[str | bytes, int] = {}
        self._order_sum = self._applied_sum = 0

    def __iter__(self) -> Iterator[StatementLine]:
        for block in self.blocks():
            yield from (block if isinstance(block, list) else block.lines())

    def blocks(self) -> Iterator[ColumnBlock | list[StatementLine]]:
        """The statement's lines in consecutive blocks: a ColumnBlock for plain WeChat rows (parsed column by
        column, without a Python step per line), else a list of StatementLine. Checked like __iter__."""
        if isinstance(self.source, bytes):
            yield from self._read(io.BytesIO(self.source))
        elif isinstance(self.source, Path):
            with self.source.open("rb") as fh:
                yield from self._read(fh)
        else:
            yield from self._read(self.source)

    def _read(self, raw: BinaryIO) -> Iterator[ColumnBlock | list[StatementLine]]:
        if hasattr(raw, "peek"):
            head = raw.peek(SNIFF_BYTES)[:SNIFF_BYTES]
        else:  # BytesIO and other seekable streams
            head = raw.read(SNIFF_BYTES)
            raw.seek(-len(head), io.SEEK_CUR)
        encoding = _choose_encoding(head)
        if self.channel == "wechat":
            try:
                yield from self._wechat(_Text(raw, encoding, self))
            except csv.Error as err:
                raise _problem(
                    self.physical_line, N_("the CSV is malformed ({error})."), error=str(err)
                ) from None
            self._check_totals()
            return
        text = io.TextIOWrapper(raw, encoding=encoding, newline="", errors="strict")
        try:
            batch: list[StatementLine] = []
            for line in self._alipay(text):
                batch.append(line)
                if len(batch) >= LIST_BLOCK_LINES:
                    yield batch
                    batch = []
            if batch:
                yield batch
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

    def _parse_time(self, text: str, line_no: int, key: str | bytes | None = None) -> datetime:
        """A time text seen for the first time (or again after the cache was emptied): parsed, remembered
        (under `key`, its bytes, when read as bytes), and shown to `on_time`."""
        times = self._times
        if len(times) > TIME_CACHE_MAX:
            times.clear()
        at = times[text if key is None else key] = _to_time(text, line_no)
        if self.on_time is not None:
            self.on_time(at, line_no)
        return at

    # ------------------------------------------------------------------------------------------ WeChat

    def _wechat(self, text: _Text) -> Iterator[ColumnBlock | list[StatementLine]]:
        header = None
        while raw := text.readline():
            self.physical_line += 1
            row = _split(raw)
            if any(cell.strip() for cell in row):
                header = [cell.strip().lstrip("\ufeff`").strip() for cell in row]
                break
        if header is None:
            raise ValidationError(N_("The statement file is empty."), field="statement")
        col = _columns(header, WECHAT_REQUIRED, self.physical_line)
        layout = _WechatLayout(
            *(col[n] for n in WECHAT_REQUIRED),
            order=header.index("订单金额") if "订单金额" in header else None,
            applied=header.index("申请退款金额") if "申请退款金额" in header else None,
            width=len(header),
        )
        self._order_sum = self._applied_sum = 0
        while chunk := text.block():
            block = self._wechat_columns(chunk, layout, text)
            if block is not None:
                yield block
                continue
            lines = list(self._wechat_lines(chunk, layout, text))
            if lines:
                yield lines
            if self.declared is not None:
                break
        if layout.order is not None:
            self.computed.extra["订单总金额"] = self._order_sum
        if layout.applied is not None:
            self.computed.extra["申请退款总金额"] = self._applied_sum

    def _wechat_columns(self, chunk: bytes, lay: _WechatLayout, text: _Text) -> ColumnBlock | None:
        """The usual block of a UTF-8 bill — whole rows of exactly the header's width, every field back-quoted,
        nothing quoted or padded — split and parsed a column at a time, as bytes (a Chinese subject would make
        the text twice as wide); None for anything else, which is read line by line."""
        if text.encoding != "utf-8":
            return None
        if b'"' in chunk or not chunk.endswith(b"\n"):
            return None
        if not chunk.isascii():
            text.decode(chunk)  # refuses a bad byte, naming its line
        plain = chunk.translate(None, b"`")
        n = plain.count(b"\n")
        step = lay.width + 1
        # One split for the whole block: each row's fields followed by a "\n" marker, so a row of another
        # width (a blank line, the summary, a line ended by LF in a CRLF file) shows as a marker out of place.
        # Padding needs no look: the time and amount parsers strip it, and the text columns are stripped
        # below when they hold any.
        if b"\r" in plain:
            plain = plain.replace(b"\r\n", b",\n,")
            if b"\r" in plain:
                return None  # a lone CR: a line end to the line-by-line reader
        else:
            plain = plain.replace(b"\n", b",\n,")
        flat = plain.split(b",")
        if len(flat) != n * step + 1 or flat[lay.width :: step].count(b"\n") != n:
            return None
        flat.pop()
        first = self.physical_line + 1

        def column(i: int) -> list[bytes]:
            return flat[i::step]

        def texts(i: int) -> list[str]:
            joined = b"\n".join(flat[i::step]).decode()  # one decode for the column
            if " " in joined or "\t" in joined:
                return [v.strip(" \t") for v in joined.split("\n")]
            return joined.split("\n")

        # Times: each distinct one of the block looked up (and, if new, parsed and shown to on_time) once.
        times = self._times
        time_keys = column(lay.time)
        distinct = set(time_keys)
        if not distinct <= times.keys():
            at_first = dict(zip(reversed(time_keys), range(n - 1, -1, -1), strict=True))
            for t in sorted(distinct.difference(times), key=at_first.__getitem__):
                self._parse_time(t.decode(), first + at_first[t], key=t)
            for t in distinct.difference(times):  # the cache was emptied on the way: fill it again
                times[t] = _to_time(t.decode(), first + at_first[t])
        time_of = {t: times[t] for t in distinct}
        fee = self._fen_column(column(lay.fee), first, "手续费")
        settle_keys = column(lay.settle)
        settle = self._fen_column(settle_keys, first, "应结订单金额")
        c = self.computed
        c.fee_fen += sum(fee)
        settled = sum(settle)
        c.trade_fen += settled
        amount = settle
        if lay.order is None:
            self._order_sum += settled
        else:
            order_keys = column(lay.order)
            if order_keys == settle_keys:  # a payment's two amounts are the same text
                self._order_sum += settled
            else:
                amount = self._fen_column(order_keys, first, "订单金额")
                self._order_sum += sum(amount)
                if any(not t.strip() for t in set(order_keys)):  # no order amount: the settled one is
                    amount = [
                        s if t.strip() else o for o, s, t in zip(amount, settle, order_keys, strict=True)
                    ]
        applied_keys = None
        if lay.applied is not None:
            applied_keys = column(lay.applied)
            if applied_keys.count(b"0.00") != n:
                self._applied_sum += sum(self._fen_column(applied_keys, first, "申请退款金额"))
        order_no, states = texts(lay.order_no), column(lay.state)
        trade_no = column(lay.trade_no)
        refunds: dict[int, StatementLine] = {}
        all_paid = states.count(b"SUCCESS") == n
        if not all_paid and b"REFUND" in b"\n".join(states):
            refund_keys, refund_nos = column(lay.refund), column(lay.refund_no)
            refund_ids, refund_states = column(lay.refund_id), column(lay.refund_state)
            for i, state in enumerate(states):
                if state.strip(b" \t") != b"REFUND":
                    continue
                line_no = first + i
                refund = to_fen(refund_keys[i].decode(), line_no, "退款金额")
                if applied_keys is not None:
                    text_ = applied_keys[i].decode()
                    refund_amount = to_fen(text_, line_no, "申请退款金额") if text_ != "0.00" else 0
                else:
                    refund_amount = refund
                c.refund_fen += refund
                refunds[i] = StatementLine(
                    "wechat", "refund", order_no[i], _text(trade_no[i]), _text(refund_nos[i]),
                    _text(refund_ids[i]), refund_amount, -fee[i], _text(refund_states[i]) or "SUCCESS",
                    time_of[time_keys[i]], line_no,
                )  # fmt: skip
            c.refund_count += len(refunds)
        c.trade_count += n - len(refunds)
        self.physical_line += n
        return ColumnBlock(
            first, order_no, amount, fee, states, trade_no, time_keys, time_of, refunds, all_paid
        )

    def _fen_column(self, keys: list[bytes], first: int, column: str) -> list[int]:
        """A column of amount texts as fen; each distinct text parsed once (bad ones named by their line)."""
        fens = self._fens
        try:
            return list(map(fens.__getitem__, keys))
        except KeyError:
            new = set(keys).difference(fens)
            if len(fens) + len(new) > AMOUNT_CACHE_MAX:
                fens.clear()
                new = set(keys)
            bad = []
            for t in new:
                try:
                    fens[t] = to_fen(t.decode())
                except ValidationError:
                    bad.append(t)
            if bad:
                line = min(keys.index(t) for t in bad)
                to_fen(keys[line].decode(), first + line, column)  # raises, naming the first bad line
        return list(map(fens.__getitem__, keys))

    def _wechat_lines(self, chunk: bytes, lay: _WechatLayout, text: _Text) -> Iterator[StatementLine]:
        """A block read line by line: quoted or padded fields, blank lines, the summary, broken rows."""
        src = io.StringIO(text.decode(chunk), newline="")
        c = self.computed
        times, fens = self._times, self._fens
        junk = "` \t"  # the back-quote WeChat puts before every field, and stray padding
        width = lay.width
        for raw in src:
            self.physical_line += 1
            line_no = self.physical_line
            if '"' in raw:
                row = [v.strip(junk) for v in _split(raw)]
            else:
                plain = raw.rstrip("\r\n").replace("`", "")
                row = plain.split(",")
                if "\t" in plain or ", " in plain or " ," in plain or plain[:1] == " " or plain[-1:] == " ":
                    row = [v.strip(junk) for v in row]
            if len(row) < width:
                if not any(v.strip() for v in row):
                    continue
                if row[0] == "总交易单数":
                    values = next(src, None) or text.readline() or None
                    self.declared = self._wechat_summary(row, None if values is None else _split(values))
                    return
                raise _problem(line_no, N_("it has {n} columns, the header {m}."), n=len(row), m=width)
            state = row[lay.state]
            time_text = row[lay.time]
            at = times.get(time_text) or self._parse_time(time_text, line_no)
            fee = _cached_fen(fens, row[lay.fee], line_no, "手续费")
            settle_text = row[lay.settle]
            settle = _cached_fen(fens, settle_text, line_no, "应结订单金额")
            c.fee_fen += fee
            c.trade_fen += settle
            if lay.order is None:
                order_text = ""
                order = settle
            else:
                order_text = row[lay.order]
                order = (
                    settle
                    if order_text == settle_text
                    else _cached_fen(fens, order_text, line_no, "订单金额")
                )
            applied = 0
            if lay.applied is not None:
                applied_text = row[lay.applied]
                if applied_text != "0.00":
                    applied = to_fen(applied_text, line_no, "申请退款金额")
            self._applied_sum += applied
            self._order_sum += order
            if state == "REFUND":
                refund = to_fen(row[lay.refund], line_no, "退款金额")
                c.refund_count += 1
                c.refund_fen += refund
                yield StatementLine(
                    "wechat", "refund", row[lay.order_no], row[lay.trade_no], row[lay.refund_no],
                    row[lay.refund_id], applied if lay.applied is not None else refund, -fee,
                    row[lay.refund_state] or "SUCCESS", at, line_no,
                )  # fmt: skip
            else:
                c.trade_count += 1
                yield StatementLine(
                    "wechat", "trade", row[lay.order_no], row[lay.trade_no], "", "",
                    order if order_text else settle, fee, state, at, line_no,
                )  # fmt: skip

    def _numbered(self, text: io.TextIOWrapper) -> Iterator[str]:
        for line in text:
            self.physical_line += 1
            yield line

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
        times = self._times
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
            at = times.get(at_text) or self._parse_time(at_text, line_no)
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


def _text(field: bytes) -> str:
    """A field of a block read as bytes, as the line-by-line reader gives it (padding stripped)."""
    return field.strip(b" \t").decode()


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


_EOL = re.compile(rb"\r\n|\r|\n")

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
