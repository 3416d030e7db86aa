"""The block-wise statement reader and matcher: a WeChat bill read a block of rows at a time (columns, no
Python step per line) gives exactly what reading it line by line gives, and a reconciliation over many
blocks classifies, refuses and counts as the line-by-line rules do — duplicates, malformed rows, refunds,
padding, quoting and line ends included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select

from core.errors import ValidationError
from core.ids import new_id
from core.payments.models import PayOrder
from core.payments.recon import services as recon
from core.payments.recon import statements
from core.payments.recon.models import ReconBatch, ReconDifference, ReconPending
from core.payments.recon.statements import ColumnBlock, StatementReader
from hub.sim.statements import SimRefund, SimTrade, wechat_statement

DAY = date(2026, 11, 25)
START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
N = 2400  # ~500 KB of bill: many blocks at the default block size


def order_no(i: int) -> str:
    return f"T01P{i:08d}"


def fee_of(amount: int) -> int:
    return (amount * 6 + 500) // 1000


def trade(i: int, amount: int | None = None, no: str | None = None, subject: str = "物业费") -> SimTrade:
    amount = 100 + i % 977 if amount is None else amount
    i %= 5000  # the time: 7 s apart from 09:00, all within the day
    return SimTrade(
        "1900000109", "wx1", no or order_no(i), f"4200{i:012d}", amount, fee_of(amount), Decimal("0.006"),
        "SUCCESS", START + timedelta(seconds=7 * i), subject, "oU1",
    )  # fmt: skip


def bill(trades, refunds=()) -> bytes:
    return wechat_statement(DAY, list(trades), list(refunds))


def read_all(data: bytes) -> tuple[list, StatementReader, int]:
    reader = StatementReader("wechat", data)
    lines, column_blocks = [], 0
    for block in reader.blocks():
        if isinstance(block, ColumnBlock):
            column_blocks += 1
            lines.extend(block.lines())
        else:
            lines.extend(block)
    return lines, reader, column_blocks


def line_by_line(data: bytes, monkeypatch) -> tuple[list, StatementReader]:
    """The reference: one block holding the whole file (summary included) is read line by line."""
    with monkeypatch.context() as m:
        m.setattr(statements, "BLOCK_BYTES", len(data) + 1)
        lines, reader, column_blocks = read_all(data)
    assert column_blocks == 0
    return lines, reader


def variants() -> dict[str, bytes]:
    trades = [trade(i) for i in range(N)]
    refunds = [
        SimRefund(
            f"T01R{i:08d}", f"50{i:010d}", order_no(i), f"4200{i:012d}", 50, 0, START + timedelta(hours=9)
        )
        for i in range(0, N, 97)
    ]
    plain = bill(trades, refunds)
    text = plain.decode("utf-8")
    rows = text.split("\r\n")
    # Refund rows among the payments, as a real bill orders them by time.
    body, refund_rows, tail = rows[1 : N + 1], rows[N + 1 : -3], rows[-3:]
    for k, row in enumerate(refund_rows):
        body.insert(41 * k + 5, row)
    mixed = [rows[0], *body, *tail]
    return {
        "crlf": plain,
        "lf": text.replace("\r\n", "\n").encode(),
        "bom": "\ufeff".encode() + plain,
        "quoted subject": bill(
            [trade(i, subject="物业费, 11月" if i % 500 == 3 else "物业费") for i in range(N)]
        ),
        "padding": text.replace(f"`{order_no(1234)},", f"`{order_no(1234)} ,").encode(),
        "tab": text.replace(f"`{order_no(800)},", f"`{order_no(800)}\t,").encode(),
        "blank lines": text.replace("\r\n`", "\r\n\r\n`", 5).encode(),
        "refunds mixed in": "\r\n".join(mixed).encode(),
    }


@pytest.mark.parametrize("name", list(variants()))
@pytest.mark.parametrize("block_bytes", [None, 4096, 777])
def test_blocks_read_exactly_as_line_by_line(name, block_bytes, monkeypatch):
    data = variants()[name]
    want, reference = line_by_line(data, monkeypatch)
    if block_bytes is not None:
        monkeypatch.setattr(statements, "BLOCK_BYTES", block_bytes)
    got, reader, column_blocks = read_all(data)
    assert column_blocks > 0  # the column path was taken
    assert got == want
    assert reader.computed == reference.computed and reader.declared == reference.declared
    assert list(StatementReader("wechat", data)) == want  # plain iteration goes through the same blocks


def test_a_lone_cr_inside_a_row_is_refused_naming_its_line():
    data = bill([trade(i) for i in range(N)]).replace(order_no(1500).encode(), b"T01P\r00001500")
    with pytest.raises(ValidationError, match=r"line 1502.*columns"):
        list(StatementReader("wechat", data))


@pytest.mark.parametrize(
    "old,new,message",
    [
        (f"`{order_no(1700)},", f"`{order_no(1700)},`extra,", "not an amount"),  # a column too many
        ("`2026-11-25 12:53:20,", "`2026-11-25 12:53:20.000,", None),  # another spelling of a time: read
        ("`2026-11-25 12:53:20,", "`25/11/2026 12:53,", "not a date"),
        ("`10.50,`0.00,`0,`0", "`10.5x,`0.00,`0,`0", "not an amount"),
        ("`10.50,`0.00,`0,`0", "`10.505,`0.00,`0,`0", "fraction of a fen"),
        (f"`{order_no(900)},", f"`{order_no(900)}`,", None),  # a stray back-quote: dropped, as line by line
    ],
)
def test_malformed_rows_in_a_big_bill_are_refused_by_line(old, new, message, monkeypatch):
    text = bill([trade(i) for i in range(N)]).decode()
    assert old in text
    data = text.replace(old, new, 1).encode()
    if message is None:
        assert [x.order_no for x in StatementReader("wechat", data)] == [order_no(i) for i in range(N)]
        assert list(StatementReader("wechat", data)) == line_by_line(data, monkeypatch)[0]
        return
    line = text[: text.index(old)].count("\r\n") + 1
    with pytest.raises(ValidationError, match=message) as err:
        list(StatementReader("wechat", data))
    assert err.value.params["line"] == line


def test_invalid_utf8_is_refused_naming_the_line():
    data = bill([trade(i) for i in range(N)])
    at = data.index(order_no(2000).encode())
    data = data[:at] + b"\xff" + data[at + 1 :]
    with pytest.raises(ValidationError, match="not valid text") as err:
        list(StatementReader("wechat", data))
    assert err.value.params["line"] == 2002


# ------------------------------------------------------------------------------------------- reconciliation


def seed_orders(ctx, numbers: list[tuple[str, int]], *, status: str = "SUCCESS") -> None:
    rows = []
    for k, (no, amount) in enumerate(numbers):
        paid = START + timedelta(seconds=7 * k)
        rows.append(
            dict(
                id=new_id(), order_no=no, app_id="property", out_trade_no=f"OUT-{no}", amount_fen=amount,
                subject="物业费", payer="", method="qr", channel="wechat", status=status,
                channel_trade_no=f"42{no}", fee_rate="0.006", fee_fen=fee_of(amount), paid_at=paid,
                business_date=DAY, refunded_fen=0, expire_at=paid + timedelta(hours=2), metadata_={},
                pay_info={}, request_hash="x" * 64, created_at=paid, updated_at=paid, version=1,
            )
        )  # fmt: skip
    with ctx.uow() as uow:
        uow.session.execute(insert(PayOrder), rows)


def count(ctx, model, *where) -> int:
    with ctx.read() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_a_day_of_many_blocks_with_duplicates_and_every_difference(ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(statements, "BLOCK_BYTES", 8192)  # ~35 rows a block: duplicates within and across
    n = 1200
    seed_orders(ctx, [(order_no(i), 100 + i % 977) for i in range(n) if i % 100 != 11])
    seed_orders(ctx, [(order_no(i), 100 + i % 977) for i in range(n) if i % 100 == 11], status="UNKNOWN")
    seed_orders(ctx, [(f"T01PLOST{i:04d}", 500) for i in range(7)])  # paid, never on the statement
    trades = []
    for i in range(n):
        t = trade(i)
        if i % 100 == 3:
            t = trade(i, amount=t.amount_fen + 1)  # amount mismatch
        trades.append(t)
        if i % 100 == 5:
            trades.append(trade(10_000 + i, no=f"T01PNEW{i:05d}"))  # missing locally
        if i % 300 == 7:
            trades.append(trade(i))  # the same line again, within the block
    trades += [trade(20), trade(21)]  # and again many blocks later
    path = tmp_path / "bill.csv"
    path.write_bytes(bill(trades))
    status = n // 100
    expected = {
        "matched": n - 2 * (n // 100),  # every order but the amount and status mismatches
        "missing_at_channel": 7,
        "missing_locally": n // 100 + len(range(7, n, 300)) + 2,
        "amount_mismatch": n // 100,
        "status_mismatch": status,
        "fee_mismatch": 0,
    }
    result = recon.run_recon(ctx, "wechat", DAY, path)
    assert result.counts() == expected and result.lines == len(trades)
    dups = recon.list_differences(ctx, kind="missing_locally", limit=1000)
    assert sum(d.note == "duplicate line" for d in dups) == len(range(7, n, 300)) + 2
    assert {d.doc_no for d in dups if d.note == "duplicate line"} >= {order_no(20), order_no(21)}
    again = recon.run_recon(ctx, "wechat", DAY, path)
    assert again.counts() == expected
    assert count(ctx, ReconDifference) == sum(expected.values()) - expected["matched"]


def test_a_malformed_row_deep_in_a_big_statement_changes_nothing(ctx, tmp_path):
    seed_orders(ctx, [(order_no(i), 100 + i % 977) for i in range(N)])
    text = bill([trade(i) for i in range(N)]).decode()
    good = tmp_path / "good.csv"
    good.write_text(text, encoding="utf-8")
    assert recon.run_recon(ctx, "wechat", DAY, good).matched == N
    before = count(ctx, ReconDifference), count(ctx, ReconPending), recon.list_batches(ctx)[0].runs
    amount = "`10.50,`0.00,`0,`0"
    at = text.rindex(amount)  # the last row of that amount, some 2,000 lines down
    path = tmp_path / "bad.csv"
    path.write_text(text[:at] + "`10.5O,`0.00,`0,`0" + text[at + len(amount) :], encoding="utf-8")
    with pytest.raises(ValidationError, match="not an amount") as err:
        recon.run_recon(ctx, "wechat", DAY, path)
    assert err.value.params["line"] == text[:at].count("\r\n") + 1 > 1500
    assert (count(ctx, ReconDifference), count(ctx, ReconPending), recon.list_batches(ctx)[0].runs) == before
    assert count(ctx, ReconBatch) == 1
