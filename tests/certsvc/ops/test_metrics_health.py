"""/metrics in Prometheus text format and /healthz over database, blob store and key backend."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def _metrics(service) -> dict[str, float]:
    r = service.client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out: dict[str, float] = {}
    for fam in text_string_to_metric_families(r.text):
        for sample in fam.samples:
            key = sample.name + "".join(f"|{k}={v}" for k, v in sorted(sample.labels.items()) if k != "le")
            out[key] = out.get(key, 0) + sample.value if sample.name.endswith("_bucket") else sample.value
    return out


def test_issuance_and_verification_are_counted(service, issue_food) -> None:
    before = _metrics(service)
    lic = issue_food()
    pdf = service.client.get(f"/api/v1/licences/{lic['id']}/pdf", headers=service.health.auth).content
    service.client.post("/api/v1/verify", files={"file": ("x.pdf", pdf, "application/pdf")})
    service.client.get("/api/v1/licences/nope", headers=service.health.auth)
    after = _metrics(service)
    key = "certsvc_issuances_total|kind=licence"
    assert after[key] == before.get(key, 0) + 1
    vkey = "certsvc_verifications_total|kind=pdf|verdict=genuine"
    assert after[vkey] == before.get(vkey, 0) + 1
    assert after["certsvc_errors_total|status=4xx"] > before.get("certsvc_errors_total|status=4xx", 0)
    assert any(k.startswith("certsvc_request_seconds_count|method=POST|route=/api/v1/licences") for k in after)


def test_request_latency_uses_route_templates_not_tokens(service, issue_food) -> None:
    lic = issue_food()
    service.client.get(lic["verify_url"])
    keys = _metrics(service)
    assert any("route=/v/{token}" in k for k in keys)
    assert not any(lic["verify_url"].rsplit("/", 1)[1] in k for k in keys)


def test_healthz_checks_every_part(service) -> None:
    r = service.client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "blob_store": "ok", "key_backend": "ok"}
