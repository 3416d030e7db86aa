"""The `anju` command line as an operator uses it: real subprocesses on a temporary site directory."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def anju(home: Path, *args: str, lang: str = "en", stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANJU_LANG": lang, "ANJU_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("cli") / "site"
    pw = home.parent / "pw.txt"
    pw.write_text("Admin2026pw\n")
    r = anju(home, "init", "--site-code", "BJ01", "--site-name", "测试", "--admin-password-file", str(pw))
    assert r.returncode == 0, r.stderr
    return home


def test_init_refuses_to_overwrite(site):
    pw = site.parent / "pw.txt"
    r = anju(site, "init", "--admin-password-file", str(pw))
    assert r.returncode != 0
    assert "already exists" in r.stderr
    assert "Traceback" not in r.stderr


def test_init_rejects_weak_password_and_leaves_nothing(tmp_path):
    pw = tmp_path / "pw.txt"
    pw.write_text("short\n")
    r = anju(tmp_path / "s", "init", "--admin-password-file", str(pw))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert not (tmp_path / "s" / "anju.db").exists()


def test_errors_are_one_line_in_chinese_by_default(tmp_path):
    r = anju(tmp_path / "nothing", "users", "list", lang="zh_CN")
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.stderr)


def test_users_and_roles(site, tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("Cashier2026\n")
    r = anju(
        site, "users", "add", "wang", "--role", "cashier", "--display-name", "王", "--password-file", str(pw)
    )
    assert r.returncode == 0, r.stderr
    r = anju(site, "users", "list", "--json")
    users = {u["username"]: u for u in json.loads(r.stdout)}
    assert users["wang"]["roles"] == ["cashier"]
    assert anju(site, "users", "disable", "wang").returncode == 0
    users = {u["username"]: u for u in json.loads(anju(site, "users", "list", "--json").stdout)}
    assert users["wang"]["status"] == "disabled"
    r = anju(site, "users", "add", "li", "--role", "nosuchrole", "--password-file", str(pw))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    r = anju(site, "roles", "list", "--json")
    codes = {row["code"] for row in json.loads(r.stdout)}
    assert {"admin", "cashier", "property", "finance", "approver", "auditor"} <= codes


def test_verify_commands_json_shape(site):
    for what in ("ledger", "audit"):
        r = anju(site, what, "verify", "--json")
        assert r.returncode == 0, r.stdout + r.stderr
        data = json.loads(r.stdout)
        assert data["ok"] is True and isinstance(data["checked"], int) and data["problems"] == []


def test_audit_verify_reports_tampering_with_exit_1(tmp_path, site):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(site, copy)
    con = sqlite3.connect(copy / "anju.db")
    con.execute("UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 1")
    con.commit()
    con.close()
    r = anju(copy, "audit", "verify", "--json")
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert data["ok"] is False and data["problems"][0]["seq"] == 1
    r = anju(copy, "audit", "verify")
    assert r.returncode == 1 and "altered" in r.stdout


def test_backup_restore_and_corrupt_backup_refused(site, tmp_path):
    backup = tmp_path / "b.db"
    r = anju(site, "backup", "create", str(backup))
    assert r.returncode == 0, r.stderr
    assert anju(site, "db", "check").returncode == 0
    corrupt = tmp_path / "corrupt.db"
    data = bytearray(backup.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096] = os.urandom(4096)
    corrupt.write_bytes(bytes(data))
    r = anju(site, "backup", "restore", str(corrupt), "--yes")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database" * 100)
    r = anju(site, "backup", "restore", str(garbage), "--yes")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    r = anju(site, "backup", "restore", str(backup), "--yes")
    assert r.returncode == 0, r.stderr
    assert anju(site, "ledger", "verify").returncode == 0


def test_refuses_database_from_newer_version(tmp_path, site):
    import shutil

    copy = tmp_path / "newer"
    shutil.copytree(site, copy)
    con = sqlite3.connect(copy / "anju.db")
    con.execute("INSERT INTO alembic_version (version_num) VALUES ('ffff_from_the_future')")
    con.commit()
    con.close()
    for args in (("users", "list"), ("ledger", "verify"), ("db", "upgrade")):
        r = anju(copy, *args)
        assert r.returncode != 0
        assert "newer version" in r.stderr


def test_demo_is_idempotent(tmp_path):
    home = tmp_path / "demo"
    r = anju(home, "demo", "--size", "small")
    assert r.returncode == 0, r.stderr
    r2 = anju(home, "demo", "--size", "small")
    assert r2.returncode == 0 and "already" in r2.stdout
    assert anju(home, "ledger", "verify").returncode == 0
    assert anju(home, "audit", "verify").returncode == 0
