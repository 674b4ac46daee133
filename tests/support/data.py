"""Request bodies and identifiers for the service tests: every call makes a fresh holder."""

from __future__ import annotations

import secrets

from certsvc.demo import FOOD_LICENCE_TYPE
from certsvc.identifiers import make_uscc

__all__ = [
    "FOOD_LICENCE_TYPE",
    "business_licence_body",
    "food_licence_body",
    "oversize_food_licence_body",
    "random_uscc",
]

ALNUM = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def random_uscc(prefix: str = "91440300") -> str:
    body = "MA" + "".join(secrets.choice(ALNUM) for _ in range(6))
    return make_uscc(prefix, body)


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


TOO_LONG = "深圳市南山区科技园路一号" * 160  # 1,920 characters: within a field's limit, not a page's


def oversize_food_licence_body() -> dict:
    """A food licence whose fields each fit their limit but together overflow the page."""
    return food_licence_body(fields={"经营场所": TOO_LONG, "主体业态": TOO_LONG, "经营项目": TOO_LONG})
