"""`anju payments …`, `anju hub serve`, `anju channel-sim serve` as an operator runs them (subprocesses)."""

from __future__ import annotations

import json

import pytest

from tests.test_cli import anju


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    home = tmp_path_factory.mktemp("paycli") / "site"
    pw = home.parent / "pw.txt"
    pw.write_text("Admin2026pw\n")
    assert anju(home, "init", "--site-code", "PC01", "--admin-password-file", str(pw)).returncode == 0
    return home


def test_apps_add_and_list(site):
    r = anju(
        site, "payments", "apps", "add", "外部商城", "--notify-url", "https://shop.example/notify", "--json"
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (
        set(out) == {"app_id", "app_secret"}
        and out["app_id"].startswith("app_")
        and len(out["app_secret"]) >= 40
    )
    listed = json.loads(anju(site, "payments", "apps", "list", "--json").stdout)
    assert [a["app_id"] for a in listed] == [out["app_id"]]
    assert "app_secret" not in listed[0] and "secret" not in listed[0]
    bad = anju(site, "payments", "apps", "add", "x", "--notify-url", "ftp://nope")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


def test_jobs_run_once_and_shift(site):
    r = anju(site, "payments", "jobs", "run-once", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["expired_closed"] == 0
    assert anju(site, "payments", "shift", "open", "--float", "200").returncode == 0
    r = anju(site, "payments", "shift", "close", "--count", "10000=1", "--json")
    assert r.returncode != 0 and "reason" in r.stderr  # short ¥100 without a reason
    r = anju(site, "payments", "shift", "close", "--count", "10000=1", "--reason", "点错", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["difference_fen"] == -10000


def test_server_commands_exist(site):
    assert "serve" in anju(site, "hub", "--help").stdout
    assert "--port" in anju(site, "hub", "serve", "--help").stdout
    assert "--port" in anju(site, "channel-sim", "serve", "--help").stdout
