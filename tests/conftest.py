"""Shared fixtures: a real service (database, keys, blobs in a temp dir) behind real HTTP calls.

Set ``CERTSVC_TEST_DATABASE_URL`` to a PostgreSQL server URL (``postgresql+psycopg://…/postgres``)
to run the same tests on PostgreSQL: a throw-away database is created for the session.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from certsvc.app import create_app
from certsvc.context import Context
from certsvc.core.config import Settings, load_settings, reset_settings
from certsvc.db.session import session_scope
from certsvc.demo import FOOD_LICENCE_TYPE
from certsvc.departments.registry import add_department
from certsvc.identifiers import make_uscc

ALNUM = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API leaves an event loop behind in the main thread."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def random_uscc(prefix: str = "91440300") -> str:
    body = "MA" + "".join(secrets.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(6))
    return make_uscc(prefix, body)


def _database_url(tmp: Path) -> tuple[str, str | None]:
    server = os.environ.get("CERTSVC_TEST_DATABASE_URL")
    if not server:
        return f"sqlite:///{tmp / 'certsvc.db'}", None
    from sqlalchemy import create_engine, text

    name = f"certsvc_test_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}", name


def make_settings(tmp: Path, **env: str) -> Settings:
    url, _ = _database_url(tmp)
    os.environ.update(
        {
            "CERTSVC_DATA_DIR": str(tmp),
            "CERTSVC_DATABASE_URL": url,
            "CERTSVC_PUBLIC_BASE_URL": "http://testserver",
            "CERTSVC_KEY_PASSPHRASE": "test-passphrase",
            **env,
        }
    )
    reset_settings()
    return load_settings()


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


def setup_departments(svc: Service) -> None:
    """A market regulator (registrar), a health and a housing department; the food licence type."""
    svc.market = svc.add_department("深圳市市场监督管理局", "SZSJ", registrar=True)
    svc.health = svc.add_department("深圳市卫生健康委员会", "SZWJ")
    svc.housing = svc.add_department("深圳市住房和建设局", "SZZJ")
    r = svc.client.post("/api/v1/licence-types", headers=svc.health.auth, json=FOOD_LICENCE_TYPE)
    assert r.status_code == 201, r.text


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("certsvc")
    settings = make_settings(tmp)
    app = create_app(settings)
    ctx: Context = app.state.ctx
    with session_scope(ctx.engine) as s:
        ctx.keyring.ensure_root(s)
    with TestClient(app) as client:
        svc = Service(ctx, client, None, None, None)  # type: ignore[arg-type]
        setup_departments(svc)
        yield svc


@pytest.fixture
def client(service: Service) -> TestClient:
    return service.client


def food_licence_body(uscc: str | None = None, name: str = "深圳市鹏城餐饮管理有限公司", **over: object) -> dict:
    body = {
        "licence_type": "SPJY",
        "holder_uscc": uscc or random_uscc(),
        "holder_name": name,
        "fields": {"经营场所": "深圳市南山区科技园路1号", "主体业态": "餐饮服务经营者", "经营项目": "热食类食品制售"},
    }
    body.update(over)
    return body


def business_licence_body(uscc: str | None = None, name: str = "深圳市鹏城科技有限公司", **over: object) -> dict:
    body = {
        "licence_type": "YYZZ",
        "holder_uscc": uscc or random_uscc(),
        "holder_name": name,
        "fields": {"类型": "有限责任公司", "法定代表人": "张伟", "经营范围": "软件开发"},
    }
    body.update(over)
    return body


@pytest.fixture
def issue_food(service: Service):
    def _issue(**over: object) -> dict:
        r = service.client.post("/api/v1/licences", headers=service.health.auth, json=food_licence_body(**over))
        assert r.status_code == 201, r.text
        return r.json()

    return _issue
