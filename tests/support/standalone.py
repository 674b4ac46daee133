"""A whole service on settings of its own (HSM keys, S3 blobs, a restored data directory), with
one department and one licence type, for the operations tests. The environment is restored after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from certsvc.app import create_app
from certsvc.context import Context
from certsvc.db.session import session_scope
from certsvc.departments.registry import add_department
from tests.support.data import FOOD_LICENCE_TYPE, food_licence_body, random_uscc
from tests.support.pdfcheck import signature_status
from tests.support.service import make_settings, restored_environment

__all__ = ["Standalone", "restored_environment", "standalone_service"]


@dataclass
class Standalone:
    ctx: Context
    client: TestClient
    auth: dict[str, str]
    department_name: str

    def issue(self, **over: object) -> dict:
        r = self.client.post("/api/v1/licences", headers=self.auth, json=food_licence_body(**over))
        assert r.status_code == 201, r.text
        return r.json()

    def pdf(self, licence: dict) -> bytes:
        r = self.client.get(f"/api/v1/licences/{licence['id']}/pdf", headers=self.auth)
        assert r.status_code == 200, r.text
        return r.content

    def assert_valid_seal(self, pdf: bytes) -> None:
        """pyHanko, trusting only this service's root: intact, valid, trusted, by the department."""
        _sig, status = signature_status(self.ctx, pdf)
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert status.bottom_line
        assert status.signing_cert.subject.native["common_name"] == self.department_name


@contextmanager
def standalone_service(data_dir: Path, *, setup: bool = True, **env: str) -> Iterator[Standalone]:
    """Build the app on ``data_dir`` with extra ``CERTSVC_*`` variables. With ``setup``, create
    the root CA, a department (its API key in ``auth``) and the food licence type."""
    with restored_environment():
        settings = make_settings(data_dir, **env)
        app = create_app(settings)
        ctx: Context = app.state.ctx
        name = "深圳市卫生健康委员会"
        auth: dict[str, str] = {}
        with TestClient(app) as client:
            if setup:
                with session_scope(ctx.engine) as s:
                    ctx.keyring.ensure_root(s)
                with session_scope(ctx.engine) as s:
                    new = add_department(s, ctx.keyring, name=name, uscc=random_uscc("11440300"), code="SZWJ")
                    auth = {"Authorization": f"Bearer {new.api_key}"}
                r = client.post("/api/v1/licence-types", headers=auth, json=FOOD_LICENCE_TYPE)
                assert r.status_code == 201, r.text
            yield Standalone(ctx, client, auth, name)
        ctx.engine.dispose()
