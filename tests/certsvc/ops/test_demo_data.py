"""`certsvc demo`: the catalogue holds one matter of each reform mode, each with its realistic department."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from tests.support.live import CLI, free_port, serve, server_env


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("demo")
    port = free_port()
    env = server_env(tmp, port)
    out = subprocess.run([*CLI, "demo", "--no-serve"], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    server = serve(env, port)
    try:
        yield f"http://127.0.0.1:{port}", out.stdout, env
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_demo_catalogue_has_one_matter_of_each_mode(demo) -> None:
    base, _out, _env = demo
    items = httpx.get(f"{base}/catalogue", headers={"Accept": "application/json"}).json()["items"]
    assert sorted(m["reform_mode"] for m in items) == ["abolished", "approval", "commitment", "filing"]


def test_demo_food_licence_belongs_to_the_market_regulator_public_places_to_health(demo) -> None:
    base, _out, _env = demo
    items = httpx.get(f"{base}/catalogue", headers={"Accept": "application/json"}).json()["items"]
    by_name = {m["name"]: m["department"] for m in items}
    assert by_name["食品经营许可证核发"] == "深圳市市场监督管理局"
    assert by_name["公共场所卫生许可证核发（告知承诺）"] == "深圳市卫生健康委员会"


def test_demo_enterprise_has_a_receipt_with_a_material_outstanding(demo) -> None:
    base, out, _env = demo
    code = next(line.split(":")[-1].strip() for line in out.splitlines() if "activation code" in line)
    from certsvc.demo import ENTERPRISES

    uscc = ENTERPRISES[0][1]
    token = httpx.post(f"{base}/api/v1/enterprise/activate", json={"uscc": uscc, "activation_code": code}).json()
    r = httpx.get(f"{base}/api/v1/enterprise/receipts", headers={"Authorization": f"Bearer {token['token']}"})
    [receipt] = r.json()["items"]
    assert receipt["materials_state"] == "pending" and receipt["outstanding"][0]["name"] == "卫生检测报告"


def test_demo_show_keys_prints_the_keys_again_and_they_work(demo) -> None:
    base, out, env = demo
    again = subprocess.run([*CLI, "demo", "--show-keys"], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    keys = [line.rsplit(" ", 1)[1] for line in again.stdout.splitlines() if "API key:" in line]
    assert len(keys) == 3 and all(key in out for key in keys)  # market, health, housing
    for key in keys:
        r = httpx.get(f"{base}/api/v1/licence-types", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200


def test_demo_permits_come_from_the_departments_that_issue_them(demo) -> None:
    """食品经营许可证 from the market regulator, 建筑施工企业安全生产许可证 from the housing and construction bureau."""
    from certsvc.demo import BUILDER, ENTERPRISES

    base, _out, _env = demo
    issuers = {}
    for _name, uscc, *_rest in ENTERPRISES:
        page = httpx.get(f"{base}/e/{uscc}", headers={"Accept": "application/json"}).json()
        issuers |= {v["licence_type_name"]: v["issuer"] for v in page["items"] if v["current"]}
        if uscc == BUILDER:
            assert "食品经营许可证" not in {v["licence_type_name"] for v in page["items"] if v["current"]}
    assert issuers == {
        "营业执照": "深圳市市场监督管理局",
        "食品经营许可证": "深圳市市场监督管理局",
        "建筑施工企业安全生产许可证": "深圳市住房和建设局",
    }
