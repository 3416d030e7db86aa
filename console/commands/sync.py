"""`anju sync …` (the site: enrol, run a round, status, schedule, recover) and the hub's site commands
(`anju hub sites …`, `anju hub verify-site`), added to whichever module owns the `hub` group.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import click

from console.cli import EXIT_PROBLEMS, Site, echo_json
from core.i18n import _


@click.group(name="sync", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print {pushed, pulled, acked_seq} as JSON.")
@click.option("--no-backup", is_flag=True, help="Skip the online backup the round starts with.")
@click.pass_context
def group(click_ctx: click.Context, as_json: bool, no_backup: bool) -> None:
    """Sync with the central hub: without a subcommand, run one round (backup, push, pull)."""
    if click_ctx.invoked_subcommand is not None:
        return
    from core.sync.client import run_round

    site: Site = click_ctx.obj
    labels = {"backup": _("Backing up"), "push": _("Pushing"), "pull": _("Pulling")}

    def progress(phase: str, done: int, total: int) -> None:
        if not as_json:
            click.echo(f"\r{labels.get(phase, phase)} {done}/{total}", nl=False, err=True)

    result = run_round(site.context(), progress=progress, backup=not no_backup)
    if as_json:
        echo_json({"pushed": result.pushed, "pulled": result.pulled, "acked_seq": result.acked_seq})
    else:
        click.echo("", err=True)
        click.echo(
            _(
                "Sync done: {pushed} event(s) pushed, {pulled} reference change(s) pulled, the hub holds up to {acked}."
            ).format(pushed=result.pushed, pulled=result.pulled, acked=result.acked_seq)
        )


@group.command("enroll")
@click.argument("url")
@click.option("--site-id", required=True, help="The site id printed by 'anju hub sites enroll'.")
@click.option("--key-file", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_obj
def enroll_cmd(site: Site, url: str, site_id: str, key_file: Path) -> None:
    """Store the hub URL, site id and signing key at this site."""
    from core.sync.client import enroll

    enroll(site.context(), url, site_id, key_file.read_text(encoding="ascii", errors="replace"))
    click.echo(_("Enrolled at {url} as site {site_id}.").format(url=url, site_id=site_id))


@group.command("status")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def status_cmd(site: Site, as_json: bool) -> None:
    """The last round, events waiting to be pushed, and how long the oldest has waited."""
    from core.sync.client import status

    st = status(site.context())
    if as_json:
        echo_json(st)
        return
    if not st.enrolled:
        click.echo(_("Not enrolled at a hub."))
    else:
        click.echo(_("Hub: {url} (site {site_id})").format(url=st.hub_url, site_id=st.hub_site_id))
    click.echo(
        _("Events: {local} at this site, the hub holds up to {acked}, {pending} waiting.").format(
            local=st.local_seq, acked=st.acked_seq, pending=st.pending
        )
    )
    if st.lag_s is not None:
        click.echo(_("The oldest waiting event is {hours:.1f} hours old.").format(hours=st.lag_s / 3600))
    if st.last_round is not None:
        r = st.last_round
        click.echo(
            _("Last round: {at}, {status}, {pushed} pushed, {pulled} pulled.").format(
                at=r.finished_at.isoformat(timespec="seconds"),
                status=r.status,
                pushed=r.pushed,
                pulled=r.pulled,
            )
        )
        if r.error:
            click.echo(f"  {r.error_code}: {r.error}")
    if st.schedule_at:
        click.echo(_("Scheduled daily at {at}.").format(at=st.schedule_at))


@group.command("schedule")
@click.option("--at", "at", required=True, help="Time of day, HH:MM (site local time).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def schedule_cmd(site: Site, at: str, as_json: bool) -> None:
    """Remember a daily sync time and print a systemd timer and a cron line that run it."""
    from core.sync.client import schedule

    sch = schedule(
        site.context(), at, anju_command=sys.argv[0] if sys.argv and sys.argv[0].endswith("anju") else "anju"
    )
    if as_json:
        echo_json(sch)
        return
    click.echo(_("# systemd: /etc/systemd/system/anju-sync.service"))
    click.echo(sch.systemd_service)
    click.echo(
        _("# systemd: /etc/systemd/system/anju-sync.timer  (then: systemctl enable --now anju-sync.timer)")
    )
    click.echo(sch.systemd_timer)
    click.echo(_("# or cron (crontab -e):"))
    click.echo(sch.cron_line)


@group.command("recover")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def recover_cmd(site: Site, as_json: bool) -> None:
    """After a restore from an old backup: bring back from the hub the events this database lost."""
    from core.sync.client import recover

    result = recover(site.context())
    if as_json:
        echo_json(result)
        return
    click.echo(
        _(
            "Recovered {recovered} event(s) ({entries} journal entries); {renumbered} local event(s) renumbered."
        ).format(recovered=result.recovered, entries=result.entries, renumbered=result.renumbered)
    )


# ----------------------------------------------------------------------------------------------- the hub side


def _hub_context(site: Site, db_url: str | None, actor_name: str = "cli:hub"):
    from core.clock import SystemClock
    from core.context import Actor, Context
    from core.db.engine import Database

    if db_url is None:
        return site.context()
    return Context(db=Database(db_url), actor=Actor.system(actor_name), clock=SystemClock(), home=site.home)


_db_option = click.option(
    "--db",
    "db_url",
    envvar="ANJU_HUB_DB",
    default=None,
    help="Hub database URL (default: this site's database).",
)


def add_hub_commands(hub: click.Group) -> None:
    """Add `sites` and `verify-site` to the `hub` group."""

    @hub.group("sites")
    def sites() -> None:
        """Sites enrolled at this hub."""

    @sites.command("enroll")
    @click.argument("name")
    @_db_option
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def sites_enroll(site: Site, name: str, db_url: str | None, as_json: bool) -> None:
        """Enrol a site: prints its site id and signing key (shown once; keep it secret)."""
        from hub.sync_apply import enroll_site

        enrolment = enroll_site(_hub_context(site, db_url), name)
        if as_json:
            echo_json({"site_id": str(enrolment.site_id), "key": enrolment.key})
        else:
            click.echo(_("Site {name} enrolled.").format(name=name))
            click.echo(f"site_id: {enrolment.site_id}")
            click.echo(f"key:     {enrolment.key}")

    @sites.command("list")
    @_db_option
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def sites_list(site: Site, db_url: str | None, as_json: bool) -> None:
        """Enrolled sites with the highest event each has delivered."""
        from hub.sync_apply import list_sites

        rows = list_sites(_hub_context(site, db_url))
        if as_json:
            echo_json(rows)
            return
        for r in rows:
            last = r.last_push_at.isoformat(timespec="seconds") if r.last_push_at else "-"
            flag = _("REGRESSION") if r.regression_at else ""
            click.echo(f"{r.name:<20} {r.site_id} {r.status:<9} {r.acked_seq:>10} {last} {flag}")

    @hub.command("verify-site")
    @click.argument("site_name")
    @_db_option
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def verify_site_cmd(site: Site, site_name: str, db_url: str | None, as_json: bool) -> None:
        """Compare a site's totals per book and day with what the hub holds (exit 1 on differences)."""
        from core.i18n import translate
        from hub.sync_apply import verify_site

        result = verify_site(_hub_context(site, db_url), site_name)
        problems = [{**pr, "message": translate(pr["message"], pr)} for pr in result.problems]
        if as_json:
            echo_json({"ok": result.ok, "checked": result.checked, "problems": problems})
        elif result.ok:
            click.echo(
                _("Site {site}: totals agree ({n} book-days).").format(site=site_name, n=result.checked)
            )
        else:
            click.echo(_("Site {site}: {count} difference(s):").format(site=site_name, count=len(problems)))
            for pr in problems:
                click.echo(f"  - {pr['message']}")
        if not result.ok:
            sys.exit(EXIT_PROBLEMS)

    @hub.command("collections")
    @click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD")
    @click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD")
    @_db_option
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def collections_cmd(site: Site, date_from, date_to, db_url: str | None, as_json: bool) -> None:
        """Payments, fees and refunds every site has delivered, per site, day, app and channel."""
        from core.money import format_fen
        from hub.sync_records import centre_collections

        rows = centre_collections(_hub_context(site, db_url), date_from.date(), date_to.date())
        if as_json:
            echo_json([{**asdict(r), "net_fen": r.net_fen} for r in rows])
            return
        if not rows:
            click.echo(_("No payments from any site in this period."))
            return
        for r in rows:
            click.echo(
                f"{r.site:<16} {r.business_date} {r.app_id:<12} {r.channel:<10} {r.payments:>7} "
                f"{format_fen(r.amount_fen):>16} {format_fen(r.fee_fen):>12} {format_fen(r.refunded_fen):>14} "
                f"{format_fen(r.net_fen):>16}"
            )
        click.echo(
            _("Total: {count} payments, {amount}, refunds {refunded}, net {net}").format(
                count=sum(r.payments for r in rows),
                amount=format_fen(sum(r.amount_fen for r in rows)),
                refunded=format_fen(sum(r.refunded_fen for r in rows)),
                net=format_fen(sum(r.net_fen for r in rows)),
            )
        )

    @hub.group("sync-conflicts")
    def sync_conflicts() -> None:
        """Batches held at the hub: a site's record that the hub already holds with other content."""

    @sync_conflicts.command("list")
    @click.option("--status", type=click.Choice(["open", "resolved", "applied"]), default=None)
    @click.option("--site", "site_name", default=None, help="One site (name or id).")
    @_db_option
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def conflicts_list(
        site: Site, status: str | None, site_name: str | None, db_url: str | None, as_json: bool
    ) -> None:
        """Each conflict with the event that brought it and the hub's and the site's versions."""
        from hub.sync_conflicts import STATUS_LABELS, list_conflicts

        rows = list_conflicts(_hub_context(site, db_url), status=status, site=site_name)
        if as_json:
            echo_json([r.to_dict() for r in rows])
            return
        if not rows:
            click.echo(_("No sync conflicts."))
            return
        for r in rows:
            click.echo(
                _("Conflict {id}: site {site}, event {seq} ({type}) {event_id}: {record} — {status}").format(
                    id=r.id,
                    site=r.site,
                    seq=r.site_seq,
                    type=r.event_type,
                    event_id=r.event_id,
                    record=f"{r.record_kind} {r.record_key}",
                    status=_(STATUS_LABELS[r.status]),
                )
            )
            for name in r.differs:
                click.echo(
                    "  "
                    + _("{field}: hub {hub} / site {site}").format(
                        field=name, hub=r.hub_version.get(name), site=r.site_version.get(name)
                    )
                )
            if r.decision:
                click.echo(
                    "  "
                    + _("Decided by {who} at {at}: keep the {keep} version. {reason}").format(
                        who=r.decided_by,
                        at=r.decided_at.isoformat(timespec="seconds") if r.decided_at else "",
                        keep=r.decision,
                        reason=r.reason,
                    )
                )

    @sync_conflicts.command("resolve")
    @click.argument("conflict_id")
    @click.option("--keep", required=True, type=click.Choice(["hub", "site"]), help="Which version stays.")
    @click.option("--reason", required=True, help="Why (recorded with the decision).")
    @_db_option
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def conflicts_resolve(
        site: Site, conflict_id: str, keep: str, reason: str, db_url: str | None, as_json: bool
    ) -> None:
        """Decide a conflict; the site's next push applies the decision and goes on."""
        import getpass

        from hub.sync_conflicts import resolve_conflict

        view = resolve_conflict(
            _hub_context(site, db_url, f"cli:{getpass.getuser()}"), conflict_id, keep, reason
        )
        if as_json:
            echo_json(view.to_dict())
            return
        click.echo(
            _(
                "Conflict {id} decided: keep the {keep} version of {record}. The site's next sync applies it."
            ).format(id=view.id, keep=keep, record=f"{view.record_kind} {view.record_key}")
        )
