"""Property operations under `anju property`: work orders, parking occupancy, access-record import, notification
delivery — thin callers of core.property.{repairs,parking,access} and core.notify."""

from __future__ import annotations

import uuid
from pathlib import Path

import click
from sqlalchemy import select

from console.cli import Site, echo_json
from console.commands.property import register
from core.errors import NotFound
from core.i18n import N_, _
from core.money import format_fen

FILE_SIZE_MAX_BYTES = 50 * 1024 * 1024


def _community(ctx, value: str | None) -> uuid.UUID | None:
    """A community given by id or by code (None: all communities)."""
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        from core.property.models import Community

        with ctx.read("property.view") as s:
            found = s.execute(select(Community.id).where(Community.code == value)).scalar_one_or_none()
        if found is None:
            raise NotFound(N_("Community {code} was not found."), code=value) from None
        return found


def _require_community(ctx, value: str | None) -> uuid.UUID:
    cid = _community(ctx, value)
    if cid is None:
        from core.property.models import Community

        with ctx.read("property.view") as s:
            ids = s.execute(select(Community.id).limit(2)).scalars().all()
        if len(ids) != 1:
            raise click.UsageError(
                _("Give --community (the site has {count} communities).").format(count=len(ids))
            )
        cid = ids[0]
    return cid


# ---------------------------------------------------------------- work orders


@click.group("workorders")
def workorders() -> None:
    """Repair work orders (维修工单)."""


@workorders.command("list")
@click.option("--community", default=None, help="Community id or code.")
@click.option(
    "--status", default=None, help="Only orders in this status (pending, grabbable, dispatched, …)."
)
@click.option("--worker", default=None)
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def workorders_list(
    site: Site, community: str | None, status: str | None, worker: str | None, limit: int, as_json: bool
) -> None:
    """Newest work orders first."""
    from core.property.repairs import services as rs

    ctx = site.context()
    rows = rs.list_orders(
        ctx, community_id=_community(ctx, community), status=status, worker=worker, limit=limit
    )
    if as_json:
        echo_json(rows)
        return
    for o in rows:
        click.echo(
            f"{o.number}  {o.status:<11}  {o.repair_type_code:<10}  {o.worker or '-':<10}  "
            f"{o.created_at:%Y-%m-%d %H:%M}  {o.description[:30]}"
        )
    click.echo(_("{count} work orders.").format(count=len(rows)))


@workorders.command("overdue")
@click.option("--community", default=None, help="Community id or code.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def workorders_overdue(site: Site, community: str | None, as_json: bool) -> None:
    """Open work orders past their SLA (response or completion)."""
    from core.property.repairs import services as rs

    ctx = site.context()
    rows = rs.overdue(ctx, community_id=_community(ctx, community))
    if as_json:
        echo_json(
            [
                {
                    "number": r.order.number,
                    "status": r.order.status,
                    "kind": r.kind,
                    "minutes_late": r.minutes_late,
                    "worker": r.order.worker,
                }
                for r in rows
            ]
        )
        return
    for r in rows:
        click.echo(
            _("{number}  {status}  {kind} late by {minutes} min").format(
                number=r.order.number, status=r.order.status, kind=r.kind, minutes=r.minutes_late
            )
        )
    click.echo(_("{count} overdue work orders.").format(count=len(rows)))


register(workorders)


# ---------------------------------------------------------------- parking


@click.group("parking")
def parking() -> None:
    """Parking (车位管理)."""


@parking.command("occupancy")
@click.option("--community", default=None, help="Community id or code.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def parking_occupancy(site: Site, community: str | None, as_json: bool) -> None:
    """Live occupancy of each car park."""
    from core.property.parking import services as ps

    ctx = site.context()
    rows = ps.occupancy(ctx, _require_community(ctx, community))
    if as_json:
        echo_json(rows)
        return
    for a in rows:
        click.echo(
            _(
                "{code} {name}: {spaces} spaces — free {free}, sold {sold}, rented {rented}, occupied "
                "{occupied}; {inside} vehicles inside, {temp_free} temporary spaces free"
            ).format(
                code=a.area_code,
                name=a.area_name,
                spaces=a.spaces,
                free=a.free,
                sold=a.sold,
                rented=a.rented,
                occupied=a.occupied,
                inside=a.vehicles_inside,
                temp_free=a.temporary_free,
            )
        )


register(parking)


# ---------------------------------------------------------------- access


@click.group("access")
def access() -> None:
    """Access control and security (门禁与安防)."""


@access.command("import-records")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--community", default=None, help="Community id or code.")
@click.option("--strict", is_flag=True, help="Import nothing if any row is bad.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def access_import(site: Site, file: Path, community: str | None, strict: bool, as_json: bool) -> None:
    """Import access records from a device's CSV export (time,device,person,direction,method[,card])."""
    from core.errors import ValidationError
    from core.property.access import services as acc

    if file.stat().st_size > FILE_SIZE_MAX_BYTES:
        raise ValidationError(
            N_("The file is larger than {max_mib} MiB."), max_mib=FILE_SIZE_MAX_BYTES // 2**20
        )
    ctx = site.context()
    report = acc.import_records(
        ctx, _require_community(ctx, community), file.read_bytes(), good_rows_only=not strict
    )
    if as_json:
        echo_json(report)
    else:
        click.echo(
            _("{imported} imported, {duplicates} already there, {rejected} rejected.").format(
                imported=report.imported, duplicates=report.duplicates, rejected=report.rejected
            )
        )
        for e in report.errors:
            click.echo(
                _("row {row}, {column}: {message}").format(row=e.row, column=e.column, message=_(e.message))
            )
    if report.rejected:
        raise click.exceptions.Exit(1)


register(access)


# ---------------------------------------------------------------- notifications and charges


@click.command("notify-deliver")
@click.option("--limit", default=200, show_default=True)
@click.pass_obj
def notify_deliver(site: Site, limit: int) -> None:
    """Deliver queued notifications (app push, SMS, notice board) once."""
    from core.notify import services as notify

    r = notify.deliver_pending(site.context(), limit=limit)
    click.echo(
        _("{sent} sent, {retrying} to retry, {failed} failed.").format(
            sent=r.sent, retrying=r.retrying, failed=r.failed
        )
    )


register(notify_deliver)


@click.command("pending-charges")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def pending_charges(site: Site, as_json: bool) -> None:
    """Charges of paid repairs and activities waiting to be collected through the hub."""
    from core.property.ops import services as ops

    rows = ops.list_charges(site.context())
    if as_json:
        echo_json(rows)
        return
    for c in rows:
        click.echo(
            f"{c.created_at:%Y-%m-%d}  {c.source_type:<8}  {format_fen(c.amount_fen):>12}  {c.subject}"
        )


register(pending_charges)
