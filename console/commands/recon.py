"""`anju recon`: reconcile a channel's daily statement, list batches and differences, resolve a difference."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from core.i18n import _
from core.money import format_fen

if TYPE_CHECKING:  # console.cli imports this module: importing it back at run time would be circular
    from console.cli import Site


def _echo_json(value: object) -> None:
    from console.cli import echo_json

    echo_json(value)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(_("Use the form YYYY-MM-DD.")) from None


@click.group("recon")
def group() -> None:
    """Reconciliation (对账) of the channels' daily statements."""


@group.command("run")
@click.option("--channel", type=click.Choice(["wechat", "alipay"]), required=True)
@click.option("--date", "day", required=True, help="Statement date, YYYY-MM-DD.")
@click.option(
    "--statement",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Statement file; without it the statement is downloaded from the channel.",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def run(site: Site, channel: str, day: str, statement: Path | None, as_json: bool) -> None:
    """Match the channel's statement of a day against our orders and refunds."""
    from core.payments.recon.services import run_recon

    result = run_recon(site.context(), channel, _day(day), statement)
    if as_json:
        _echo_json(result.counts())
        return
    click.echo(
        _("{channel} {day}: {lines} statement lines, {pending} waiting for the next day.").format(
            channel=channel, day=day, lines=result.lines, pending=result.pending
        )
    )
    for key, n in result.counts().items():
        click.echo(f"  {key:<20} {n}")


@group.command("list")
@click.option("--channel", type=click.Choice(["wechat", "alipay"]), default=None)
@click.option("--date", "day", default=None, help="Only this statement date.")
@click.option("--differences", is_flag=True, help="List the open differences instead of the batches.")
@click.option("--all", "include_resolved", is_flag=True, help="With --differences: resolved ones too.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_(
    site: Site, channel: str | None, day: str | None, differences: bool, include_resolved: bool, as_json: bool
) -> None:
    """List reconciliation batches (or their differences)."""
    from core.payments.recon.services import list_batches, list_differences

    ctx = site.context()
    when = _day(day) if day else None
    if differences:
        rows = list_differences(
            ctx, channel=channel, day=when, status=None if include_resolved else "open", limit=1000
        )
        if as_json:
            _echo_json(rows)
            return
        for d in rows:
            local = "-" if d.local_amount_fen is None else format_fen(d.local_amount_fen)
            remote = "-" if d.channel_amount_fen is None else format_fen(d.channel_amount_fen)
            click.echo(
                f"{d.id}  {d.channel:<7} {d.business_date}  {d.kind:<19} {d.doc_no:<24} "
                f"{local:>12} {remote:>12}  {d.decision or d.status}"
            )
        return
    batches = list_batches(ctx, channel=channel, day=when)
    if as_json:
        _echo_json(batches)
        return
    for b in batches:
        found = (
            b.missing_at_channel + b.missing_locally + b.amount_mismatch + b.status_mismatch + b.fee_mismatch
        )
        click.echo(
            f"{b.business_date}  {b.channel:<7} lines={b.statement_lines:<8} matched={b.matched:<8} "
            f"differences={found} open={b.open_differences} pending={b.pending} runs={b.runs}"
        )


@group.command("resolve")
@click.argument("item_id")
@click.option(
    "--decision",
    type=click.Choice(["accept_channel", "accept_local", "refund_payer", "write_off"]),
    required=True,
)
@click.option("--note", required=True, help="Why this decision was taken.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def resolve_(site: Site, item_id: str, decision: str, note: str, as_json: bool) -> None:
    """Resolve a difference with a recorded decision."""
    from core.errors import ValidationError
    from core.i18n import N_
    from core.payments.recon.services import resolve

    try:
        ident = uuid.UUID(item_id)
    except ValueError:
        raise ValidationError(N_("“{id}” is not a difference id."), field="item_id", id=item_id) from None
    view = resolve(site.context(), ident, decision, note)
    if as_json:
        _echo_json(view)
    else:
        click.echo(_("Difference {id} resolved: {decision}.").format(id=view.id, decision=decision))
