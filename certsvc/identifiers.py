"""Identifiers: USCC (GB 32100-2015), organisation code (GB 11714), licence identifier (GB/T 36904).

The check algorithms are written out here because the common libraries reject valid codes
of registration authorities A, N and Y, and none implements the GB/T 36904 identifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Registration authority (position 1) and the organisation kinds (position 2) it may use.
# 1 机构编制, 5 民政, 9 工商(市场监管), Y 其他; plus 2 外交, 3 司法行政, 4 文化, 6 旅游, 7 宗教,
# 8 工会, A 中央军委改革和编制办公室, N 农业农村 (农民专业合作社), G 中华全国总工会 is not in GB 32100.
_AUTHORITY_KINDS = {
    "1": "1239",
    "2": "19",
    "3": "12345679",
    "4": "19",
    "5": "1239",
    "6": "129",
    "7": "129",
    "8": "129",
    "9": "123",
    "A": "19",
    "N": "1239",
    "Y": "1",
}


class IdentifierError(ValueError):
    """An identifier that is not well formed; the message says why (``zh``: the same in Chinese, for pages)."""

    def __init__(self, message: str, zh: str | None = None) -> None:
        super().__init__(message)
        self.zh = zh or message


def uscc_check_char(first17: str) -> str:
    """The 18th character of a USCC (GB 32100-2015), for making and checking codes."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """GB 11714 check character over the 8-character organisation code body."""
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    c = 11 - total % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def validate_uscc(value: str) -> str:
    """Return the normalised USCC or raise :class:`IdentifierError` naming what is wrong."""
    if not isinstance(value, str):
        raise IdentifierError("must be a string of 18 characters", "应为 18 位字符")
    code = value.strip().upper()
    if len(code) != 18:
        raise IdentifierError(f"must be 18 characters, got {len(code)}", f"应为 18 位，实为 {len(code)} 位")
    bad = [c for c in code if c not in USCC_ALPHABET]
    if bad:
        raise IdentifierError(
            f"character {bad[0]!r} is not allowed (I, O, S, V, Z are never used)",
            f"含有不允许的字符 {bad[0]!r}（不使用 I、O、S、V、Z）",
        )
    authority, kind = code[0], code[1]
    if authority not in _AUTHORITY_KINDS:
        raise IdentifierError(
            f"registration authority {authority!r} does not exist", f"第 1 位登记管理部门代码 {authority!r} 不存在"
        )
    if kind not in _AUTHORITY_KINDS[authority]:
        raise IdentifierError(
            f"organisation kind {kind!r} is not used by authority {authority!r}",
            f"第 2 位机构类别代码 {kind!r} 与登记管理部门 {authority!r} 不符",
        )
    if not code[2:8].isdigit():
        raise IdentifierError(
            "positions 3-8 must be the 6-digit administrative division code", "第 3 至 8 位应为 6 位行政区划代码"
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise IdentifierError(
            f"check character is {code[17]!r}, expected {expected!r}",
            f"第 18 位校验码为 {code[17]!r}，应为 {expected!r}",
        )
    org = code[8:17]
    if any(c not in _ORG_ALPHABET for c in org[:8]) or org_code_check_char(org[:8]) != org[8]:
        raise IdentifierError(
            "positions 9-17 are not a valid organisation code (GB 11714 check failed)",
            "第 9 至 17 位不是有效的组织机构代码（GB 11714 校验不通过）",
        )
    return code


def uscc_words(value: str) -> str:
    """What is wrong with ``value`` as a USCC, in Chinese, for a page a person reads ("" if nothing is)."""
    try:
        validate_uscc(value)
    except IdentifierError as e:
        return e.zh
    return ""


def is_valid_uscc(value: str) -> bool:
    """Whether ``value`` is a well-formed USCC, for callers that branch instead of reporting the reason."""
    try:
        validate_uscc(value)
    except IdentifierError:
        return False
    return True


def make_uscc(prefix8: str, org_body8: str) -> str:
    """Build a valid USCC from its first 8 characters and an 8-character organisation code body."""
    org = org_body8 + org_code_check_char(org_body8)
    first17 = prefix8 + org
    return first17 + uscc_check_char(first17)


# --- ISO/IEC 7064 MOD 37,36 ---------------------------------------------------------------

_MOD36_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def mod37_36_check_char(data: str) -> str:
    """Check character of the ISO/IEC 7064 hybrid system MOD 37,36 (alphanumeric)."""
    m = 36
    p = m
    for ch in data.upper():
        s = (p + _MOD36_ALPHABET.index(ch)) % m
        p = ((s or m) * 2) % (m + 1)
    return _MOD36_ALPHABET[(m + 1 - p) % m]


def mod37_36_is_valid(data_with_check: str) -> bool:
    """Whether the last character is the ISO 7064 MOD 37,36 check of the rest, as licence identifiers end."""
    m = 36
    p = m
    for ch in data_with_check.upper()[:-1]:
        s = (p + _MOD36_ALPHABET.index(ch)) % m
        p = ((s or m) * 2) % (m + 1)
    return (p + _MOD36_ALPHABET.index(data_with_check[-1].upper())) % m == 1


# --- licence identifier (电子证照标识) ----------------------------------------------------

LICENCE_ID_ROOT = "1.2.156.3005.2"
_LICENCE_ID_RE = re.compile(
    r"^1\.2\.156\.3005\.2\.(?P<type>[0-9A-Z]{18}\d{3})\.(?P<issuer>[0-9A-Z]{18})\."
    r"(?P<serial>\d{1,12})\.(?P<version>\d{3})\.(?P<check>[0-9A-Z])$"
)


@dataclass(frozen=True)
class LicenceIdentifier:
    """The parts of a licence identifier (电子证照标识); ``str()`` gives the dotted form with its check character."""

    type_code: str  # defining department USCC + 3-digit sequence
    issuer_code: str  # issuing department USCC
    serial: int
    version: int

    def body(self) -> str:
        return f"{LICENCE_ID_ROOT}.{self.type_code}.{self.issuer_code}.{self.serial:08d}.{self.version:03d}"

    def __str__(self) -> str:
        body = self.body()
        return f"{body}.{mod37_36_check_char(body.replace('.', ''))}"


def licence_identifier(type_code: str, issuer_code: str, serial: int, version: int) -> str:
    """The dotted identifier of one licence version, with its check character."""
    if not 1 <= version <= 999:
        raise IdentifierError("version must be 1-999")
    return str(LicenceIdentifier(type_code, issuer_code, serial, version))


def parse_licence_identifier(value: str) -> LicenceIdentifier:
    """Split a licence identifier into its parts, refusing a wrong form or check character."""
    m = _LICENCE_ID_RE.match(value.strip().upper())
    if not m:
        raise IdentifierError(
            "not a licence identifier of the form 1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>"
        )
    body = value.strip().upper()[:-2]
    if not mod37_36_is_valid(body.replace(".", "") + m["check"]):
        raise IdentifierError("check character does not match (ISO/IEC 7064 MOD 37,36)")
    return LicenceIdentifier(m["type"], m["issuer"], int(m["serial"]), int(m["version"]))


def licence_number(type_code: str, department_code: str, year: int, serial: int) -> str:
    """The human licence number (证照编号) printed on the licence."""
    return f"{type_code}{department_code}{year}{serial:08d}"
