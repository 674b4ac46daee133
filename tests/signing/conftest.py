"""Fixtures for the signing tests: a throwaway ECDSA P-256 CA and seal certificate, sample documents."""

from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from signing import fonts
from signing.models import LicenceDocument, ReceiptDocument
from tests.support.signing import RARE_NAME, Pki, make_pki, qr_url


@pytest.fixture(scope="session")
def pki() -> Pki:
    """ECDSA P-256 root and seal certificate."""
    return make_pki(ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope="session")
def rsa_pki() -> Pki:
    """ECDSA root, RSA-2048 seal certificate."""
    return make_pki(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session", autouse=True)
def _fonts_ready() -> None:
    fonts.warm_up()


@pytest.fixture
def licence() -> LicenceDocument:
    return LicenceDocument(
        title="食品经营许可证",
        number="JY14401030012345",
        identifier="1.2.156.3005.2.11440100MB2C12345X001.11440106MB2C67890Y.000123.001.K",
        holder_name=RARE_NAME,
        holder_uscc="91440101MA5CXXK96B",
        holder_label="经营者名称",
        fields=[
            ("法定代表人（负责人）", "王喆"),
            ("住所", "广州市天河区珠江新城华夏路28号富力盈信大厦18楼1801-1805室"),
            (
                "经营项目",
                "热食类食品制售；冷食类食品制售（不含生食）；生食类食品制售（限寿司、刺身）；"
                "糕点类食品制售（含裱花蛋糕）；自制饮品制售（不含自酿酒）；预包装食品销售（含冷藏冷冻食品）。",
            ),
        ],
        valid_from=date(2025, 3, 1),
        valid_until=date(2030, 2, 28),
        issuer_name="广州市天河区市场监督管理局",
        issue_date=date(2025, 3, 1),
        version=1,
        qr_text=qr_url(330),
        seal_name="广州市天河区市场监督管理局",
        seal_code="4401060012345",
    )


@pytest.fixture
def receipt() -> ReceiptDocument:
    return ReceiptDocument(
        applicant_name="佛山市南海区淼鑫五金制品厂",
        applicant_uscc="92440605MA4XXXXX1X",
        matter="食品经营许可（新办）",
        application_number="SL2025030100123",
        received_date=date(2025, 3, 1),
        materials_received=["食品经营许可申请书", "营业执照复印件"],
        materials_missing=[("从业人员健康证明", date(2025, 3, 20))],
        department="佛山市南海区行政服务中心",
        issue_date=date(2025, 3, 1),
        qr_text=qr_url(300),
        seal_name="佛山市南海区行政服务中心",
        seal_code="4406050001234",
    )
