"""The property counter's paged lists, registered with core.listing: receipts (by house, cashier, number)."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, func, select

from core.errors import ValidationError
from core.i18n import N_
from core.listing import Column, Criteria, Filter, Source, prefix, register
from core.payments.lists import CHANNEL_LABELS
from core.property.models import House, Receipt
from core.security.models import User

RECEIPTS = "property.receipts"
_STATUS = (("issued", N_("Issued")), ("voided", N_("Voided")))


def _build(c: Criteria) -> Select:
    stmt = select(
        Receipt.receipt_no,
        House.code,
        Receipt.payer,
        Receipt.total_fen,
        Receipt.channel,
        Receipt.status,
        # The clerk's name as people know it; the login name if the user is gone (a synced-away account).
        func.coalesce(User.display_name, Receipt.cashier),
        Receipt.issued_at,
        Receipt.id,
    ).join(House, House.id == Receipt.house_id)
    stmt = stmt.outerjoin(User, User.username == Receipt.cashier)
    if "house_id" in c:
        try:
            house_id = uuid.UUID(c["house_id"])
        except ValueError:
            raise ValidationError(N_("{field}: not a valid id."), field="house_id") from None
        stmt = stmt.where(Receipt.house_id == house_id)
    if "receipt_no" in c:
        stmt = stmt.where(prefix(Receipt.receipt_no, c["receipt_no"].upper()))
    if "cashier" in c:
        stmt = stmt.where(Receipt.cashier == c["cashier"])
    return stmt


register(
    Source(
        code=RECEIPTS,
        title=N_("Receipts"),
        permission="property.view",
        columns=(
            Column("receipt_no", N_("Receipt no."), "text", 16),
            Column("house", N_("House"), "text", 10),
            Column("payer", N_("Payer"), "text", 10),
            Column("total_fen", N_("Amount"), "fen", 12),
            Column("channel", N_("Channel"), "text", 8, labels=CHANNEL_LABELS),
            Column("status", N_("Status"), "text", 6, labels=_STATUS),
            Column("cashier", N_("Cashier"), "text", 10),
            Column("issued_at", N_("Issued at"), "datetime", 16),
            Column("id", N_("Id"), "text", 8),
        ),
        filters=(
            Filter("house_id", N_("House"), "exact"),
            Filter("receipt_no", N_("Receipt no.")),
            Filter("cashier", N_("Cashier"), "exact"),
        ),
        build=_build,
        sorts={
            "issued_at": [Receipt.issued_at],
            "receipt_no": [Receipt.receipt_no],
            "total_fen": [Receipt.total_fen],
        },
        default_sort="issued_at",
        default_descending=True,
        tiebreak=[Receipt.id],
    )
)
