"""Response bodies of the HTTP API, as OpenAPI names them.

The services build plain dicts; a route's ``response_model`` checks them against these models and
documents them. Field order is the order of the keys in the answer. Keys that an answer leaves out
in some cases have a default and the routes use ``response_model_exclude_unset``, so a key absent
from the dict stays absent (rather than appearing as ``null``). ``extra="allow"`` keeps any key a
service adds that is not declared here: a model documents the answer, it never trims it.

Dates and times are the ISO 8601 strings the services write, not parsed again.
"""

from __future__ import annotations

from certsvc.api.models.enterprises import (
    AccessEventOut,
    AccessLog,
    ActivationOut,
    GrantList,
    GrantOut,
    HeldLicences,
    LookupOut,
    NewGrantOut,
    ShareEnterprise,
    ShareGrant,
    SharePage,
    VerificationCountOut,
)
from certsvc.api.models.errors import (
    ErrorBody,
    ErrorDetail,
    FieldProblem,
    LinkErrorBody,
    error_responses,
    media,
)
from certsvc.api.models.licences import (
    BatchItemOut,
    BatchOut,
    EnterprisePage,
    HeldPublicLicence,
    LicenceField,
    LicenceOut,
    LicenceTypeList,
    LicenceTypeOut,
    MissingMaterialOut,
    PublicLicence,
    ReceiptMaterials,
    ReceiptOut,
    ReceiptPublic,
    SharedLicence,
)
from certsvc.api.models.matters import (
    Catalogue,
    EnterpriseReceipts,
    MatterMaterials,
    MatterOut,
    TrackedReceipt,
)
from certsvc.api.models.verification import (
    CheckOut,
    FileOut,
    GrantRef,
    Health,
    LaterSignatureOut,
    QrClaims,
    QrSigner,
    QrVerifyResult,
    ReceiptRef,
    SignerOut,
    StatusList,
    StatusListBits,
    StatusListPayload,
    TrustedEnterprise,
    TrustedIssuer,
    TrustList,
    VerifyResult,
)

__all__ = [
    "TrackedReceipt",
    "MatterOut",
    "MatterMaterials",
    "EnterpriseReceipts",
    "Catalogue",
    "AccessEventOut",
    "AccessLog",
    "ActivationOut",
    "BatchItemOut",
    "BatchOut",
    "CheckOut",
    "EnterprisePage",
    "ErrorBody",
    "ErrorDetail",
    "FieldProblem",
    "FileOut",
    "GrantList",
    "GrantOut",
    "GrantRef",
    "Health",
    "HeldLicences",
    "HeldPublicLicence",
    "LaterSignatureOut",
    "LicenceField",
    "LicenceOut",
    "LicenceTypeList",
    "LicenceTypeOut",
    "LinkErrorBody",
    "LookupOut",
    "MissingMaterialOut",
    "NewGrantOut",
    "PublicLicence",
    "QrClaims",
    "QrSigner",
    "QrVerifyResult",
    "ReceiptMaterials",
    "ReceiptOut",
    "ReceiptPublic",
    "ReceiptRef",
    "ShareEnterprise",
    "ShareGrant",
    "SharePage",
    "SharedLicence",
    "SignerOut",
    "StatusList",
    "StatusListBits",
    "StatusListPayload",
    "TrustList",
    "TrustedEnterprise",
    "TrustedIssuer",
    "VerificationCountOut",
    "VerifyResult",
    "error_responses",
    "media",
]
