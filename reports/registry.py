"""The catalogue of reports: each has a name, a title (msgid), the parameters it needs, a `collect(ctx,
params)` that calls core read services, and is rendered to PDF or Excel by `render`.

Reports read through core services only (no SQL here). Who may produce a report is decided here, for every
caller (CLI, desktop, console): `reports.view` to print reports at all, and the report's own `permission` (the
view permission of the area whose figures it shows). `collect` then runs with the caller's context, so the
services' own permissions still apply underneath.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from core.context import Actor, Context
from core.errors import NotFound, ValidationError
from core.i18n import N_, gettext
from reports.model import ReportData
from reports.period import Period, month_of

FORMATS = ("pdf", "xlsx")
REPORTS_PERMISSION = "reports.view"  # printing and exporting reports at all
PARAM_NAMES = ("book", "community", "account")
# Modules that register built-in reports when imported; optional ones depend on business packages that may
# not be installed at a site (a missing one just leaves its reports out).
BUILTIN_MODULES = ("reports.ledger",)
OPTIONAL_MODULES = ("reports.property", "reports.payments", "reports.notices", "reports.ops")


@dataclass(frozen=True)
class ReportParams:
    """What the user chose: the period, and the book / community / account the report needs."""

    period: Period
    book: str | None = None
    community: str | None = None
    account: str | None = None
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportDef:
    name: str
    title: str  # msgid
    collect: Callable[[Context, ReportParams], ReportData]
    # The view permission of the area whose figures the report shows (needed on top of reports.view).
    permission: str
    requires: tuple[str, ...] = ()  # of PARAM_NAMES


_REGISTRY: dict[str, ReportDef] = {}
_loaded = {"done": False}


def register(defn: ReportDef) -> ReportDef:
    if defn.name in _REGISTRY and _REGISTRY[defn.name] is not defn:
        raise ValueError(f"report {defn.name!r} is registered twice")
    if not set(defn.requires) <= set(PARAM_NAMES):
        raise ValueError(f"report {defn.name!r}: unknown parameters {defn.requires}")
    if not defn.permission or defn.permission == REPORTS_PERMISSION:
        raise ValueError(f"report {defn.name!r} needs the permission of the area it reports on")
    _REGISTRY[defn.name] = defn
    return defn


def _load_builtins() -> None:
    if _loaded["done"]:
        return
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    for module in OPTIONAL_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if not (err.name or "").startswith(("reports.", "core.")):
                raise
    _loaded["done"] = True


def all_reports() -> list[ReportDef]:
    _load_builtins()
    return sorted(_REGISTRY.values(), key=lambda d: d.name)


def get(name: str) -> ReportDef:
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise NotFound(N_("There is no report named {name}."), name=name) from None


def may_run(actor: Actor, defn: ReportDef) -> bool:
    """Whether `actor` may produce report `defn`: reports.view and the report's own permission."""
    return actor.can(REPORTS_PERMISSION) and actor.can(defn.permission)


def runnable(actor: Actor) -> list[ReportDef]:
    """The registered reports `actor` may produce, by name."""
    return [d for d in all_reports() if may_run(actor, d)]


def listing(lang: str | None = None, actor: Actor | None = None) -> list[dict[str, str]]:
    """[{"name", "title"}] for `anju report list --json` and the apps' report menus: the reports `actor` may
    produce (every report when no actor is given)."""
    shown = all_reports() if actor is None else runnable(actor)
    return [{"name": d.name, "title": listing_title(d, lang)} for d in shown]


def listing_title(defn: ReportDef, lang: str | None = None) -> str:
    return gettext(defn.title, lang)


def default_params(ctx: Context, **kw: object) -> ReportParams:
    """Parameters for the current business month unless a period is given."""
    from core.clock import today

    period = kw.pop("period", None) or month_of(today(ctx.clock))
    return ReportParams(period=period, **kw)  # type: ignore[arg-type]


def collect(ctx: Context, name: str, params: ReportParams) -> ReportData:
    """Gather the report's data and stamp it with the site, the time and who printed it."""
    defn = get(name)
    ctx.require(REPORTS_PERMISSION)
    ctx.require(defn.permission)
    for needed in defn.requires:
        if not getattr(params, needed):
            raise ValidationError(
                N_("The report {name} needs --{param}."), field=needed, name=name, param=needed
            )
    data = defn.collect(ctx, params)
    data.site_name = ctx.site.name
    data.printed_at = ctx.clock.now()
    data.printed_by = ctx.actor.display_name or ctx.actor.username
    return data


def render_data(data: ReportData, fmt: str, lang: str | None = None) -> bytes:
    if fmt == "pdf":
        from reports.pdf import render_pdf

        return render_pdf(data, lang)
    if fmt == "xlsx":
        from reports.xlsx import render_xlsx

        return render_xlsx(data, lang)
    raise ValidationError(N_("The format must be pdf or xlsx."), field="format")


def render(
    ctx: Context,
    name: str,
    params: ReportParams,
    fmt: str,
    out: Path | BinaryIO | None = None,
    lang: str | None = None,
) -> bytes:
    """Collect and render report `name` as `fmt`; written to `out` when given. Returns the bytes."""
    if fmt not in FORMATS:
        raise ValidationError(N_("The format must be pdf or xlsx."), field="format")
    data = collect(ctx, name, params)
    content = render_data(data, fmt, lang)
    if isinstance(out, Path):
        out.write_bytes(content)
    elif out is not None:
        out.write(content)
    return content
