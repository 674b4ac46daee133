"""Demo data as a Chinese official would recognise it: the market regulator (市场监督管理局) issues
business licences and food business licences, the health commission (卫生健康委员会) public-place
health licences, the housing and construction bureau (住房和建设局) construction work safety licences;
enterprises holding them, the catalogue of matters (one of each reform mode) and a receipt with a
material still missing (容缺)."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from certsvc.context import Context
from certsvc.core.clock import today
from certsvc.core.config import Settings, get_settings
from certsvc.core.files import create_private_file
from certsvc.db.models import Department
from certsvc.db.session import session_scope
from certsvc.departments.registry import add_department, create_licence_type
from certsvc.enterprises.holders import holder_licences
from certsvc.identifiers import make_uscc
from certsvc.licences import issuance as svc
from certsvc.licences.rules import HolderKind
from certsvc.matters.catalogue import create_matter
from certsvc.receipts.issuance import issue_receipt
from certsvc.schemas import MatterIn, MissingMaterial, ReceiptIn

MARKET = ("深圳市市场监督管理局", make_uscc("11440300", "MB2C9204"), "SZSJ")
HEALTH = ("深圳市卫生健康委员会", make_uscc("11440300", "MB2C9305"), "SZWJ")
HOUSING = ("深圳市住房和建设局", make_uscc("11440300", "MB2C9406"), "SZZJ")
# 建筑施工企业安全生产许可证, with the fields the certificate prints (《建筑施工企业安全生产许可证管理规定》)
HOUSING_TYPES: list[dict[str, Any]] = [
    {
        "code": "AQSC",
        "name": "建筑施工企业安全生产许可证",
        "fields": [
            {"name": "主要负责人", "required": True},
            {"name": "单位地址", "required": True},
            {"name": "经济类型", "required": True},
            {"name": "许可范围", "required": True},
        ],
        "validity_days": 1095,
        "reform_mode": "approval",
    },
]
# The food business licence (食品经营许可证) as POST /licence-types takes it: the tests and the benchmark
# define it under their health department; the demo, like the 证照分离 catalogue, under the market regulator.
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
# The demo's licence types: market regulation (食品经营许可 under 优化审批服务, 仅销售预包装食品 under 备案)
# and health (公共场所卫生许可 under 告知承诺; 饭馆、咖啡馆、酒吧、茶座 卫生许可 abolished).
MARKET_TYPES: list[dict[str, Any]] = [
    {**{k: v for k, v in FOOD_LICENCE_TYPE.items() if k != "commitment"}, "reform_mode": "approval"},
    {
        "code": "YBZBA",
        "name": "仅销售预包装食品备案凭证",
        "fields": [{"name": "经营场所", "required": True}, {"name": "经营项目", "required": False}],
        "validity_days": None,
        "reform_mode": "filing",
    },
]
COMMITMENT_TEXT = (
    "本单位承诺：经营场所符合《公共场所卫生管理条例》及其实施细则规定的卫生条件，从业人员持有效健康合格证明，"
    "卫生管理制度健全；自取得许可之日起六十日内提交卫生检测报告。如承诺不实，愿承担许可被撤销等法律责任。"
)
HEALTH_TYPES: list[dict[str, Any]] = [
    {
        "code": "GGWS",
        "name": "公共场所卫生许可证",
        "fields": [{"name": "经营场所", "required": True}, {"name": "许可项目", "required": True}],
        "validity_days": 1460,
        "reform_mode": "commitment",
        "commitment": {"text": COMMITMENT_TEXT, "conditions_due_days": 60, "on_overdue": "suspend"},
    },
    {
        "code": "CGWS",
        "name": "饭馆、咖啡馆、酒吧、茶座卫生许可证",
        "fields": [],
        "validity_days": None,
        "reform_mode": "abolished",
    },
]
MATTERS: list[tuple[str, dict[str, Any]]] = [  # (department code, POST /matters body)
    (
        "SZSJ",
        {
            "code": "SZSJ-SPJY-001",
            "name": "食品经营许可证核发",
            "legal_basis": "《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》",
            "reform_mode": "approval",
            "licence_type": "SPJY",
            "materials": [
                {"name": "营业执照", "licence_type": "SZSJ:YYZZ"},
                {"name": "食品经营许可申请书"},
                {"name": "主要设备设施布局、操作流程等文件"},
                {"name": "食品安全管理制度"},
            ],
            "supervision": "日常监督检查；“双随机、一公开”抽查；信用风险分类监管",
        },
    ),
    (
        "SZSJ",
        {
            "code": "SZSJ-YBZBA-001",
            "name": "仅销售预包装食品备案",
            "legal_basis": "《中华人民共和国食品安全法》第三十五条（2021年修正）",
            "reform_mode": "filing",
            "licence_type": "YBZBA",
            "materials": [{"name": "营业执照", "licence_type": "SZSJ:YYZZ"}, {"name": "备案信息采集表"}],
            "supervision": "备案后纳入日常监管；抽查发现不符合条件的，责令限期整改",
        },
    ),
    (
        "SZWJ",
        {
            "code": "SZWJ-GGWS-001",
            "name": "公共场所卫生许可证核发（告知承诺）",
            "legal_basis": "《公共场所卫生管理条例》第八条",
            "reform_mode": "commitment",
            "licence_type": "GGWS",
            "materials": [
                {"name": "营业执照", "licence_type": "SZSJ:YYZZ"},
                {"name": "公共场所卫生许可申请表"},
                {"name": "告知承诺书"},
            ],
            "supervision": "许可后六十日内现场核查；承诺不实的依法撤销许可并纳入信用记录",
        },
    ),
    (
        "SZWJ",
        {
            "code": "SZWJ-CGWS-001",
            "name": "饭馆、咖啡馆、酒吧、茶座公共场所卫生许可",
            "legal_basis": (
                "《国务院关于整合调整餐饮服务场所的公共场所卫生许可证和食品经营许可证的决定》（国发〔2016〕12号）"
            ),
            "reform_mode": "abolished",
            "licence_type": "CGWS",
            "materials": [],
            "supervision": "直接取消审批；卫生健康部门纳入“双随机、一公开”监管，依法查处违法行为",
        },
    ),
]
# (name, USCC, holder kind, 类型 as the business licence prints it, legal representative or operator, 经营范围)
ENTERPRISES: list[tuple[str, str, HolderKind, str, str, str]] = [
    (
        "深圳市鹏城餐饮管理有限公司",
        make_uscc("91440300", "MA5G0A1B"),
        "enterprise",
        "有限责任公司",
        "张伟",
        "餐饮服务；食品销售；餐饮管理",
    ),
    ("深圳市南山区王䶮堃小吃店", make_uscc("92440300", "MA5G0C2D"), "individual", "个体工商户", "王䶮堃", "小吃服务"),
    (
        "深圳市安居建设工程有限公司",
        make_uscc("91440300", "MA5G0E3F"),
        "enterprise",
        "有限责任公司",
        "李建国",
        "房屋建筑工程施工总承包；市政公用工程施工总承包；建筑装饰装修工程",
    ),
]
BUILDER = ENTERPRISES[2][1]  # the construction company: it holds a safety licence, not a food licence


def _already_loaded(ctx: Context, s: Session) -> str:
    base = ctx.settings.public_base_url
    lines = [
        f"certsvc demo data (already loaded; its API keys and activation codes: certsvc demo --show-keys, "
        f"from {demo_keys_path(ctx.settings)})",
        "",
    ]
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
        housing = add_department(s, ctx.keyring, name=HOUSING[0], uscc=HOUSING[1], code=HOUSING[2])
        for body in HOUSING_TYPES:
            create_licence_type(s, housing.department, **body)
        for body in MARKET_TYPES:
            create_licence_type(s, market.department, **body)
        for body in HEALTH_TYPES:
            create_licence_type(s, health.department, **body)
        owners = {MARKET[2]: market.department, HEALTH[2]: health.department}
        for dept_code, matter in MATTERS:
            create_matter(s, owners[dept_code], MatterIn(**matter))
    lines = ["certsvc demo data", ""]
    base = ctx.settings.public_base_url
    for name, uscc, kind, kind_name, person, scope in ENTERPRISES:
        fields: dict[str, Any] = {"类型": kind_name, "经营范围": scope}
        if kind == "enterprise":
            fields |= {"法定代表人": person, "注册资本": "人民币1000万元", "住所": "深圳市南山区粤海街道科技园路1号"}
        else:
            fields |= {"住所": "深圳市南山区南头街道南头古城东街12号"}  # the operator's name is the holder's
        bl = await svc.issue(
            ctx,
            market.department,
            svc.IssueRequest(licence_type="YYZZ", holder_uscc=uscc, holder_name=name, holder_kind=kind, fields=fields),
        )
        if uscc == BUILDER:
            permit_words = "建筑施工企业安全生产许可证 safety licence"
            permit = await svc.issue(
                ctx,
                housing.department,
                svc.IssueRequest(
                    licence_type="AQSC",
                    holder_uscc=uscc,
                    holder_name=name,
                    holder_kind=kind,
                    fields={
                        "主要负责人": person,
                        "单位地址": "深圳市福田区福中三路2008号",
                        "经济类型": "有限责任公司",
                        "许可范围": "建筑施工",
                    },
                ),
            )
        else:
            permit_words = "食品经营许可证 food licence"
            permit = await svc.issue(
                ctx,
                market.department,
                svc.IssueRequest(
                    licence_type="SPJY",
                    holder_uscc=uscc,
                    holder_name=name,
                    holder_kind=kind,
                    fields={
                        "经营场所": "深圳市南山区科技园路1号"
                        if kind == "enterprise"
                        else "深圳市南山区南头街道南头古城东街12号",
                        "主体业态": "餐饮服务经营者" if kind == "enterprise" else "小餐饮",
                        "经营项目": "热食类食品制售" if kind == "enterprise" else "热食类食品制售（简单制售）",
                        "负责人": person,
                    },
                ),
            )
        lines += [
            f"{name} ({uscc})",
            f"  营业执照 business licence:  {bl.verify_url}",
            f"  {permit_words}: {permit.verify_url}",
            f"  一码展示 all licences:       {base}/e/{uscc}",
            f"  enterprise activation code:  {bl.activation_code}",
            "",
        ]
    first_name, first_uscc, *_rest = ENTERPRISES[0]
    await issue_receipt(
        ctx,
        health.department,
        ReceiptIn(
            applicant_name=first_name,
            applicant_uscc=first_uscc,
            matter="公共场所卫生许可证核发（告知承诺）",
            application_number="SZWJ-DEMO-0001",
            materials_received=["公共场所卫生许可申请表", "告知承诺书"],
            materials_missing=[MissingMaterial(name="卫生检测报告", due=today() + timedelta(days=15))],
        ),
    )
    lines += [
        f"事项清单 catalogue of matters:  {base}/catalogue",
        f"{MARKET[0]} ({MARKET[2]}) API key: {market.api_key}",
        f"{HEALTH[0]} ({HEALTH[2]}) API key: {health.api_key}",
        f"{HOUSING[0]} ({HOUSING[2]}) API key: {housing.api_key}",
        f"API docs: {base}/docs · enterprise portal: {base}/portal",
    ]
    keys_file = demo_keys_path(ctx.settings)
    create_private_file(keys_file)
    keys_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines.append(f"(these keys and codes are kept in {keys_file}: certsvc demo --show-keys prints them again)")
    return "\n".join(lines)


def demo_keys_path(settings: Settings) -> Path:
    """Where the demo keeps what it printed when loaded (API keys, activation codes), readable by its user only."""
    return settings.data_dir / "demo-keys.txt"


def show_demo_keys() -> int:
    """``certsvc demo --show-keys``: print the demo's keys again; exit 2 if the demo was not loaded here."""
    path = demo_keys_path(get_settings())
    try:
        print(path.read_text(encoding="utf-8"), end="")
    except FileNotFoundError:
        print(f"error: no demo keys at {path}: load the demo there first (certsvc demo --no-serve)", file=sys.stderr)
        return 2
    return 0
