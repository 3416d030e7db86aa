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
    from core.property.importexport import import_file

    report = import_file(site.context(), kind, file, good_rows_only=good_rows_only)
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
    from core.property.importexport import export_file

    ctx = site.context()
    n = export_file(ctx, kind, output, community_id=_community_id(ctx, community))
    click.echo(_("{n} rows written to {path}.").format(n=n, path=output))


@group.command("import-template")
@click.argument("kind", type=click.Choice(IMPORT_KINDS))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
def import_template_cmd(kind: str, output: Path) -> None:
    """Write an import template: the header row and one example row."""
    from core.property.importexport import write_template

    write_template(kind, output)
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


# Engineer D's operations commands register themselves on import; their absence never breaks this group.
with contextlib.suppress(ImportError):
    import console.commands.property_ops  # noqa: F401
