"""The payment hub's back-office lists, registered with core.listing (paged, sorted and filtered in SQL, exported
to Excel): reconciliation batches and differences, settlement batches, the notification log, channels and their
fee rates, routing rules, and the apps. Importing this module registers them."""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from core.i18n import N_
from core.listing import Column, Criteria, Filter, Source, date_range, instant_range, prefix, register
from core.payments.lists import CHANNEL_LABELS
from core.payments.models import PayApp, PayChannel, PayNotification, PayRoute
from core.payments.recon.models import ReconBatch, ReconDifference
from core.payments.settlement.models import SettlementBatch

RECON_BATCHES = "recon.batches"
RECON_DIFFERENCES = "recon.differences"
SETTLEMENTS = "settlement.batches"
NOTIFICATIONS = "payments.notifications"
CHANNELS = "payments.channels"
ROUTES = "payments.routes"
APPS = "payments.apps"

RECON_CHANNEL_LABELS: tuple[tuple[str, str], ...] = (("wechat", N_("WeChat Pay")), ("alipay", N_("Alipay")))
DIFFERENCE_KIND_LABELS: tuple[tuple[str, str], ...] = (
    ("missing_at_channel", N_("Missing at channel")),
    ("missing_locally", N_("Missing locally")),
    ("amount_mismatch", N_("Amount differs")),
    ("status_mismatch", N_("Status differs")),
    ("fee_mismatch", N_("Fee differs")),
)
DIFFERENCE_STATUS_LABELS: tuple[tuple[str, str], ...] = (("open", N_("Open")), ("resolved", N_("Resolved")))
DECISION_LABELS: tuple[tuple[str, str], ...] = (
    ("accept_channel", N_("Accept the channel's record")),
    ("accept_local", N_("Accept our record")),
    ("refund_payer", N_("Refund the payer")),
    ("write_off", N_("Write off")),
)
NOTIFY_STATUS_LABELS: tuple[tuple[str, str], ...] = (
    ("PENDING", N_("Waiting")),
    ("DELIVERED", N_("Delivered")),
    ("GAVE_UP", N_("Failed")),
)
NOTIFY_KIND_LABELS: tuple[tuple[str, str], ...] = (("pay", N_("Payment")), ("refund", N_("Refund")))
APP_STATUS_LABELS: tuple[tuple[str, str], ...] = (("ACTIVE", N_("Active")), ("DISABLED", N_("Disabled")))

_B, _D, _S, _N = ReconBatch, ReconDifference, SettlementBatch, PayNotification


# ---------------------------------------------------------------------------------------------- reconciliation


def _recon_batches(c: Criteria) -> Select:
    still_open = (
        select(func.count())
        .select_from(_D)
        .where(_D.batch_id == _B.id, _D.status == "open")
        .correlate(_B)
        .scalar_subquery()
    )
    stmt = select(
        _B.business_date,
        _B.channel,
        _B.statement_lines,
        _B.matched,
        still_open,
        _B.missing_at_channel,
        _B.missing_locally,
        _B.amount_mismatch,
        _B.status_mismatch,
        _B.fee_mismatch,
        _B.pending,
        _B.runs,
        _B.run_by,
        _B.updated_at,
    )
    if "channel" in c:
        stmt = stmt.where(_B.channel == c["channel"])
    return date_range(stmt, _B.business_date, c)


register(
    Source(
        code=RECON_BATCHES,
        title=N_("Reconciliation runs"),
        permission="recon.view",
        columns=(
            Column("business_date", N_("Statement day"), "date", 10),
            Column("channel", N_("Channel"), "text", 10, labels=RECON_CHANNEL_LABELS),
            Column("lines", N_("Lines"), "int", 8),
            Column("matched", N_("Matched"), "int", 8),
            Column("open", N_("Open"), "int", 6),
            Column("missing_at_channel", N_("Missing at channel"), "int", 6),
            Column("missing_locally", N_("Missing locally"), "int", 6),
            Column("amount_mismatch", N_("Amount differs"), "int", 6),
            Column("status_mismatch", N_("Status differs"), "int", 6),
            Column("fee_mismatch", N_("Fee differs"), "int", 6),
            Column("pending", N_("Waiting for next day"), "int", 6),
            Column("runs", N_("Runs"), "int", 4),
            Column("run_by", N_("Run by"), "text", 10),
            Column("updated_at", N_("Last run at"), "datetime", 19),
        ),
        filters=(
            Filter("channel", N_("Channel"), "choice", RECON_CHANNEL_LABELS),
            Filter("date_from", N_("From"), "date_from"),
            Filter("date_to", N_("To"), "date_to"),
        ),
        build=_recon_batches,
        sorts={"business_date": [_B.business_date], "channel": [_B.channel]},
        default_sort="business_date",
        default_descending=True,
        tiebreak=[_B.channel, _B.id],
    )
)


def _recon_differences(c: Criteria) -> Select:
    stmt = select(
        _D.business_date,
        _D.channel,
        _D.kind,
        _D.doc_no,
        _D.local_amount_fen,
        _D.channel_amount_fen,
        _D.local_fee_fen,
        _D.channel_fee_fen,
        _D.local_status,
        _D.channel_status,
        _D.status,
        _D.decision,
        _D.resolved_by,
        _D.note,
        _D.id,
    )
    for key in ("channel", "status", "kind"):
        if key in c:
            stmt = stmt.where(getattr(_D, key) == c[key])
    if "number" in c:
        no = c["number"]
        stmt = stmt.where(
            or_(
                prefix(_D.doc_no, no.upper()),
                prefix(_D.order_no, no.upper()),
                prefix(_D.channel_trade_no, no),
                prefix(_D.channel_refund_no, no),
            )
        )
    return date_range(stmt, _D.business_date, c)


register(
    Source(
        code=RECON_DIFFERENCES,
        title=N_("Reconciliation differences"),
        permission="recon.view",
        columns=(
            Column("business_date", N_("Statement day"), "date", 10),
            Column("channel", N_("Channel"), "text", 10, labels=RECON_CHANNEL_LABELS),
            Column("kind", N_("Difference"), "text", 18, labels=DIFFERENCE_KIND_LABELS),
            Column("doc_no", N_("Document no."), "text", 16),
            Column("local_amount_fen", N_("Our amount"), "fen", 10),
            Column("channel_amount_fen", N_("Channel amount"), "fen", 10),
            Column("local_fee_fen", N_("Our fee"), "fen", 7),
            Column("channel_fee_fen", N_("Channel fee"), "fen", 7),
            Column("local_status", N_("Our status"), "text", 8),
            Column("channel_status", N_("Channel status"), "text", 8),
            Column("status", N_("State"), "text", 6, labels=DIFFERENCE_STATUS_LABELS),
            Column("decision", N_("Decision"), "text", 12, labels=DECISION_LABELS),
            Column("resolved_by", N_("Resolved by"), "text", 10),
            Column("note", N_("Note"), "text", 20),
            Column("id", N_("Difference id"), "text", 36),
        ),
        filters=(
            Filter("number", N_("Any number")),
            Filter("status", N_("State"), "choice", DIFFERENCE_STATUS_LABELS),
            Filter("kind", N_("Difference"), "choice", DIFFERENCE_KIND_LABELS),
            Filter("channel", N_("Channel"), "choice", RECON_CHANNEL_LABELS),
            Filter("date_from", N_("From"), "date_from"),
            Filter("date_to", N_("To"), "date_to"),
        ),
        build=_recon_differences,
        sorts={"business_date": [_D.business_date], "doc_no": [_D.doc_no], "kind": [_D.kind]},
        default_sort="business_date",
        default_descending=True,
        tiebreak=[_D.doc_no, _D.id],
    )
)


# ---------------------------------------------------------------------------------------------- settlement


def _settlements(c: Criteria) -> Select:
    stmt = select(
        _S.batch_no,
        _S.business_date,
        _S.app_id,
        _S.order_count,
        _S.refund_count,
        _S.gross_fen,
        _S.refunds_fen,
        _S.fees_fen,
        _S.net_fen,
        _S.payee_name,
        _S.created_by,
        _S.created_at,
    )
    if "app" in c:
        stmt = stmt.where(prefix(_S.app_id, c["app"]))
    if "number" in c:
        stmt = stmt.where(prefix(_S.batch_no, c["number"].upper()))
    return date_range(stmt, _S.business_date, c)


register(
    Source(
        code=SETTLEMENTS,
        title=N_("Settlement batches"),
        permission="payments.settlement.view",
        columns=(
            Column("batch_no", N_("Batch no."), "text", 16),
            Column("business_date", N_("Day"), "date", 10),
            Column("app_id", N_("App"), "text", 12),
            Column("order_count", N_("Payments"), "int", 7),
            Column("refund_count", N_("Refunds"), "int", 6),
            Column("gross_fen", N_("Gross"), "fen", 12),
            Column("refunds_fen", N_("Refunded"), "fen", 10),
            Column("fees_fen", N_("Fees"), "fen", 9),
            Column("net_fen", N_("Net"), "fen", 12),
            Column("payee_name", N_("Payee"), "text", 14),
            Column("created_by", N_("Run by"), "text", 10),
            Column("created_at", N_("Run at"), "datetime", 19),
        ),
        filters=(
            Filter("number", N_("Batch no.")),
            Filter("app", N_("App")),
            Filter("date_from", N_("From"), "date_from"),
            Filter("date_to", N_("To"), "date_to"),
        ),
        build=_settlements,
        sorts={"business_date": [_S.business_date], "app_id": [_S.app_id], "net_fen": [_S.net_fen]},
        default_sort="business_date",
        default_descending=True,
        tiebreak=[_S.app_id, _S.id],
    )
)


# ---------------------------------------------------------------------------------------------- notifications


def _notifications(c: Criteria) -> Select:
    stmt = select(
        _N.event_key,
        _N.app_id,
        _N.kind,
        _N.object_no,
        _N.status,
        _N.attempts,
        _N.next_attempt_at,
        _N.delivered_at,
        _N.last_error,
        _N.url,
        _N.created_at,
    )
    if "number" in c:
        no = c["number"]
        stmt = stmt.where(or_(prefix(_N.object_no, no.upper()), prefix(_N.event_key, no)))
    if "status" in c:
        stmt = stmt.where(_N.status == c["status"])
    if "app" in c:
        stmt = stmt.where(prefix(_N.app_id, c["app"]))
    return instant_range(stmt, _N.created_at, c)


register(
    Source(
        code=NOTIFICATIONS,
        title=N_("Notification log"),
        permission="payments.view",
        columns=(
            Column("event_key", N_("Notice"), "text", 30),
            Column("app_id", N_("App"), "text", 10),
            Column("kind", N_("Kind"), "text", 8, labels=NOTIFY_KIND_LABELS),
            Column("object_no", N_("Order or refund no."), "text", 19),
            Column("status", N_("Status"), "text", 10, labels=NOTIFY_STATUS_LABELS),
            Column("attempts", N_("Attempts"), "int", 5),
            Column("next_attempt_at", N_("Next attempt"), "datetime", 19),
            Column("delivered_at", N_("Delivered at"), "datetime", 19),
            Column("last_error", N_("Last error"), "text", 24),
            Column("url", N_("Callback address"), "text", 24),
            Column("created_at", N_("Created at"), "datetime", 19),
        ),
        filters=(
            Filter("number", N_("Any number")),
            Filter("status", N_("Status"), "choice", NOTIFY_STATUS_LABELS),
            Filter("app", N_("App")),
            Filter("date_from", N_("From"), "date_from"),
            Filter("date_to", N_("To"), "date_to"),
        ),
        build=_notifications,
        sorts={"created_at": [_N.created_at], "next_attempt_at": [_N.next_attempt_at], "status": [_N.status]},
        default_sort="created_at",
        default_descending=True,
        tiebreak=[_N.event_key],
    )
)


# ---------------------------------------------------------------------------------------------- routing, apps


def _channels(c: Criteria) -> Select:
    stmt = select(
        PayChannel.code, PayChannel.name, PayChannel.enabled, PayChannel.fee_rate, PayChannel.updated_at
    )
    if "enabled" in c:
        stmt = stmt.where(PayChannel.enabled.is_(c["enabled"] == "yes"))
    return stmt


YES_NO: tuple[tuple[str, str], ...] = (("yes", N_("yes")), ("no", N_("no")))

register(
    Source(
        code=CHANNELS,
        title=N_("Channels"),
        permission="payments.view",
        columns=(
            Column("code", N_("Channel"), "text", 14, labels=CHANNEL_LABELS),
            Column("name", N_("Name"), "text", 14),
            Column("enabled", N_("Enabled"), "bool", 7),
            Column("fee_rate", N_("Fee rate"), "text", 8),
            Column("updated_at", N_("Changed at"), "datetime", 19),
        ),
        filters=(Filter("enabled", N_("Enabled"), "choice", YES_NO),),
        build=_channels,
        sorts={"code": [PayChannel.code], "fee_rate": [PayChannel.fee_rate]},
        default_sort="code",
        default_descending=False,
        tiebreak=[PayChannel.code],
    )
)


def _routes(c: Criteria) -> Select:
    stmt = select(
        PayRoute.priority,
        PayRoute.app_id,
        PayRoute.method,
        PayRoute.min_amount_fen,
        PayRoute.max_amount_fen,
        PayRoute.channels,
        PayRoute.enabled,
        PayRoute.id,
    )
    if "app" in c:
        stmt = stmt.where(prefix(PayRoute.app_id, c["app"]))
    if "enabled" in c:
        stmt = stmt.where(PayRoute.enabled.is_(c["enabled"] == "yes"))
    return stmt


def _routes_after(_s: Session, rows: list[tuple]) -> list[tuple]:
    # Channels are a JSON list in fallback order: shown as "wechat > alipay"; "any" where a rule leaves it open.
    out = []
    for priority, app_id, method, lo, hi, chans, enabled, rid in rows:
        out.append(
            (
                priority,
                app_id or "*",
                "*" if method is None else method,
                lo,
                hi,
                " > ".join(chans or ()),
                enabled,
                rid,
            )
        )
    return out


register(
    Source(
        code=ROUTES,
        title=N_("Routing rules"),
        permission="payments.view",
        columns=(
            Column("priority", N_("Priority"), "int", 6),
            Column("app_id", N_("App"), "text", 10),
            Column("method", N_("Method"), "text", 8),
            Column("min_amount_fen", N_("From amount"), "fen", 10),
            Column("max_amount_fen", N_("To amount"), "fen", 10),
            Column("channels", N_("Channels in order"), "text", 26),
            Column("enabled", N_("Enabled"), "bool", 7),
            Column("id", N_("Rule id"), "text", 36),
        ),
        filters=(Filter("app", N_("App")), Filter("enabled", N_("Enabled"), "choice", YES_NO)),
        build=_routes,
        sorts={"priority": [PayRoute.priority, PayRoute.created_at]},
        default_sort="priority",
        default_descending=False,
        tiebreak=[PayRoute.id],
        after=_routes_after,
    )
)


def _apps(c: Criteria) -> Select:
    stmt = select(PayApp.app_id, PayApp.name, PayApp.status, PayApp.notify_url, PayApp.created_at)
    if "app" in c:
        stmt = stmt.where(or_(prefix(PayApp.app_id, c["app"]), prefix(PayApp.name, c["app"])))
    if "status" in c:
        stmt = stmt.where(PayApp.status == c["status"])
    return stmt


register(
    Source(
        code=APPS,
        title=N_("Apps"),
        permission="payments.view",
        columns=(
            Column("app_id", N_("App id"), "text", 20),
            Column("name", N_("Name"), "text", 16),
            Column("status", N_("Status"), "text", 6, labels=APP_STATUS_LABELS),
            Column("notify_url", N_("Callback address"), "text", 30),
            Column("created_at", N_("Added at"), "datetime", 19),
        ),
        filters=(
            Filter("app", N_("App id or name")),
            Filter("status", N_("Status"), "choice", APP_STATUS_LABELS),
        ),
        build=_apps,
        sorts={"app_id": [PayApp.app_id], "created_at": [PayApp.created_at]},
        default_sort="app_id",
        default_descending=False,
        tiebreak=[PayApp.id],
    )
)
