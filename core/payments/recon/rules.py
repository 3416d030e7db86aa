"""Pure reconciliation rules: how one statement line compares with our record of it, what is left over at
the end of a day, which decisions may settle which difference, and the cut-off for the next-day pool.
No database: the service hands in our side as compact tuples and writes out what the Matcher finds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import compress, repeat
from operator import add, eq, lshift, not_
from typing import NamedTuple

from core.clock import BUSINESS_TZ
from core.payments.recon.statements import ColumnBlock, StatementLine

MATCHED = "matched"
MISSING_AT_CHANNEL = "missing_at_channel"
MISSING_LOCALLY = "missing_locally"
AMOUNT_MISMATCH = "amount_mismatch"
STATUS_MISMATCH = "status_mismatch"
FEE_MISMATCH = "fee_mismatch"
DIFFERENCE_KINDS = (MISSING_AT_CHANNEL, MISSING_LOCALLY, AMOUNT_MISMATCH, STATUS_MISMATCH, FEE_MISMATCH)
COUNT_KEYS = (MATCHED, *DIFFERENCE_KINDS)

# Our order states in which the payer's money has arrived (a later refund does not undo the payment).
ORDER_PAID = frozenset({"SUCCESS", "PARTIALLY_REFUNDED", "REFUNDED"})
REFUND_DONE = frozenset({"SUCCESS"})
CHANNEL_DONE = "SUCCESS"

# An order paid this close to midnight may be booked by the channel on the next day: it waits in the pool.
POOL_WINDOW = timedelta(minutes=30)

# Which decision may close which difference (roncoo-pay's 差错处理 choices, in our words).
DECISIONS_BY_KIND: dict[str, frozenset[str]] = {
    MISSING_AT_CHANNEL: frozenset({"accept_channel", "accept_local", "write_off"}),
    MISSING_LOCALLY: frozenset({"accept_channel", "refund_payer", "write_off"}),
    AMOUNT_MISMATCH: frozenset({"accept_channel", "accept_local", "refund_payer", "write_off"}),
    STATUS_MISMATCH: frozenset({"accept_channel", "accept_local", "refund_payer"}),
    FEE_MISMATCH: frozenset({"accept_channel", "accept_local", "write_off"}),
}


def pool_cutoff(day: date) -> datetime:
    """The instant from which a payment of `day` goes to the next-day pool instead of missing_at_channel."""
    return datetime.combine(day + timedelta(days=1), time(0), BUSINESS_TZ) - POOL_WINDOW


class Local(NamedTuple):
    """Our record of an order (or refund) as the matcher needs it. `offset` is its business date relative to
    the statement day (-1, 0, +1); `late` is True when it was paid inside the pool window before midnight."""

    amount_fen: int
    fee_fen: int
    status: str
    offset: int
    late: bool


class Difference(NamedTuple):
    kind: str
    doc_kind: str  # trade | refund
    doc_no: str
    order_no: str
    channel_trade_no: str
    channel_refund_no: str
    local_amount_fen: int | None
    channel_amount_fen: int | None
    local_fee_fen: int | None
    channel_fee_fen: int | None
    local_status: str
    channel_status: str
    channel_time: datetime | None
    line_no: int | None
    note: str


class PoolEntry(NamedTuple):
    side: str  # local | ahead
    doc_kind: str
    doc_no: str
    offset: int  # its business date relative to the statement day
    amount_fen: int


_SEEN = Local(0, 0, "", 0, False)  # replaces a matched record: a second line for it is a duplicate
_NO_PAIR = object()  # stands for a row that is not a plain payment: equal to nothing we hold
PAIR_BITS = 32
PAIR_MAX = 1 << 31  # an amount and a fee in [0, PAIR_MAX) make a pair key; others are compared as Local


def pair_key(amount_fen: int, fee_fen: int) -> int:
    """One int for (amount, fee), equal for equal pairs and for no other (both must be _pairable)."""
    return (amount_fen << PAIR_BITS) + fee_fen


def _pairable(amount_fen: int, fee_fen: int) -> bool:
    return 0 <= amount_fen < PAIR_MAX and 0 <= fee_fen < PAIR_MAX


def _plain_local(key: int) -> Local:
    """The Local of an order held as its pair key: paid on the statement day, before the pool window."""
    return Local(key >> PAIR_BITS, key & ((1 << PAIR_BITS) - 1), "SUCCESS", 0, False)


def compare(line: StatementLine, local: Local) -> str:
    """MATCHED or the kind of difference between a channel line and our record of the same document."""
    channel_done = line.status == CHANNEL_DONE
    local_done = local.status in (ORDER_PAID if line.kind == "trade" else REFUND_DONE)
    if channel_done != local_done:
        return STATUS_MISMATCH
    if not channel_done:
        return MATCHED  # both agree no money moved (e.g. a revoked payment we closed)
    if line.amount_fen != local.amount_fen:
        return AMOUNT_MISMATCH
    if line.fee_fen != local.fee_fen:
        return FEE_MISMATCH
    return MATCHED


@dataclass
class Matcher:
    """Feed it every line of a statement day, then collect the leftovers.

    `trades`/`refunds` map our order_no/refund_no to Local and are consumed in place. The usual order — paid
    (SUCCESS) on the statement day itself, before the pool window — may instead be held as the int
    pair_key(amount_fen, fee_fen): what a plain statement row is compared with, a block at a time.
    `pooled` holds the (doc_kind, doc_no) waiting from an earlier day; `ahead` those an earlier statement
    already matched although our record is dated the statement day.
    """

    trades: dict[str, Local | int]
    refunds: dict[str, Local]
    pooled: set[tuple[str, str]] = field(default_factory=set)
    ahead: set[tuple[str, str]] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    consumed: list[tuple[str, str]] = field(default_factory=list)  # pool entries matched (or given up) today
    new_pool: list[PoolEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        for doc_kind, doc_no in self.ahead:  # matched ahead: never matched again as a plain pair
            key = self.trades.get(doc_no)
            if doc_kind == "trade" and type(key) is int:
                self.trades[doc_no] = _plain_local(key)

    def feed(self, line: StatementLine) -> Difference | None:
        """Compare one line; None when it matches, else the difference to record."""
        is_trade = line.kind == "trade"
        table = self.trades if is_trade else self.refunds
        doc_no = line.order_no if is_trade else line.refund_no
        local = table.get(doc_no)
        if type(local) is int:
            local = _plain_local(local)
        key = (line.kind, doc_no)
        if local is None or local is _SEEN or (self.ahead and local.offset == 0 and key in self.ahead):
            if line.status != CHANNEL_DONE and local is None:
                self.counts[MATCHED] += 1  # a non-payment we never had: nothing to reconcile
                return None
            note = "duplicate line" if local is not None else ""
            return self._difference(MISSING_LOCALLY, line, None, doc_no, note)
        table[doc_no] = _SEEN
        if local.offset == -1 and key in self.pooled:
            self.consumed.append(key)
        elif local.offset == 1:
            self.new_pool.append(PoolEntry("ahead", line.kind, doc_no, 1, local.amount_fen))
        kind = compare(line, local)
        if kind == MATCHED:
            self.counts[MATCHED] += 1
            return None
        return self._difference(kind, line, local, doc_no, "")

    def feed_blocks(
        self, blocks: Iterable[ColumnBlock | list[StatementLine]], add: Callable[[Difference], None]
    ) -> int:
        """Feed every block of lines in order, handing each difference to `add`; returns the number of lines.

        In a ColumnBlock the usual row — a payment we hold as paid on the same day, same amount and fee —
        is matched without a Python step of its own: the block's pair keys are compared with ours in one
        pass. The result is that of feeding the lines one by one: a block whose order numbers repeat
        is fed line by line, and the other rows of a block cannot touch the orders its plain rows matched.
        """
        n = 0
        feed = self.feed
        for block in blocks:
            n += len(block)
            if isinstance(block, list):
                rows: Iterable[StatementLine] = block
            else:
                rows = self._match_plain(block)
            for line in rows:
                diff = feed(line)
                if diff is not None:
                    add(diff)
        return n

    def _match_plain(self, block: ColumnBlock) -> Iterable[StatementLine]:
        """Match the block's plain rows; the lines left for feed(), in line order."""
        keys = block.order_no
        k = len(keys)
        if len(set(keys)) != k:
            return block.lines()
        amounts, fees = block.amount_fen, block.fee_fen
        pairs: list[object] = list(map(add, map(lshift, amounts, repeat(PAIR_BITS)), fees))
        if (
            not block.all_paid
            or min(amounts) < 0
            or min(fees) < 0
            or max(amounts) >= PAIR_MAX
            or max(fees) >= PAIR_MAX
        ):
            for i in range(k):
                if (
                    i in block.refunds
                    or block.status(i) != CHANNEL_DONE
                    or not _pairable(amounts[i], fees[i])
                ):
                    pairs[i] = _NO_PAIR
        ok = list(map(eq, map(self.trades.get, keys), pairs))
        hits = list(compress(keys, ok))
        self.trades.update(zip(hits, repeat(_SEEN)))
        self.counts[MATCHED] += len(hits)
        if len(hits) == k:
            return ()
        return map(block.line, compress(range(k), map(not_, ok)))

    def _difference(
        self, kind: str, line: StatementLine, local: Local | None, doc_no: str, note: str
    ) -> Difference:
        self.counts[kind] += 1
        return Difference(
            kind,
            line.kind,
            doc_no,
            line.order_no,
            line.channel_trade_no,
            line.channel_refund_no,
            None if local is None else local.amount_fen,
            line.amount_fen,
            None if local is None else local.fee_fen,
            line.fee_fen,
            "" if local is None else local.status,
            line.status,
            line.time,
            line.line_no,
            note,
        )

    def leftovers(self) -> Iterator[Difference]:
        """Our paid records the statement did not have: pooled if paid just before midnight, else missing."""
        for doc_kind, table, done in (
            ("trade", self.trades, ORDER_PAID),
            ("refund", self.refunds, REFUND_DONE),
        ):
            for doc_no, local in table.items():
                if type(local) is int:
                    local = _plain_local(local)
                if local is _SEEN or local.status not in done:
                    continue
                key = (doc_kind, doc_no)
                if local.offset == 0:
                    if self.ahead and key in self.ahead:
                        continue
                    if local.late:
                        self.new_pool.append(PoolEntry("local", doc_kind, doc_no, 0, local.amount_fen))
                        continue
                    note = ""
                elif local.offset < 0 and key in self.pooled:
                    self.consumed.append(key)
                    note = "pooled from an earlier day"
                else:
                    continue  # another day's business
                self.counts[MISSING_AT_CHANNEL] += 1
                yield Difference(
                    MISSING_AT_CHANNEL,
                    doc_kind,
                    doc_no,
                    doc_no if doc_kind == "trade" else "",
                    "",
                    "",
                    local.amount_fen,
                    None,
                    local.fee_fen,
                    None,
                    local.status,
                    "",
                    None,
                    None,
                    note,
                )

    @property
    def pending(self) -> int:
        return sum(1 for p in self.new_pool if p.side == "local")


# --------------------------------------------------------------------------------------------- decisions

# Where a decision books what it moves (PAYHUB book). The channel's clearing account (1012.<channel>) is
# corrected to what the channel actually did; an amount goes to suspense (accept_channel: to be cleared
# with the business line), to the payer's due refund (refund_payer), or to recon gains and losses (write_off);
# a fee difference always adjusts the channel fee account.
ACCOUNT_FEE = "6602.fee"
ACCOUNT_SUSPENSE = "2241.recon_suspense"
ACCOUNT_REFUND_DUE = "2241.refund_due"
ACCOUNT_RECON_PL = "6711.recon"
DECISION_ACCOUNTS: dict[str, tuple[str, str, str]] = {  # code, name, type
    "accept_channel": (ACCOUNT_SUSPENSE, "对账待查款项", "liability"),
    "refund_payer": (ACCOUNT_REFUND_DUE, "应退付款人款项", "liability"),
    "write_off": (ACCOUNT_RECON_PL, "对账差错损益", "expense"),
}


class DecisionFacts(NamedTuple):
    """What a difference records of both sides (None where a side has no such document)."""

    kind: str
    doc_kind: str  # trade | refund
    channel: str
    local_amount_fen: int | None
    channel_amount_fen: int | None
    local_fee_fen: int | None
    channel_fee_fen: int | None
    local_status: str
    channel_status: str


def _clearing_effect(done: bool, amount_fen: int | None, fee_fen: int | None) -> tuple[int, int]:
    """(amount, fee) a side moved through the channel: a payment brings the amount in and pays the fee; a
    refund sends the amount out and gets fee back. (0, 0) when that side did not complete it."""
    if not done:
        return 0, 0
    return (amount_fen or 0), (fee_fen or 0)


def decision_postings(facts: DecisionFacts, decision: str) -> list[tuple[str, int]]:
    """The balanced PAYHUB postings (debit > 0) a decision implies; [] when it moves no money.

    accept_local keeps our books as they are (the channel is expected to correct its side). The other
    decisions bring the clearing account to the channel's figures: on a trade the channel clearing moves by
    Δamount − Δfee and the fee account by Δfee; on a refund by −Δamount + Δfee and −Δfee; the amount's
    counter-leg is the decision's account.
    """
    if decision not in DECISIONS_BY_KIND.get(facts.kind, frozenset()):
        raise ValueError(f"decision {decision!r} does not settle a {facts.kind} difference")
    if decision == "accept_local":
        return []
    local_done = facts.local_status in (ORDER_PAID if facts.doc_kind == "trade" else REFUND_DONE)
    channel_done = facts.channel_status == CHANNEL_DONE
    local_amount, local_fee = _clearing_effect(local_done, facts.local_amount_fen, facts.local_fee_fen)
    ch_amount, ch_fee = _clearing_effect(channel_done, facts.channel_amount_fen, facts.channel_fee_fen)
    d_amount = ch_amount - local_amount
    d_fee = ch_fee - local_fee
    sign = 1 if facts.doc_kind == "trade" else -1
    counter = DECISION_ACCOUNTS[decision][0]
    legs = {
        f"1012.{facts.channel}": sign * (d_amount - d_fee),
        ACCOUNT_FEE: sign * d_fee,
        counter: -sign * d_amount,
    }
    postings = [(code, amount) for code, amount in legs.items() if amount]
    assert sum(amount for _code, amount in postings) == 0, "a recon decision entry must balance"
    return postings
