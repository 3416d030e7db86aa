"""Statement writers and parsers: round trips through both real formats, hand-written files with the real
quirks (back-quotes, BOM, CRLF, GBK, tab padding, summary lines), and files that must be refused."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ValidationError
from core.money import fen_to_yuan_str
from core.payments.recon.statements import StatementReader, to_fen
from hub.sim.statements import (
    ALIPAY_COLUMNS,
    WECHAT_COLUMNS,
    SimRefund,
    SimTrade,
    alipay_statement,
    wechat_statement,
    write_wechat_statement,
)

DAY = date(2026, 11, 25)
T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def trade(
    no: str, amount: int, fee: int, at: datetime = T0, subject: str = "物业费", status: str = "SUCCESS"
):
    return SimTrade(
        "1900000109", "wx1", no, f"42{no}", amount, fee, Decimal("0.006"), status, at, subject, "oU1"
    )


def refund(no: str, order_no: str, amount: int, fee_back: int, at: datetime = T0):
    return SimRefund(no, f"50{no}", order_no, f"42{order_no}", amount, fee_back, at, subject="物业费")


def read(channel: str, data: bytes) -> tuple[list, StatementReader]:
    reader = StatementReader(channel, data)
    return list(reader), reader


# ------------------------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("channel,writer", [("wechat", wechat_statement), ("alipay", alipay_statement)])
def test_round_trip_through_the_real_format(channel, writer):
    trades = [
        trade("T01P1", 12345, 74, subject="物业费, 2026年11月"),  # a comma in the subject: CSV quoting
        trade("T01P2", 1, 0),
        trade("T01P3", 999, 6, at=T0 + timedelta(days=1)),  # the next day: not in this file
        trade("T01P4", 500, 3, status="CLOSED"),  # never paid: not in any file
        trade("T01P5", 700, 4, status="REFUND"),  # paid, later refunded: still a payment of the day
    ]
    refunds = [refund("T01R1", "T01P1", 345, 2, at=T0 + timedelta(hours=3))]
    lines, reader = read(channel, writer(DAY, trades, refunds))
    got = [(x.kind, x.order_no, x.refund_no, x.amount_fen, x.fee_fen, x.status) for x in lines]
    assert got == [
        ("trade", "T01P1", "", 12345, 74, "SUCCESS"),
        ("trade", "T01P2", "", 1, 0, "SUCCESS"),
        ("trade", "T01P5", "", 700, 4, "SUCCESS"),
        ("refund", "T01P1", "T01R1", 345, 2, "SUCCESS"),
    ]
    assert lines[0].channel_trade_no == "42T01P1" and lines[0].channel == channel
    assert lines[0].time == datetime(2026, 11, 25, 10, 0, tzinfo=lines[0].time.tzinfo)
    assert lines[3].time.hour == 13
    assert reader.computed.trade_count == 3 and reader.computed.refund_count == 1
    assert reader.computed.fee_fen == 74 + 0 + 4 - 2


def test_wechat_file_has_the_27_columns_back_quotes_and_summary():
    text = wechat_statement(DAY, [trade("T01P1", 12345, 74)], []).decode("utf-8")
    rows = text.split("\r\n")
    assert rows[0].split(",") == list(WECHAT_COLUMNS) and len(WECHAT_COLUMNS) == 27
    assert all(field.startswith("`") for field in rows[1].split(","))
    assert rows[2].startswith(
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
    )
    assert rows[3] == "`1,`123.45,`0.00,`0.00,`0.74,`123.45,`0.00"


def test_alipay_file_is_gbk_with_preamble_header_and_footer():
    data = alipay_statement(DAY, [trade("T01P1", 12345, 74)], [])
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    rows = data.decode("gbk").split("\r\n")
    assert rows[0] == "#支付宝业务明细查询" and rows[1].startswith("#账号：[")
    assert rows[2].startswith("#起始日期：[2026年11月25日 00:00:00]")
    assert rows[3].split(",") == list(ALIPAY_COLUMNS) and len(ALIPAY_COLUMNS) == 25
    assert rows[5].startswith("#-----") and "业务明细列表结束" in rows[5]
    assert rows[6].startswith("#交易合计：1笔") and rows[7].startswith("#退款合计：0笔")
    assert rows[8].startswith("#导出时间：[")


def test_streaming_writer_matches_in_memory_writer(tmp_path):
    trades = [trade(f"T01P{i}", 100 + i, 1) for i in range(50)]
    path = tmp_path / "bill.csv"
    write_wechat_statement(path, DAY, trades, [])
    assert path.read_bytes() == wechat_statement(DAY, trades, [])
    assert len(list(StatementReader("wechat", path))) == 50


# ------------------------------------------------------------------------------------------- hand-written

WECHAT_SAMPLE = (
    "\ufeff交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注\r\n"
    "`2026-11-25 09:15:02,`wx2421b1c4370ec43b,`10000100,`0,`,`4200000001202611250000000001,`T01P20261125000001,"
    "`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`NATIVE,`SUCCESS,`CMB_CREDIT,`CNY,`100.00,`0.00,`0,`0,`0.00,`0.00,`,`,"
    "`物业费,`,`0.60000,`0.60%,`100.00,`0.00,`\r\n"
    "`2026-11-25 16:40:11,`wx2421b1c4370ec43b,`10000100,`0,`,`4200000001202611250000000001,`T01P20261125000001,"
    "`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`NATIVE,`REFUND,`CMB_CREDIT,`CNY,`0.00,`0.00,`50300000012026112500000001,"
    "`T01R20261125000001,`30.00,`0.00,`ORIGINAL,`SUCCESS,`物业费,`,`-0.18000,`0.60%,`0.00,`30.00,`\r\n"
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
    "`2,`100.00,`30.00,`0.00,`0.42000,`100.00,`30.00\r\n"
)


def test_hand_written_wechat_bill_with_bom_crlf_back_quotes_and_five_decimal_fees():
    lines, reader = read("wechat", WECHAT_SAMPLE.encode("utf-8"))
    assert [(x.kind, x.order_no, x.refund_no, x.amount_fen, x.fee_fen) for x in lines] == [
        ("trade", "T01P20261125000001", "", 10000, 60),
        ("refund", "T01P20261125000001", "T01R20261125000001", 3000, 18),
    ]
    assert lines[1].channel_refund_no == "50300000012026112500000001"
    assert reader.declared.fee_fen == 42 and reader.declared.trade_count == 2


def test_wechat_bill_with_lf_endings_and_no_bom_reads_the_same():
    lines, _ = read("wechat", WECHAT_SAMPLE.lstrip("\ufeff").replace("\r\n", "\n").encode("utf-8"))
    assert len(lines) == 2 and lines[0].amount_fen == 10000


ALIPAY_SAMPLE = (
    "#支付宝业务明细查询\r\n"
    "#账号：[20881234567890120156]\r\n"
    "#起始日期：[2026年11月25日 00:00:00]   终止日期：[2026年11月26日 00:00:00]\r\n"
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
    "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,"
    "券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\r\n"
    "2026112522001412341234567890\t,T01P20261125000002\t,交易,停车费,2026-11-25 08:00:00,2026-11-25 08:00:09,,,,,"
    "abc***@163.com,25.00,25.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,-0.15,0.00,\r\n"
    "2026112522001412341234567890\t,T01P20261125000002\t,退款,停车费,2026-11-25 12:00:00,2026-11-25 12:00:01,,,,,"
    "abc***@163.com,-5.00,-5.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,T01R20261125000002\t,0.03,0.00,\r\n"
    "2026112522001499999999999999\t,\t,冻结,保证金,2026-11-25 12:30:00,2026-11-25 12:30:00,,,,,,"
    "1.00,0.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,0.00,0.00,\r\n"
    "#-----------------------------------------业务明细列表结束------------------------------------\r\n"
    "#交易合计：1笔，商家实收共25.00元，商家优惠共0.00元\r\n"
    "#退款合计：1笔，商家实收共-5.00元，商家优惠共0.00元\r\n"
    "#导出时间：[2026年11月26日 09:38:16]\r\n"
)


def test_hand_written_alipay_bill_in_gbk_with_tab_padding_and_other_business_types():
    lines, reader = read("alipay", ALIPAY_SAMPLE.encode("gbk"))
    assert [(x.kind, x.order_no, x.refund_no, x.amount_fen, x.fee_fen) for x in lines] == [
        ("trade", "T01P20261125000002", "", 2500, 15),
        ("refund", "T01P20261125000002", "T01R20261125000002", 500, 3),
    ]
    assert lines[0].channel_trade_no == "2026112522001412341234567890"
    assert reader.day == DAY
    assert reader.declared.trade_fen == 2500 and reader.declared.refund_fen == 500
    assert not reader.declared.fee_declared  # this footer wording gives no 服务费 sum


def test_alipay_bill_saved_as_utf8_with_bom_also_reads():
    lines, _ = read("alipay", ("\ufeff" + ALIPAY_SAMPLE).encode("utf-8"))
    assert len(lines) == 2


# ------------------------------------------------------------------------------------------- refusals


def consume(channel: str, data: bytes) -> None:
    list(StatementReader(channel, data))


def test_rows_not_adding_up_to_the_summary_are_refused():
    bad = WECHAT_SAMPLE.replace("`2,`100.00,`30.00", "`2,`100.01,`30.00")
    with pytest.raises(ValidationError, match="does not add up"):
        consume("wechat", bad.encode())
    bad = ALIPAY_SAMPLE.replace("#交易合计：1笔", "#交易合计：2笔")
    with pytest.raises(ValidationError, match="does not add up"):
        consume("alipay", bad.encode("gbk"))
    bad = WECHAT_SAMPLE.replace("`2,`100.00", "`3,`100.00")
    with pytest.raises(ValidationError, match="总交易单数"):
        consume("wechat", bad.encode())


def test_a_truncated_file_without_summary_is_refused():
    cut = WECHAT_SAMPLE[: WECHAT_SAMPLE.index("总交易单数")]
    with pytest.raises(ValidationError, match="no summary"):
        consume("wechat", cut.encode())
    cut = ALIPAY_SAMPLE[: ALIPAY_SAMPLE.index("#交易合计")]
    with pytest.raises(ValidationError, match="no summary"):
        consume("alipay", cut.encode("gbk"))


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("`100.00,`0.00,`0,`0", "`100.005,`0.00,`0,`0", "fraction of a fen"),
        ("`100.00,`0.00,`0,`0", "`1OO.00,`0.00,`0,`0", "not an amount"),
        ("`2026-11-25 09:15:02", "`25/11/2026 9:15", "not a date"),
        ("商户订单号,", "商户单号,", "lacks the column"),
    ],
)
def test_malformed_fields_are_refused_with_the_line(old, new, message):
    with pytest.raises(ValidationError, match=message):
        consume("wechat", WECHAT_SAMPLE.replace(old, new, 1).encode())


def test_empty_file_and_unknown_channel_are_refused():
    with pytest.raises(ValidationError, match="empty"):
        consume("wechat", b"")
    with pytest.raises(ValidationError):
        StatementReader("unionpay", b"")


def test_parser_streams_the_file_line_by_line(tmp_path):
    path = tmp_path / "big.csv"
    write_wechat_statement(path, DAY, [trade(f"T01P{i:06d}", 100, 1) for i in range(20_000)], [])
    with path.open("rb") as fh:
        it = iter(StatementReader("wechat", fh))
        first = next(it)
        # One line parsed, and the reader has not pulled the whole ~3 MB file in.
        assert first.order_no == "T01P000000" and fh.tell() < path.stat().st_size // 4


# ------------------------------------------------------------------------------------------- exact amounts


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_amounts_parse_to_exact_fen(fen):
    assert to_fen(fen_to_yuan_str(fen)) == fen
    assert to_fen("`"[:0] + fen_to_yuan_str(fen) + "000") == fen


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 10**9), st.integers(0, 10**6), st.integers(0, 86399)), max_size=20),
    st.sampled_from(["wechat", "alipay"]),
)
def test_any_day_round_trips_and_adds_up(rows, channel):
    start = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # 00:00 on DAY in Shanghai
    trades = [trade(f"T01P{i}", a, f, at=start + timedelta(seconds=s)) for i, (a, f, s) in enumerate(rows)]
    writer = wechat_statement if channel == "wechat" else alipay_statement
    lines, reader = read(channel, writer(DAY, trades, []))
    assert sorted((x.order_no, x.amount_fen, x.fee_fen) for x in lines) == sorted(
        (t.out_trade_no, t.amount_fen, t.fee_fen) for t in trades
    )
    assert reader.computed.trade_fen == sum(t.amount_fen for t in trades)
    assert all(x.time.date() == DAY for x in lines)


def test_file_object_source_works_like_bytes():
    data = wechat_statement(DAY, [trade("T01P1", 100, 1)], [])
    assert list(StatementReader("wechat", io.BytesIO(data))) == list(StatementReader("wechat", data))
