"""Certificate names compare with today's Unicode, not Unicode 3.2 (keys.x509names)."""

from __future__ import annotations

import pytest
from asn1crypto import x509 as asn1_x509

import keys  # noqa: F401  (installs the name preparation)
from keys.x509names import in_table_a1


def _name(org: str) -> asn1_x509.Name:
    return asn1_x509.Name.build({"country_name": "CN", "organization_name": org}, use_printable=False)


@pytest.mark.parametrize("org", ["深圳市𪜀贸易有限公司", "深圳市😀科技有限公司", "深圳市鹏城贸易有限公司"])
def test_names_with_characters_newer_than_unicode_3_2_compare(org: str) -> None:
    a, b = _name(org), _name(org)
    assert a == b
    assert a.hashable == b.hashable
    assert a != _name(org + "分公司")


@pytest.mark.parametrize(("char", "why"), [("\U000e0080", "unassigned"), ("\ue000", "private use")])
def test_characters_rfc_4518_prohibits_are_still_refused(char: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        _ = _name(f"深圳市{char}公司").hashable


def test_table_a1_is_todays_unassigned_code_points() -> None:
    assert not in_table_a1("𪜀")
    assert in_table_a1("\U000e0080")
    assert not in_table_a1("\ufdd0")  # a noncharacter: table C.4
