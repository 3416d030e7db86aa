"""The home dashboard's panels, drawn from one `core.overview.Dashboard` read: collections today and this month by
channel and business line, the property figures (collection rate, arrears, open work orders by age), pending
approvals and the last sync, and the alerts. Pure rendering: no database, no widgets."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from core.clock import BUSINESS_TZ
from core.i18n import N_, _
from core.money import format_fen
from core.overview import AGE_BUCKETS_DAYS, Dashboard
from core.payments.lists import CHANNEL_LABELS

LINES_SHOWN_MAX = 6  # channels or business lines listed; the rest are summed as "others"
AGE_LABELS = (N_("under 1 day"), N_("1 to 3 days"), N_("3 to 7 days"), N_("over 7 days"))
assert len(AGE_LABELS) == len(AGE_BUCKETS_DAYS) + 1


def _amount(fen: int) -> Text:
    return Text(format_fen(fen, symbol=False), justify="right")


def _when(at) -> str:
    return at.astimezone(BUSINESS_TZ).strftime("%m-%d %H:%M") if at else "—"


def _breakdown(title: str, rows: tuple[tuple[str, int, int], ...], label) -> Table:
    table = Table(box=None, padding=(0, 1), show_edge=False, expand=True, header_style="bold")
    table.add_column(title, no_wrap=True, overflow="ellipsis", ratio=1)
    table.add_column(_("Today"), justify="right", no_wrap=True)
    table.add_column(_("Month"), justify="right", no_wrap=True)
    shown, rest = rows[:LINES_SHOWN_MAX], rows[LINES_SHOWN_MAX:]
    for code, day_fen, month_fen in shown:
        table.add_row(Text(label(code)), _amount(day_fen), _amount(month_fen))
    if rest:
        table.add_row(
            Text(_("others"), style="dim"),
            _amount(sum(r[1] for r in rest)),
            _amount(sum(r[2] for r in rest)),
        )
    if not rows:
        table.add_row(Text(_("nothing collected yet"), style="dim"), "", "")
    return table


def collections_renderable(d: Dashboard) -> RenderableType:
    c = d.collections
    if c is None:
        return Text(_("Not shown to your role."), style="dim")
    head = Table.grid(padding=(0, 1), expand=True)
    head.add_column(style="bold", no_wrap=True)
    head.add_column(justify="right", no_wrap=True)
    head.add_column(justify="right", no_wrap=True)
    head.add_row(
        _("Today"),
        format_fen(c.today_fen),
        Text(_("{n} payments").format(n=f"{c.today_count:,}"), style="dim"),
    )
    head.add_row(
        _("This month"),
        format_fen(c.month_fen),
        Text(_("{n} payments").format(n=f"{c.month_count:,}"), style="dim"),
    )
    by_channel = _breakdown(
        _("By channel"), c.by_channel, lambda code: _(dict(CHANNEL_LABELS).get(code, code))
    )
    by_line = _breakdown(_("By business line"), c.by_line, lambda code: code)
    return Group(head, Text(""), by_channel, Text(""), by_line)


def property_renderable(d: Dashboard) -> RenderableType:
    p = d.property
    if p is None:
        return Text(_("Not shown to your role."), style="dim")
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(style="bold", no_wrap=True, ratio=1)
    grid.add_column(justify="right", no_wrap=True)
    rate = p.collection_rate
    grid.add_row(
        _("Collection rate {period}").format(period=p.period),
        "—" if rate is None else f"{rate * 100:.1f}%",
    )
    grid.add_row(
        _("Billed / collected"),
        f"{format_fen(p.billed_fen, symbol=False)} / {format_fen(p.collected_fen, symbol=False)}",
    )
    grid.add_row(_("Arrears (past due)"), format_fen(p.arrears_fen))
    grid.add_row(_("Houses in arrears"), f"{p.arrears_houses:,}")
    grid.add_row(Text(_("Open work orders by age"), style="bold underline"), "")
    for label, n in zip(AGE_LABELS, p.work_orders_by_age, strict=True):
        grid.add_row(Text("  " + _(label), style=""), f"{n:,}")
    overdue = Text(f"{p.work_orders_overdue:,}", style="bold red" if p.work_orders_overdue else "")
    grid.add_row(_("Past their deadline"), overdue)
    return grid


def work_renderable(d: Dashboard) -> RenderableType:
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(style="bold", no_wrap=True, ratio=1)
    grid.add_column(justify="right", no_wrap=True)
    grid.add_row(_("Pending approvals"), f"{d.pending_approvals:,}")
    s = d.sync
    if s is not None:
        if s.last_status is None:
            last = Text(_("never"), style="yellow")
        else:
            ok = s.last_status == "ok"
            last = Text(
                f"{_('ok') if ok else _('failed')} {_when(s.last_finished_at)}",
                style="" if ok else "bold red",
            )
        grid.add_row(_("Last sync"), last)
        grid.add_row(_("Last successful sync"), _when(s.last_ok_at))
        grid.add_row(_("Events not yet synced"), f"{s.pending_events:,}")
    return grid


def alerts_renderable(d: Dashboard) -> RenderableType:
    if not d.alerts:
        return Text(_("Nothing needs attention."), style="green")
    text = Text()
    for i, alert in enumerate(d.alerts):
        if i:
            text.append("\n")
        text.append("! ", style="bold red")
        text.append(_(alert.message).format(**alert.params))
    return text
