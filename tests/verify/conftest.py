"""Fixtures for the verifier tests: a small PKI, licence PDFs, and the attacks on them (the
builders are in :mod:`tests.support.verify_kit`)."""

from __future__ import annotations

import pytest

from keys.ca import Subject, issue_leaf, make_root
from keys.files import FileKeyBackend
from tests.support.verify_kit import DEPT_USCC, ENT2_USCC, ENT_USCC, Issued, Kit, Pki
from verify.trust import TrustContext


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    be = FileKeyBackend(tmp_path_factory.mktemp("keys"), b"test-passphrase")
    root = make_root(be, "root", Subject("certsvc test root", "certsvc"))
    froot = make_root(be, "foreign_root", Subject("Some other CA", "Elsewhere"))
    return Pki(
        backend=be,
        root=root,
        dept=issue_leaf(be, "root", root, "dept", Subject("测试市场监管局 电子印章", "测试市场监管局", DEPT_USCC)),
        dept2=issue_leaf(be, "root", root, "dept2", Subject("测试卫健局 电子印章", "测试卫健局", "12100000000013127A")),
        service=issue_leaf(be, "root", root, "service", Subject("certsvc service seal", "certsvc")),
        enterprise=issue_leaf(
            be, "root", root, "enterprise", Subject("测试企业有限公司", "测试企业有限公司", ENT_USCC)
        ),
        enterprise2=issue_leaf(
            be, "root", root, "enterprise2", Subject("测试合作方有限公司", "测试合作方有限公司", ENT2_USCC)
        ),
        stray=issue_leaf(be, "root", root, "stray", Subject("not on the list", "certsvc")),
        foreign_root=froot,
        foreign=issue_leaf(be, "foreign_root", froot, "foreign", Subject("Foreign seal", "Elsewhere", DEPT_USCC)),
    )


@pytest.fixture(scope="session")
def trust(pki: Pki) -> TrustContext:
    return pki.trust()


@pytest.fixture
def issued() -> Issued:
    return Issued()


@pytest.fixture
def kit(pki: Pki, issued: Issued) -> Kit:
    return Kit(pki, issued)
