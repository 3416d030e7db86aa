"""Shared fixtures: a fake clock, a migrated database on SQLite and (where available) PostgreSQL, contexts."""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

os.environ.setdefault("ANJU_ARGON2_TEST", "1")  # cheap password hashing in tests; set before core imports

import pytest
from sqlalchemy import create_engine, text

from core.clock import FakeClock
from core.context import Actor, Context
from core.db.engine import Database
from core.i18n import set_language
from core.site import SiteHome
from tests.pg import PgCluster, find_bin_dir


@pytest.fixture(autouse=True)
def _english_by_default():
    """Tests read messages in English unless they choose a language."""
    set_language("en")
    yield
    set_language("en")


def build_schema(db: Database) -> None:
    from core.db.migrate import upgrade

    upgrade(db.engine)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    db = Database(f"sqlite:///{path}")
    build_schema(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_cluster():
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin): hub tests skipped"
        )
    cluster = PgCluster(bin_dir)
    cluster.start()
    admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE anju_template"))
    tpl = Database(cluster.url("anju_template"))
    build_schema(tpl)
    tpl.dispose()
    cluster.admin = admin
    yield cluster
    admin.dispose()
    cluster.stop()


_pg_names = itertools.count(1)


def _make_db(kind: str, request, tmp_path: Path) -> Database:
    if kind == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "anju.db"
        shutil.copy(template, path)
        return Database(f"sqlite:///{path}")
    cluster = request.getfixturevalue("pg_cluster")
    name = f"t_{next(_pg_names)}_{id(request) % 100000}"
    with cluster.admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE anju_template'))
    return Database(cluster.url(name))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A migrated database; every test using it runs on SQLite and on PostgreSQL."""
    database = _make_db(request.param, request, tmp_path)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(request, tmp_path):
    database = _make_db("sqlite", request, tmp_path)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_site_context(db: Database, clock: FakeClock, home_dir: Path, code: str = "T01") -> Context:
    """A context for a freshly created site: identity row and keys made, acting as `system`."""
    from core.bootstrap import create_site_identity

    home = SiteHome(home_dir)
    home.ensure_dirs()
    ctx = Context(db=db, actor=Actor.system(), clock=clock, home=home)
    create_site_identity(ctx, code=code, name="测试站点")
    return ctx


@pytest.fixture
def ctx(db, clock, tmp_path) -> Context:
    return make_site_context(db, clock, tmp_path / "home")


@pytest.fixture
def sqlite_ctx(sqlite_db, clock, tmp_path) -> Context:
    return make_site_context(sqlite_db, clock, tmp_path / "home")
