"""The service under test: settings on a temp directory, the app behind a test client, the
departments every service test starts with, and activated enterprises.

Set ``CERTSVC_TEST_DATABASE_URL`` to a PostgreSQL server URL (``postgresql+psycopg://…/postgres``)
to run the same tests on PostgreSQL: each service gets a throw-away database of its own.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from certsvc.app import create_app
from certsvc.context import Context
from certsvc.core.config import Settings, load_settings, reset_settings
from certsvc.db.session import session_scope
from certsvc.departments.registry import add_department
from tests.support.data import FOOD_LICENCE_TYPE, business_licence_body, food_licence_body, random_uscc


def database_url(tmp: Path) -> str:
    """SQLite in ``tmp``, or a new database on the PostgreSQL server of ``CERTSVC_TEST_DATABASE_URL``."""
    server = os.environ.get("CERTSVC_TEST_DATABASE_URL")
    if not server:
        return f"sqlite:///{tmp / 'certsvc.db'}"
    from sqlalchemy import create_engine, text

    name = f"certsvc_test_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"


def make_settings(tmp: Path, **env: str) -> Settings:
    """Point the ``CERTSVC_*`` environment at ``tmp`` (plus ``env``) and load the settings from it."""
    os.environ.update(
        {
            "CERTSVC_DATA_DIR": str(tmp),
            "CERTSVC_DATABASE_URL": database_url(tmp),
            "CERTSVC_PUBLIC_BASE_URL": "http://testserver",
            "CERTSVC_KEY_PASSPHRASE": "test-passphrase",
            # every request of a test client comes from one address; the limits are tested on their own
            "CERTSVC_UPLOADS_PER_CLIENT": "64",
            "CERTSVC_UPLOADS_PER_MINUTE": "100000",
            **env,
        }
    )
    reset_settings()
    return load_settings()


@contextmanager
def restored_environment() -> Iterator[None]:
    """Leave ``os.environ`` (and so the settings) as they were before."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()


@dataclass
class Dept:
    id: int
    name: str
    uscc: str
    code: str
    key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@dataclass
class Service:
    ctx: Context
    client: TestClient
    market: Dept
    health: Dept
    housing: Dept

    def add_department(self, name: str, code: str, registrar: bool = False) -> Dept:
        with session_scope(self.ctx.engine) as s:
            new = add_department(
                s, self.ctx.keyring, name=name, uscc=random_uscc("11440300"), code=code, registrar=registrar
            )
            d = new.department
            return Dept(d.id or 0, d.name, d.uscc, d.code, new.api_key)

    def issue_food(self, **over: object) -> dict:
        r = self.client.post("/api/v1/licences", headers=self.health.auth, json=food_licence_body(**over))
        assert r.status_code == 201, r.text
        return r.json()


def setup_departments(svc: Service) -> None:
    """A market regulator (registrar), a health and a housing department; the food licence type."""
    svc.market = svc.add_department("深圳市市场监督管理局", "SZSJ", registrar=True)
    svc.health = svc.add_department("深圳市卫生健康委员会", "SZWJ")
    svc.housing = svc.add_department("深圳市住房和建设局", "SZZJ")
    r = svc.client.post("/api/v1/licence-types", headers=svc.health.auth, json=FOOD_LICENCE_TYPE)
    assert r.status_code == 201, r.text


@contextmanager
def running_service(tmp: Path, **env: str) -> Iterator[Service]:
    """The app on ``tmp`` (and ``CERTSVC_*`` settings ``env``) behind a test client, with its root CA
    and the three departments. The environment is restored and the engine disposed after."""
    with restored_environment():
        app = create_app(make_settings(tmp, **env))
        ctx: Context = app.state.ctx
        with session_scope(ctx.engine) as s:
            ctx.keyring.ensure_root(s)
        with TestClient(app) as client:
            svc = Service(ctx, client, None, None, None)  # type: ignore[arg-type]
            setup_departments(svc)
            yield svc
        ctx.engine.dispose()


@dataclass
class Ent:
    uscc: str
    name: str
    token: str
    business_licence: dict
    food_licence: dict

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_enterprise(service: Service, name: str = "深圳市鹏城贸易有限公司") -> Ent:
    """An enterprise with a business licence and a food licence, activated."""
    uscc = random_uscc()
    bl = service.client.post("/api/v1/licences", headers=service.market.auth, json=business_licence_body(uscc, name))
    assert bl.status_code == 201, bl.text
    food = service.client.post("/api/v1/licences", headers=service.health.auth, json=food_licence_body(uscc, name))
    assert food.status_code == 201, food.text
    r = service.client.post(
        "/api/v1/enterprise/activate", json={"uscc": uscc, "activation_code": bl.json()["activation_code"]}
    )
    assert r.status_code == 200, r.text
    return Ent(uscc, name, r.json()["token"], bl.json(), food.json())
