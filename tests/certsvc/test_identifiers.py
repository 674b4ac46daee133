"""USCC (GB 32100), organisation code (GB 11714) and licence identifier (GB/T 36904) checks."""

import pytest

from certsvc.identifiers import (
    IdentifierError,
    licence_identifier,
    make_uscc,
    mod37_36_check_char,
    mod37_36_is_valid,
    parse_licence_identifier,
    validate_uscc,
)

PUBLISHED = [
    "914403001922038216",  # 华为技术有限公司
    "91110108551385082Q",  # 北京小米科技有限责任公司
    "11100000000013338W",  # 国务院办公厅 (registration authority 1: 机构编制)
    "91440300708461136T",  # 腾讯科技(深圳)有限公司
]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code: str) -> None:
    assert validate_uscc(code) == code


def test_lower_case_is_normalised() -> None:
    assert validate_uscc("91110108551385082q") == "91110108551385082Q"


@pytest.mark.parametrize("prefix", ["N2440300", "A1440300", "Y1440300", "93440300", "52440300"])
def test_authorities_common_libraries_reject_are_accepted(prefix: str) -> None:
    code = make_uscc(prefix, "MA5G0A1B")
    assert validate_uscc(code) == code


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("914403001922038217", "check character"),
        ("91440300192203821", "18 characters"),
        ("9144030019220382166", "18 characters"),
        ("91440300192203821I", "not allowed"),
        ("Z14403001922038216", "not allowed"),
        ("B14403001922038216", "registration authority"),
        ("96440300192203821X", "organisation kind"),
        ("9144AB001922038216", "division code"),
    ],
)
def test_wrong_codes_are_rejected_with_a_reason(code: str, why: str) -> None:
    with pytest.raises(IdentifierError, match=why):
        validate_uscc(code)


def test_nested_organisation_code_check_is_enforced() -> None:
    """A code whose outer check fits but whose positions 9-17 break the GB 11714 check."""
    from certsvc.identifiers import org_code_check_char, uscc_check_char

    right = org_code_check_char("MA5G0A1B")
    wrong = "1" if right != "1" else "2"
    body = "91440300" + "MA5G0A1B" + wrong
    with pytest.raises(IdentifierError, match="organisation code"):
        validate_uscc(body + uscc_check_char(body))


def test_mod37_36_check_character_round_trips() -> None:
    for data in ["0", "A", "123456789", "ZZZZ", "1215630052"]:
        assert mod37_36_is_valid(data + mod37_36_check_char(data))


def test_mod37_36_detects_single_substitution_and_transposition() -> None:
    data = "12156300529111010855138508200112000000120001"
    good = data + mod37_36_check_char(data)
    bad_sub = "2" + good[1:]
    bad_swap = good[1] + good[0] + good[2:]
    assert not mod37_36_is_valid(bad_sub)
    assert not mod37_36_is_valid(bad_swap)


def test_licence_identifier_has_the_gbt36904_shape() -> None:
    ident = licence_identifier("11440300MB2C92049Y001", "11440300MB2C92049Y", 42, 3)
    assert ident.startswith("1.2.156.3005.2.11440300MB2C92049Y001.11440300MB2C92049Y.00000042.003.")
    parsed = parse_licence_identifier(ident)
    assert (parsed.serial, parsed.version) == (42, 3)


def test_licence_identifier_with_a_wrong_check_character_is_rejected() -> None:
    ident = licence_identifier("11440300MB2C92049Y001", "11440300MB2C92049Y", 42, 3)
    wrong = ident[:-1] + ("0" if ident[-1] != "0" else "1")
    with pytest.raises(IdentifierError, match="check character"):
        parse_licence_identifier(wrong)
