"""What an enterprise's staff token may do: its scopes, and which scope each enterprise action needs.

The token from activation (the legal representative's, 法定代表人) may do everything, including
managing staff tokens; a staff token (管理员, 办事人) only what its scopes name. This is the one
place that says which scope an action needs: routes name these constants (see
:mod:`certsvc.api.deps`).
"""

from __future__ import annotations

LICENCES_READ = "licences:read"
"""Read the enterprise's licences, receipts, filings, commitments, grants and access log."""
GRANTS_WRITE = "grants:write"
"""Create and revoke grants (授权); show licences live (亮照)."""
SIGN = "sign"
"""Sign documents with the business-licence signature."""
COMMITMENTS_WRITE = "commitments:write"
"""Sign commitments (告知承诺)."""
FILINGS_WRITE = "filings:write"
"""File (备案)."""

SHOW = GRANTS_WRITE
"""Live showing (亮照, ``POST /enterprise/show``) shares licences like a grant does."""

SCOPES: tuple[str, ...] = (LICENCES_READ, GRANTS_WRITE, SIGN, COMMITMENTS_WRITE, FILINGS_WRITE)

SCOPE_WORDS: dict[str, str] = {
    LICENCES_READ: "查看证照、回执、授权和访问记录 · read licences, receipts, grants and the access log",
    GRANTS_WRITE: "授权和亮照 · create and revoke grants, show licences live",
    SIGN: "签名 · sign documents with the business-licence signature",
    COMMITMENTS_WRITE: "签署告知承诺 · sign commitments",
    FILINGS_WRITE: "备案 · file",
}
