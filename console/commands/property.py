"""`anju property`: bill runs, Excel import/export and templates, arrears — thin callers of core.property.

Engineer D's operations commands join this group through `register` (console/commands/property_ops.py).
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

import click

from console.cli import Site, echo_json
from core.i18n import _

IMPORT_KINDS = ("buildings", "houses", "owners", "meter-readings")


@click.group("property")
def group() -> None:
    """Smart property (智慧物业): bills, imports and exports."""


def register(sub: click.Command) -> None:
    """Add a subcommand to `anju property` (used by the property operations commands)."""
    group.add_command(sub)


def _community_id(site_ctx, community: str | None) -> uuid.UUID | None:
    """A community given by id or by code."""
    if not community:
        return None
    try:
        return uuid.UUID(community)
    except ValueError:
        from core.property.services import community_by_code

        return community_by_code(site_ctx, community).id


@group.command("bill-run")
@click.option("--period", required=True, help="Billing month, YYYY-MM.")
@click.option("--community", default=None, help="Community id or code (default: all).")
@click.option("--dry-run", is_flag=True, help="Show what would be created; write nothing.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def bill_run_cmd(site: Site, period: str, community: str | None, dry_run: bool, as_json: bool) -> None:
    """Generate the period's bills (idempotent: a second run creates nothing)."""
    from core.property.billing import bill_run

    ctx = site.context()
    result = bill_run(ctx, period, community_id=_community_id(ctx, community), dry_run=dry_run)
    data = {
        "period": result.period,
        "bills_created": result.bills_created,
        "lines_created": result.lines_created,
        "amount_fen": result.amount_fen,
    }
    if as_json:
        echo_json(data)
        return
    from core.money import format_fen

    text = _("{period}: {bills} bills, {lines} lines, {amount}.").format(
        period=result.period,
        bills=result.bills_created,
        lines=result.lines_created,
        amount=format_fen(result.amount_fen),
    )
    click.echo((_("Dry run, nothing written. ") if dry_run else "") + text)


@group.command("import")
@click.argument("kind", type=click.Choice(IMPORT_KINDS))
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--good-rows-only", is_flag=True, help="Import the good rows even if some rows are bad.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def import_cmd(site: Site, kind: str, file: Path, good_rows_only: bool, as_json: bool) -> None:
    """Import buildings, houses, owners or meter readings from an Excel file."""
    from reports.xlsx_io import import_property_file

    report = import_property_file(site.context(), kind, file, good_rows_only=good_rows_only)
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(
            _("Imported {imported}, rejected {rejected}.").format(
                imported=report.imported, rejected=report.rejected
            )
        )
        for e in report.errors:
            click.echo(_("  row {row}, {column}: {message}").format(**e))
        if report.rejected and not report.imported:
            click.echo(_("Nothing was imported. Fix the rows above, or use --good-rows-only."))
    if report.rejected and not report.imported:
        raise SystemExit(1)


@group.command("export")
@click.argument("kind", type=click.Choice(("houses", "owners", "bills")))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--community", default=None, help="Community id or code (default: all).")
@click.pass_obj
def export_cmd(site: Site, kind: str, output: Path, community: str | None) -> None:
    """Export houses, owners or bills to an Excel file."""
    from reports.xlsx_io import export_property_file

    ctx = site.context()
    n = export_property_file(ctx, kind, output, community_id=_community_id(ctx, community))
    click.echo(_("{n} rows written to {path}.").format(n=n, path=output))


@group.command("import-template")
@click.argument("kind", type=click.Choice(IMPORT_KINDS))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
def import_template_cmd(kind: str, output: Path) -> None:
    """Write an import template: the header row and one example row."""
    from reports.xlsx_io import write_property_template

    write_property_template(kind, output)
    click.echo(_("Template written to {path}.").format(path=output))


@group.command("arrears")
@click.option("--community", required=True, help="Community id or code.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def arrears_cmd(site: Site, community: str, as_json: bool) -> None:
    """Overdue amounts of a community by ageing bucket (欠费账龄)."""
    from core.money import format_fen
    from core.property.billing import arrears

    ctx = site.context()
    view = arrears(ctx, community_id=_community_id(ctx, community))
    if as_json:
        echo_json(view)
        return
    click.echo(_("{houses} houses owe {total}.").format(houses=view.houses, total=format_fen(view.total_fen)))
    for label, fen in view.buckets.items():
        click.echo(f"  {label:>8}  {format_fen(fen)}")


def _house_id(site_ctx, house: str | None, community_id: uuid.UUID | None = None) -> uuid.UUID | None:
    """A house given by id or by its display code ("3-2-1201")."""
    if not house:
        return None
    try:
        return uuid.UUID(house)
    except ValueError:
        from core.property.services import find_house

        return find_house(site_ctx, house, community_id).id


def _fen(amount: str) -> int:
    from core.money import parse_yuan

    return parse_yuan(amount)


# ---------------------------------------------------------------------------------------------------------
# Deposits (押金, 装修保证金)


@group.group("deposits")
def deposits_group() -> None:
    """Deposits held per house; refunds (after approval), deductions and forfeiture."""


@deposits_group.command("list")
@click.option("--house", default=None, help="House id or code (3-2-1201).")
@click.option("--community", default=None, help="Community id or code.")
@click.option(
    "--status", type=click.Choice(("held", "partly_refunded", "refunded", "forfeited")), default=None
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def deposits_list_cmd(
    site: Site, house: str | None, community: str | None, status: str | None, as_json: bool
) -> None:
    """List deposits with what each still holds, and the total held."""
    from core.money import format_fen
    from core.property import deposits

    ctx = site.context()
    cid = _community_id(ctx, community)
    rows = deposits.list_deposits(ctx, house_id=_house_id(ctx, house, cid), community_id=cid, status=status)
    held = sum(d.balance_fen for d in rows if d.status in ("held", "partly_refunded"))
    if as_json:
        echo_json({"deposits": [d.to_dict() for d in rows], "held_fen": held})
        return
    for d in rows:
        click.echo(
            f"{d.id}  {d.house_code:<12} {d.item_name:<8} {format_fen(d.paid_fen):>14} "
            f"{format_fen(d.balance_fen):>14}  {_(deposits.STATUS_LABELS[d.status])}"
        )
    click.echo(_("{n} deposits, {held} held.").format(n=len(rows), held=format_fen(held)))


@deposits_group.command("refund")
@click.argument("deposit_id")
@click.option("--amount", required=True, help="Amount in yuan, e.g. 1500.00.")
@click.option("--reason", required=True)
@click.option("--cash", is_flag=True, help="Pay back in cash at the counter instead of the original payment.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def deposits_refund_cmd(
    site: Site, deposit_id: str, amount: str, reason: str, cash: bool, as_json: bool
) -> None:
    """Ask for a deposit refund; it is paid out with `pay-refund` once someone else approved it."""
    from core.property import deposits

    rf = deposits.request_refund(
        site.context(), deposit_id, _fen(amount), reason, method="cash" if cash else "original"
    )
    if as_json:
        echo_json(rf.to_dict())
        return
    click.echo(
        _("Refund {id} is waiting for approval ({approval}).").format(id=rf.id, approval=rf.approval_id)
    )


@deposits_group.command("pay-refund")
@click.argument("refund_id", type=click.UUID)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def deposits_pay_refund_cmd(site: Site, refund_id: uuid.UUID, as_json: bool) -> None:
    """Pay out an approved deposit refund (hub refund of the original order, or cash)."""
    from core.property import deposits

    rf = deposits.pay_refund(site.context(), refund_id)
    if as_json:
        echo_json(rf.to_dict())
        return
    click.echo(
        _("Refund {id}: {status}.").format(id=rf.id, status=_(deposits.REFUND_STATUS_LABELS[rf.status]))
    )


@deposits_group.command("cancel-refund")
@click.argument("refund_id", type=click.UUID)
@click.option("--reason", required=True, help="Why it is cancelled (recorded).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def deposits_cancel_refund_cmd(site: Site, refund_id: uuid.UUID, reason: str, as_json: bool) -> None:
    """Cancel an approved deposit refund not paid out (e.g. the hub refused it); its amount is held again."""
    from core.property import deposits

    rf = deposits.cancel_refund(site.context(), refund_id, reason)
    if as_json:
        echo_json(rf.to_dict())
        return
    click.echo(_("Refund {id} cancelled; its amount is held in the deposit again.").format(id=rf.id))


@deposits_group.command("deduct")
@click.argument("deposit_id")
@click.option("--amount", required=True, help="Amount in yuan kept from the deposit.")
@click.option("--reason", required=True)
@click.pass_obj
def deposits_deduct_cmd(site: Site, deposit_id: str, amount: str, reason: str) -> None:
    """Keep part of a deposit (damage, …) with the reason."""
    from core.money import format_fen
    from core.property import deposits

    d = deposits.deduct(site.context(), deposit_id, _fen(amount), reason)
    click.echo(_("Deposit {id} now holds {left}.").format(id=d.id, left=format_fen(d.balance_fen)))


@deposits_group.command("forfeit")
@click.argument("deposit_id")
@click.option("--reason", required=True)
@click.pass_obj
def deposits_forfeit_cmd(site: Site, deposit_id: str, reason: str) -> None:
    """Keep all that is left of a deposit (没收), with the reason."""
    from core.money import format_fen
    from core.property import deposits

    d = deposits.forfeit(site.context(), deposit_id, reason)
    click.echo(_("Deposit {id} now holds {left}.").format(id=d.id, left=format_fen(d.balance_fen)))


# ---------------------------------------------------------------------------------------------------------
# Arrears reminders (催缴)


def _date_option(value: str | None):
    from datetime import date

    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(_("Use a date as YYYY-MM-DD.")) from None


@group.group("reminders")
def reminders_group() -> None:
    """Arrears reminders: schedules, the stop list and the daily run."""


@reminders_group.command("run")
@click.option("--date", "on", default=None, help="The day to run for, YYYY-MM-DD (default today).")
@click.option("--community", default=None, help="Community id or code (default: all with a schedule).")
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and record nothing.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def reminders_run_cmd(
    site: Site, on: str | None, community: str | None, dry_run: bool, as_json: bool
) -> None:
    """Send the reminders due on a day (a second run on the same day sends nothing again)."""
    from core.property import reminders

    ctx = site.context()
    result = reminders.run_reminders(
        ctx, _date_option(on), community_id=_community_id(ctx, community), dry_run=dry_run
    )
    if as_json:
        echo_json(result.to_dict())
        return
    text = _(
        "{date}: {houses} houses, {messages} reminders (app {app}, SMS {sms}, printed {printed})."
    ).format(
        date=result.on.isoformat(),
        houses=result.houses,
        messages=result.messages,
        app=result.by_channel["app_push"],
        sms=result.by_channel["sms"],
        printed=result.by_channel["printed"],
    )
    click.echo((_("Dry run, nothing written. ") if dry_run else "") + text)
    if result.stopped or result.already_sent or result.no_phone:
        click.echo(
            _(
                "Left out: {stopped} on the stop list, {already} already sent today, {phone} without a phone."
            ).format(stopped=result.stopped, already=result.already_sent, phone=result.no_phone)
        )


@reminders_group.group("schedule")
def schedule_group() -> None:
    """A community's reminder schedule."""


@schedule_group.command("set")
@click.option("--community", required=True, help="Community id or code.")
@click.option("--kind", required=True, type=click.Choice(("before_due", "after_due", "every")))
@click.option("--days", required=True, type=int)
@click.option("--channels", required=True, help="Comma-separated: app_push, sms, printed.")
@click.option("--off", is_flag=True, help="Switch this rule off.")
@click.pass_obj
def schedule_set_cmd(site: Site, community: str, kind: str, days: int, channels: str, off: bool) -> None:
    """Add or change one rule: N days before the due date, N days after it, or every N days in arrears."""
    from core.property import reminders

    ctx = site.context()
    view = reminders.set_schedule(
        ctx,
        _community_id(ctx, community),
        kind,
        days,
        [c.strip() for c in channels.split(",") if c.strip()],
        active=not off,
    )
    click.echo(_("Schedule rule {kind} {days}: {channels}.").format(
        kind=view.kind, days=view.days, channels=",".join(view.channels) + ("" if view.active else " (off)")
    ))  # fmt: skip


@schedule_group.command("list")
@click.option("--community", default=None, help="Community id or code (default: all).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def schedule_list_cmd(site: Site, community: str | None, as_json: bool) -> None:
    """The reminder schedules."""
    from core.property import reminders

    ctx = site.context()
    rows = reminders.list_schedules(ctx, _community_id(ctx, community))
    if as_json:
        echo_json([r.to_dict() for r in rows])
        return
    for r in rows:
        click.echo(f"{r.kind:<10} {r.days:>4}  {','.join(r.channels):<22} {'' if r.active else _('off')}")


@reminders_group.group("stop")
def stop_group() -> None:
    """The stop list: houses and owners not to remind."""


@stop_group.command("add")
@click.option("--house", default=None, help="House id or code.")
@click.option("--owner", default=None, type=click.UUID, help="Owner id.")
@click.option("--reason", required=True)
@click.option("--until", default=None, help="Last day it holds, YYYY-MM-DD (default: until removed).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def stop_add_cmd(
    site: Site, house: str | None, owner: uuid.UUID | None, reason: str, until: str | None, as_json: bool
) -> None:
    """Put a house or an owner on the stop list."""
    from core.property import reminders

    ctx = site.context()
    view = reminders.add_stop(
        ctx, house_id=_house_id(ctx, house), owner_id=owner, reason=reason, until=_date_option(until)
    )
    if as_json:
        echo_json(view.to_dict())
        return
    click.echo(_("{target} is on the stop list ({id}).").format(target=view.target, id=view.id))


@stop_group.command("remove")
@click.argument("stop_id", type=click.UUID)
@click.pass_obj
def stop_remove_cmd(site: Site, stop_id: uuid.UUID) -> None:
    """Take an entry off the stop list."""
    from core.property import reminders

    view = reminders.remove_stop(site.context(), stop_id)
    click.echo(_("{target} is off the stop list.").format(target=view.target))


@stop_group.command("list")
@click.option("--all", "include_ended", is_flag=True, help="Include removed and expired entries.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def stop_list_cmd(site: Site, include_ended: bool, as_json: bool) -> None:
    """The stop list in force today."""
    from core.property import reminders

    rows = reminders.list_stops(site.context(), include_ended=include_ended)
    if as_json:
        echo_json([r.to_dict() for r in rows])
        return
    for r in rows:
        until = r.until.isoformat() if r.until else "—"
        click.echo(f"{r.id}  {r.target:<12} {until:<10}  {r.reason}")


# Engineer D's operations commands register themselves on import; their absence never breaks this group.
with contextlib.suppress(ImportError):
    import console.commands.property_ops  # noqa: F401
