"""Snapshot-style checks of the key screens at fixed terminal sizes (the rendered text, not pixels): nothing cut
off that matters, nothing raising; and the pieces that keep the app fast — the quick catalogue reader gives
exactly babel's table, the login screen loads no work screen, and long jobs run in a child process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from console.widgets import jobs
from core import i18n
from core.context import Actor
from core.listing import ListQuery
from tests.console.test_back_office import PASSWORD, _fast_hashing, make_app, run, screen_text  # noqa: F401
from tests.console.test_console_app import log_in, settle
from tests.console.test_hub_screens import hub, open_place  # noqa: F401 - the hub fixture

SCREENS: dict[str, list[str]] = {
    "recon": [
        "Differences",
        "Reconciliation runs",
        "Statement day",
        "Missing at channel",
        "T01PB",
        "Row 1 of 6",
    ],
    "settlement": ["Batch no.", "Gross", "Settlement batch", "No rows."],
    "notify_log": ["Notice", "Status", "8 attempts", "pay:T01P0000009:SUCCESS", "HTTP 500"],
    "routing": ["Channels", "Routing rules", "Fee rate", "0.006", "WeChat Pay"],
    "apps": ["App id", "Callback address", "property"],
    "sync": ["Sync with the central hub", "Events waiting", "not enrolled"],
}


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_hub_screens_at_fixed_sizes(hub, size):  # noqa: F811
    async def scenario() -> None:
        app = make_app(hub)
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            for place, labels in SCREENS.items():
                await open_place(app, pilot, place)
                shown = screen_text(app)
                for label in labels:
                    assert label in shown, (place, size, label)
                assert "Traceback" not in shown
                # The footer with this screen's keys is on the last line, whatever the size.
                last = shown.rstrip().splitlines()[-1]
                assert "^q" in last, (place, size, last)

    run(scenario())


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_dashboard_first_panels_fit(hub, size):  # noqa: F811
    async def scenario() -> None:
        app = make_app(hub)
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            shown = screen_text(app)
            for label in ("Alerts", "6 reconciliation differences are unresolved.", "Pending approvals"):
                assert label in shown, (size, label)

    run(scenario())


# ---------------------------------------------------------------------------------------------- speed pieces


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_quick_catalogue_reader_equals_babel(lang):
    from babel.messages.pofile import read_po

    path = i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as fh:
        cat = read_po(fh, locale=lang)
    expected = {}
    for msg in cat:
        if msg.id and msg.string and not msg.fuzzy:
            key = msg.id if isinstance(msg.id, str) else msg.id[0]
            value = msg.string if isinstance(msg.string, str) else msg.string[0]
            if value:
                expected[key] = value
    assert i18n.read_po_table(path) == expected


def test_quick_reader_handles_escapes_plurals_fuzzy_and_refuses_the_unknown(tmp_path):
    po = tmp_path / "x.po"
    po.write_text(
        "\n".join(
            [
                '#, fuzzy\nmsgid ""\nmsgstr ""\n"Language: zh_CN\\n"\n',
                'msgid "Say \\"hi\\"\\n"\nmsgstr "说\\"你好\\"\\n"\n',
                'msgid ""\n"long "\n"text"\nmsgstr ""\n"长"\n"文"\n',
                '#, fuzzy\nmsgid "Guess"\nmsgstr "猜"\n',
                'msgid "Untranslated"\nmsgstr ""\n',
                'msgid "{n} row"\nmsgid_plural "{n} rows"\nmsgstr[0] "{n} 行"\n',
                '#~ msgid "Old"\n#~ msgstr "旧"\n',
            ]
        ),
        encoding="utf-8",
    )
    assert i18n.read_po_table(po) == {'Say "hi"\n': '说"你好"\n', "long text": "长文", "{n} row": "{n} 行"}
    po.write_text('msgid "a"\nmsgstr "b"\nmsgctxt "menu"\n', encoding="utf-8")
    with pytest.raises(ValueError):
        i18n.read_po_table(po)
    po.write_text('msgid "a\\q"\nmsgstr "b"\n', encoding="utf-8")
    with pytest.raises(KeyError):
        i18n.read_po_table(po)


def test_login_screen_loads_no_work_screen_nor_heavy_library():
    code = (
        "import sys, asyncio\n"
        "from console.app import AnjuApp\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('openpyxl', 'reportlab', 'babel', 'httpx')\n"
        "         or m.startswith(('console.screens.home', 'console.screens.payments', 'core.payments',\n"
        "                          'core.property', 'core.ledger', 'console.widgets.paged_table'))]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


# ---------------------------------------------------------------------------------------------- jobs


def test_a_job_runs_in_a_child_process_with_the_same_user_and_progress(hub):  # noqa: F811
    spec = jobs.context_spec(hub)
    assert spec is not None
    seen: list[tuple[int, int]] = []
    path = hub.home.root / "exports" / "diffs.xlsx"
    rows = jobs.run_in_process(
        spec,
        "console.widgets.export:export_source",
        (
            "core.payments.console_reads",
            "recon.differences",
            ListQuery(filters={"kind": "status_mismatch"}),
            str(path),
        ),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert rows == 2 and path.exists()
    assert seen[0] == (0, 2) and seen[-1] == (2, 2)


def test_a_refusal_in_the_child_comes_back_as_its_sentence(hub):  # noqa: F811
    nobody = hub.as_actor(Actor(user_id=None, username="nobody", permissions=frozenset()))
    spec = jobs.context_spec(nobody)
    with pytest.raises(jobs.JobRefused) as refused:
        jobs.run_in_process(spec, jobs.target_of(check_audit_target()))
    assert "permission" in refused.value.message.lower()
    with pytest.raises(jobs.JobFailed):
        jobs.run_in_process(spec, "console.widgets.export:no_such_function")
    with pytest.raises(jobs.JobCancelled):
        jobs.run_in_process(spec, jobs.target_of(check_audit_target()), cancelled=lambda: True)
    with pytest.raises(ValueError):
        jobs.target_of(lambda ctx: None)


def check_audit_target():
    from core.overview import check_audit

    return check_audit
