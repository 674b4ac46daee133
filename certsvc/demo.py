"""Demo data: a market regulator, a health department, enterprises, business licences, permits."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from certsvc.context import Context
from certsvc.db.models import Department
from certsvc.db.session import session_scope
from certsvc.departments.registry import add_department, create_licence_type
from certsvc.enterprises.holders import holder_licences
from certsvc.identifiers import make_uscc
from certsvc.licences import issuance as svc
from certsvc.licences.rules import HolderKind

MARKET = ("深圳市市场监督管理局", make_uscc("11440300", "MB2C9204"), "SZSJ")
HEALTH = ("深圳市卫生健康委员会", make_uscc("11440300", "MB2C9305"), "SZWJ")
# The food business licence (食品经营许可证) of the health department, as POST /licence-types takes it;
# the tests and the benchmark define the same type.
FOOD_LICENCE_TYPE: dict[str, Any] = {
    "code": "SPJY",
    "name": "食品经营许可证",
    "fields": [
        {"name": "经营场所", "required": True},
        {"name": "主体业态", "required": True},
        {"name": "经营项目", "required": False},
        {"name": "负责人", "required": False},
    ],
    "validity_days": 1825,
    "reform_mode": "commitment",
    "commitment": {
        "text": (
            "本单位承诺：已知悉食品经营许可的条件和要求；经营场所、设施设备、食品安全管理制度和人员符合"
            "《中华人民共和国食品安全法》及食品经营许可审查通则的规定；所填报信息和提交材料真实有效。"
            "如有不实，愿承担撤销许可等法律责任。"
        ),
        "conditions_due_days": 30,
        "on_overdue": "flag",
    },
}
ENTERPRISES: list[tuple[str, str, HolderKind, str, str]] = [
    ("深圳市鹏城餐饮管理有限公司", make_uscc("91440300", "MA5G0A1B"), "enterprise", "有限责任公司", "张伟"),
    ("深圳市南山区王䶮堃小吃店", make_uscc("92440300", "MA5G0C2D"), "individual", "个体工商户", "王䶮堃"),
]


def _already_loaded(ctx: Context, s: Session) -> str:
    base = ctx.settings.public_base_url
    lines = ["certsvc demo data (already loaded; the API keys were printed when it was first created)", ""]
    for name, uscc, *_rest in ENTERPRISES:
        lines.append(f"{name} ({uscc})")
        for lic, ver, lt, _dept in holder_licences(s, uscc):
            lines.append(f"  {lt.name} {lic.number}: {base}/v/{ver.qr_payload}")
        lines += [f"  一码展示 all licences: {base}/e/{uscc}", ""]
    lines.append(f"API docs: {base}/docs · enterprise portal: {base}/portal")
    return "\n".join(lines)


async def load_demo(ctx: Context) -> str:
    """Create the demo data once; print where to look and which keys to use."""
    with session_scope(ctx.engine) as s:
        if s.exec(select(Department).where(Department.code == MARKET[2])).first():
            return _already_loaded(ctx, s)
        market = add_department(s, ctx.keyring, name=MARKET[0], uscc=MARKET[1], code=MARKET[2], registrar=True)
        health = add_department(s, ctx.keyring, name=HEALTH[0], uscc=HEALTH[1], code=HEALTH[2])
        create_licence_type(s, health.department, **FOOD_LICENCE_TYPE)
    lines = ["certsvc demo data", ""]
    base = ctx.settings.public_base_url
    for name, uscc, kind, kind_name, person in ENTERPRISES:
        bl = await svc.issue(
            ctx,
            market.department,
            svc.IssueRequest(
                licence_type="YYZZ",
                holder_uscc=uscc,
                holder_name=name,
                holder_kind=kind,
                fields={
                    "类型": kind_name,
                    "法定代表人" if kind == "enterprise" else "经营者": person,
                    "经营范围": "餐饮服务；食品销售",
                    "注册资本": "人民币100万元" if kind == "enterprise" else None,
                    "住所": "深圳市南山区粤海街道科技园路1号",
                }
                if kind == "enterprise"
                else {"类型": kind_name, "经营范围": "小吃服务", "住所": "深圳市南山区南头街道"},
            ),
        )
        food = await svc.issue(
            ctx,
            health.department,
            svc.IssueRequest(
                licence_type="SPJY",
                holder_uscc=uscc,
                holder_name=name,
                holder_kind=kind,
                fields={
                    "经营场所": "深圳市南山区科技园路1号",
                    "主体业态": "餐饮服务经营者",
                    "经营项目": "热食类食品制售",
                    "负责人": person,
                },
            ),
        )
        lines += [
            f"{name} ({uscc})",
            f"  营业执照 business licence:  {bl.verify_url}",
            f"  食品经营许可证 food licence: {food.verify_url}",
            f"  一码展示 all licences:       {base}/e/{uscc}",
            f"  enterprise activation code:  {bl.activation_code}",
            "",
        ]
    lines += [
        f"{MARKET[0]} ({MARKET[2]}) API key: {market.api_key}",
        f"{HEALTH[0]} ({HEALTH[2]}) API key: {health.api_key}",
        f"API docs: {base}/docs · enterprise portal: {base}/portal",
    ]
    return "\n".join(lines)
