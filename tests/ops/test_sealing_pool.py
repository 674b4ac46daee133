"""Sealing in a pool of worker processes gives the same, fully verifiable licences."""

from __future__ import annotations

from tests.conftest import food_licence_body
from tests.standalone import standalone_service


def test_batch_sealed_in_worker_processes_verifies(tmp_path) -> None:
    with standalone_service(tmp_path, CERTSVC_SIGN_WORKERS="2") as svc:
        assert svc.ctx.sealer.workers == 2
        r = svc.client.post(
            "/api/v1/licences:batch", headers=svc.auth, json={"items": [food_licence_body() for _ in range(6)]}
        )
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert all(x["ok"] for x in results)
        assert len({x["number"] for x in results}) == 6
        for lic in results[:3]:
            pdf = svc.pdf(lic)
            svc.assert_valid_seal(pdf)
            v = svc.client.post("/api/v1/verify", files={"file": ("x.pdf", pdf, "application/pdf")}).json()
            assert v["verdict"] == "genuine"
