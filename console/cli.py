"""The `anju` command line: site set-up, users, verification, backup, and the entry to each app.

Commands are thin callers of core services. Errors print one translated line and exit non-zero; a traceback
only with --debug.
"""

from __future__ import annotations

import getpass
import json
import sys
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import click

from core.errors import AnjuError, SiteError, ValidationError
from core.i18n import N_, _, set_language

EXIT_PROBLEMS = 1
EXIT_ERROR = 2


class Site:
    """What a command needs about the site directory it runs on; opened lazily."""

    def __init__(self, home: Path, debug: bool) -> None:
        from core.site import SiteHome

        self.home = SiteHome(home)
        self.debug = debug
        self._db = None

    def database(self, *, check: bool = True, allow_pending: bool = False):
        from core.db.engine import Database
        from core.db.migrate import check_version

        if not self.home.exists():
            raise SiteError(
                N_("No site at {path}; run 'anju init' (or 'anju demo') first."), path=str(self.home.root)
            )
        if self._db is None:
            self._db = Database(self.home.db_url)
        if check:
            check_version(self._db.engine, allow_pending=allow_pending)
        return self._db

    def context(self, **db_kw: Any):
        from core.clock import SystemClock
        from core.context import Actor, Context

        actor = Actor.system(f"cli:{getpass.getuser()}")
        return Context(db=self.database(**db_kw), actor=actor, clock=SystemClock(), home=self.home)

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def echo_json(value: Any) -> None:
    click.echo(json.dumps(_jsonable(value), ensure_ascii=False, indent=2))


def read_password(file: Path | None, prompt: str) -> str:
    if file is not None:
        text = file.read_text(encoding="utf-8").splitlines()
        if not text or not text[0]:
            raise ValidationError(N_("The password file is empty."), field="password")
        return text[0]
    if not sys.stdin.isatty():
        raise ValidationError(N_("No terminal to ask for a password; use --password-file."), field="password")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


class AnjuGroup(click.Group):
    """Turns domain errors into one clear line and an exit code; tracebacks only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AnjuError as err:
            if ctx.meta.get("anju.debug"):
                raise
            click.echo(_("Error: {message}").format(message=err.message()), err=True)
            ctx.exit(EXIT_ERROR)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo(_("Interrupted."), err=True)
            ctx.exit(130)
        except Exception as err:  # a bug: one line, and how to see more
            if ctx.meta.get("anju.debug"):
                raise
            click.echo(
                _("Unexpected error: {error} (run with --debug for details)").format(
                    error=f"{type(err).__name__}: {err}"
                ),
                err=True,
            )
            ctx.exit(EXIT_ERROR)
        finally:
            site = ctx.obj
            if isinstance(site, Site):
                site.close()


@click.group(cls=AnjuGroup)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="ANJU_HOME",
    help="Site directory (database, attachments, keys). Default: ANJU_HOME or the user data directory.",
)
@click.option(
    "--lang", type=click.Choice(["zh_CN", "en"]), default=None, help="Language (default: ANJU_LANG / locale)."
)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="anju")
@click.pass_context
def main(ctx: click.Context, home: Path | None, lang: str | None, debug: bool) -> None:
    """Anju (安居) — payment middle platform for housing and community services."""
    from core.site import default_home

    set_language(lang)
    ctx.meta["anju.debug"] = debug
    ctx.obj = Site((home or default_home()).expanduser().resolve(), debug)


# ---------------------------------------------------------------- site set-up


@main.command()
@click.option(
    "--site-code", default="S01", show_default=True, help="Short site code used in document numbers."
)
@click.option("--site-name", default="安居站点", show_default=True)
@click.option("--admin-user", default="admin", show_default=True)
@click.option("--admin-password-file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_obj
def init(
    site: Site, site_code: str, site_name: str, admin_user: str, admin_password_file: Path | None
) -> None:
    """Create the site: database (through migrations), identity, keys and the first administrator."""
    from core.bootstrap import init_site

    if site.home.exists():
        raise SiteError(
            N_("A site already exists at {path}; refusing to overwrite it."), path=str(site.home.root)
        )
    password = read_password(admin_password_file, _("Password for {user}").format(user=admin_user))
    init_site(site.home, code=site_code, name=site_name, admin_user=admin_user, admin_password=password)
    click.echo(_("Site {code} created at {path}.").format(code=site_code.upper(), path=site.home.root))


@main.command()
@click.option(
    "--size",
    type=click.Choice(["full", "small"]),
    default="full",
    show_default=True,
    help="full: a community of 1,200 houses with a year of history; small: 24 houses, for a quick look.",
)
@click.pass_obj
def demo(site: Site, size: str) -> None:
    """Create a realistic demo site (does nothing to an existing site that is not the demo)."""
    from data.demo.build import ensure_demo

    message = ensure_demo(site.home, progress=lambda text: click.echo(text, err=True), size=size)
    click.echo(message)


# ---------------------------------------------------------------- users and roles


@main.group()
def users() -> None:
    """Users: add, list, disable, enable, change password."""


@users.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, help="Role code (repeatable); see 'anju roles list'.")
@click.option("--display-name", default="")
@click.option("--phone", default=None)
@click.option("--password-file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def users_add(
    site: Site,
    username: str,
    roles: tuple[str, ...],
    display_name: str,
    phone: str | None,
    password_file: Path | None,
    as_json: bool,
) -> None:
    """Add a user."""
    from core.security.services import add_user

    password = read_password(password_file, _("Password for {user}").format(user=username))
    view = add_user(site.context(), username, password, display_name=display_name, roles=roles, phone=phone)
    if as_json:
        echo_json(view)
    else:
        click.echo(_("User {user} added.").format(user=username))


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def users_list(site: Site, as_json: bool) -> None:
    """List users."""
    from core.security.services import list_users

    rows = list_users(site.context())
    if as_json:
        echo_json(rows)
        return
    for u in rows:
        roles = ",".join(u.roles)
        click.echo(f"{u.username:<20} {u.display_name:<16} {u.status:<9} {roles}")


@users.command("disable")
@click.argument("username")
@click.pass_obj
def users_disable(site: Site, username: str) -> None:
    """Disable a user (they can no longer log in)."""
    from core.security.services import disable_user

    disable_user(site.context(), username)
    click.echo(_("User {user} disabled.").format(user=username))


@users.command("enable")
@click.argument("username")
@click.pass_obj
def users_enable(site: Site, username: str) -> None:
    """Enable a disabled user."""
    from core.security.services import enable_user

    enable_user(site.context(), username)
    click.echo(_("User {user} enabled.").format(user=username))


@users.command("passwd")
@click.argument("username")
@click.option("--password-file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_obj
def users_passwd(site: Site, username: str, password_file: Path | None) -> None:
    """Set a user's password (administrator reset)."""
    from core.security.services import change_password

    password = read_password(password_file, _("New password for {user}").format(user=username))
    change_password(site.context(), username, password)
    click.echo(_("Password of {user} changed.").format(user=username))


@main.group()
def roles() -> None:
    """Roles and their permissions."""


@roles.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def roles_list(site: Site, as_json: bool) -> None:
    """List roles."""
    from core.security.services import list_roles

    rows = list_roles(site.context())
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r.code:<12} {_(r.name):<16} {' '.join(r.permissions)}")


# ---------------------------------------------------------------- verification


def _report(result, as_json: bool, what: str) -> None:
    """Print a verify result and exit 0 (all holds) or 1 (problems)."""
    from core.i18n import translate

    data = result.to_dict()
    problems = [
        {**p, "message": translate(p["message"], p)} if "message" in p else p for p in data["problems"]
    ]
    if as_json:
        echo_json({"ok": data["ok"], "checked": data["checked"], "problems": problems})
    elif data["ok"]:
        click.echo(_("{what}: OK, {n} checked.").format(what=what, n=data["checked"]))
    else:
        click.echo(
            _("{what}: {count} problem(s) in {n} checked:").format(
                what=what, count=len(problems), n=data["checked"]
            )
        )
        for p in problems:
            click.echo(f"  - {p.get('message', p)}")
    if not data["ok"]:
        sys.exit(EXIT_PROBLEMS)


@main.group()
def ledger() -> None:
    """The double-entry ledger."""


@ledger.command("verify")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def ledger_verify(site: Site, as_json: bool) -> None:
    """Recompute every balance from postings and check every ledger invariant."""
    from core.ledger.verify import verify

    ctx = site.context()
    with ctx.read("ledger.verify") as session:
        result = verify(session)
    _report(result, as_json, _("Ledger"))


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def audit_verify(site: Site, as_json: bool) -> None:
    """Check the audit log's hash chain; name every edited, deleted or inserted record."""
    from core.audit.log import verify

    ctx = site.context()
    with ctx.read("audit.verify") as session:
        result = verify(session)
    _report(result, as_json, _("Audit log"))


# ---------------------------------------------------------------- database and backups


@main.group()
def db() -> None:
    """Database: check, upgrade."""


@db.command("check")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def db_check(site: Site, as_json: bool) -> None:
    """Run SQLite's integrity and foreign-key checks on the site database."""
    from core.db.backup import check_database

    site.database(check=True, allow_pending=True)
    result = check_database(site.home.db_path)
    if as_json:
        echo_json({"ok": result.ok, "problems": list(result.problems)})
    elif result.ok:
        click.echo(_("Database OK: {path}").format(path=site.home.db_path))
    else:
        for p in result.problems:
            click.echo(f"  - {p}")
    if not result.ok:
        sys.exit(EXIT_PROBLEMS)


@db.command("upgrade")
@click.pass_obj
def db_upgrade(site: Site) -> None:
    """Apply pending schema migrations (refuses a database from a newer Anju)."""
    from core.bootstrap import ensure_reference_data
    from core.db.migrate import current_revisions, script_heads, upgrade

    database = site.database(allow_pending=True)
    before = current_revisions(database.engine)
    if before == script_heads():
        click.echo(_("The database is up to date."))
        return
    upgrade(database.engine)
    ensure_reference_data(site.context())
    click.echo(_("Database upgraded."))


@main.group()
def backup() -> None:
    """Online backup and restore."""


def _progress_bar(label: str):
    bar = click.progressbar(length=100, label=label, file=sys.stderr)
    state = {"done": 0}

    def progress(remaining: int, total: int) -> None:
        done = 100 if total == 0 else int(100 * (total - remaining) / total)
        bar.update(done - state["done"])
        state["done"] = done

    return bar, progress


@backup.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
@click.pass_obj
def backup_create(site: Site, file: Path, overwrite: bool) -> None:
    """Copy the live site database to FILE (online; the apps may keep working)."""
    from core.db.backup import create_backup

    site.context().require("backup.manage")
    bar, progress = _progress_bar(_("Backing up"))
    with bar:
        info = create_backup(site.home.db_path, file, progress=progress, overwrite=overwrite)
    click.echo(_("Backup written: {path} ({size} bytes).").format(path=file, size=info.size_bytes))


@backup.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def backup_restore(site: Site, file: Path, yes: bool) -> None:
    """Replace the site database with FILE after checking it (a copy of the current one is kept)."""
    from core.db.backup import check_database, restore_backup
    from core.db.migrate import known_revisions
    from core.errors import IntegrityProblem

    checked = check_database(file)
    if not checked.ok:
        raise IntegrityProblem(
            N_("The backup {path} cannot be restored: {problems}"),
            path=str(file),
            problems="; ".join(checked.problems),
        )
    newer = set(checked.schema_revisions) - known_revisions()
    if newer:
        raise IntegrityProblem(
            N_(
                "The database was written by a newer version of Anju (schema {revision}); upgrade Anju first."
            ),
            code="schema_too_new",
            revision=", ".join(sorted(newer)),
        )
    if not yes:
        click.confirm(_("Replace the database at {path}?").format(path=site.home.db_path), abort=True)
    site.home.ensure_dirs()
    bar, progress = _progress_bar(_("Restoring"))
    with bar:
        restore_backup(file, site.home.db_path, progress=progress, keep_copy_dir=site.home.backups_dir)
    click.echo(_("Restored from {path}.").format(path=file))


# ---------------------------------------------------------------- apps


@main.command()
@click.pass_obj
def console(site: Site) -> None:
    """Open the back-office terminal app."""
    from console.app import run_console
    from core.clock import SystemClock

    run_console(site.home, site.database(), SystemClock())


def _add_area_commands() -> None:
    import importlib

    from console.commands import COMMAND_MODULES

    for name in COMMAND_MODULES:
        main.add_command(importlib.import_module(f"console.commands.{name}").group)


_add_area_commands()
