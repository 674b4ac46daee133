"""Verification answers in words a person reads: every check and verdict in Chinese and English.

The checks' ``detail`` stays the precise English sentence the policy wrote; :func:`bilingual`
adds ``label_zh``/``label_en`` (what the rule is) and ``detail_zh`` (whether it held, in Chinese)
without changing the answer's shape.
"""

from __future__ import annotations

from typing import Any

from verify.report import CheckName, Verdict

__all__ = ["CHECK_WORDS", "VERDICT_WORDS", "bilingual", "check_words"]

# name → (label in Chinese, label in English, what it means when it held, when it failed)
CHECK_WORDS: dict[CheckName, tuple[str, str, str, str]] = {
    CheckName.FILE_READABLE: ("文件可读", "File readable", "文件是可以读取的 PDF。", "文件无法作为 PDF 读取。"),
    CheckName.WITHIN_LIMITS: (
        "文件在限度内",
        "Within limits",
        "文件的大小和结构在核验限度之内。",
        "文件过大或结构过于复杂，超出核验限度。",
    ),
    CheckName.ANALYSIS_FINISHED: (
        "核验完成",
        "Analysis finished",
        "文件已在限定时间内核验完毕。",
        "文件未能在限定时间内核验完毕。",
    ),
    CheckName.PAYLOAD_READABLE: (
        "二维码内容可读",
        "QR payload readable",
        "二维码内容是本服务格式的签名数据。",
        "二维码内容不是本服务签发的格式。",
    ),
    CheckName.KIND_MATCHES_LINK: (
        "二维码类型相符",
        "QR kind matches its link",
        "二维码内容与其链接类型相符。",
        "二维码内容与其链接类型不符。",
    ),
    CheckName.SIGNATURE_PRESENT: ("带有签章", "Signature present", "文件带有电子签章。", "文件没有任何电子签章。"),
    CheckName.SIGNATURE_INTACT: (
        "签章完好",
        "Seal intact",
        "签章完好，签章所覆盖的内容未被改动。",
        "签章已损坏：签章所覆盖的内容被改动，或签章值无法验证。",
    ),
    CheckName.SIGNATURE_VALID: (
        "签名有效",
        "Signature valid",
        "二维码内容的签名有效。",
        "二维码内容的签名无效。",
    ),
    CheckName.SEAL_COVERS_REVISION: (
        "签章覆盖完整",
        "Seal covers its revision",
        "签章覆盖其所在版本的全部内容。",
        "签章未覆盖其所在版本的全部内容（字节范围被操纵）。",
    ),
    CheckName.SIGNER_KNOWN: (
        "签章者可识别",
        "Signer known",
        "签章证书属于本服务登记的部门、企业或本服务。",
        "签章证书不在本服务的信任列表中。",
    ),
    CheckName.SIGNER_TRUSTED: (
        "证书链可信",
        "Certificate trusted",
        "签章证书链接至本服务根证书，签章时有效。",
        "签章证书无法链接至本服务根证书，或签章时已失效。",
    ),
    CheckName.SIGNER_NOT_REVOKED: (
        "签章时证书未注销",
        "Not revoked at signing",
        "签章时证书尚未注销。",
        "签章时证书已注销（密钥可能泄露），签章不可信。",
    ),
    CheckName.LICENCE_TYPE_ALLOWED: (
        "证照类型相符",
        "Licence type allowed",
        "签章部门有权签发该类证照。",
        "签章部门无权签发该类证照。",
    ),
    CheckName.ISSUER_IS_SIGNER: (
        "签发者即签名者",
        "Issuer is the signer",
        "二维码声明的签发者就是签名的部门。",
        "二维码声明的签发者与签名的部门不一致。",
    ),
    CheckName.LATER_SIGNATURES_BY_SERVICE: (
        "后续签章来自本服务",
        "Later signatures by this service",
        "签章之后只有本服务的签章（如授权加注）。",
        "签章之后另有他人的签章。",
    ),
    CheckName.NO_CHANGES_AFTER_SEALING: (
        "签章后未被改动",
        "No changes after sealing",
        "签章之后文件内容未被改动。",
        "签章之后文件内容被改动过。",
    ),
    CheckName.COVERS_FILE: (
        "签章覆盖全文",
        "Covers the whole file",
        "最后一个签章覆盖整个文件。",
        "文件末尾有未被签章覆盖的内容。",
    ),
    CheckName.ENTERPRISE_SIGNATURE: (
        "企业签章",
        "Enterprise signature",
        "由企业以营业执照数字证书签章；企业签章只说明谁签署，不说明内容是电子证照。",
        "企业签章无效。",
    ),
    CheckName.LATER_SIGNATURES_BY_ENTERPRISES: (
        "后续签章均为企业签章",
        "Later signatures by enterprises",
        "之后的每个签章都是企业完好的营业执照签章。",
        "之后的签章中有非企业的签章，或有签章已损坏。",
    ),
    CheckName.ISSUED_HERE: (
        "本服务签发",
        "Issued by this service",
        "本服务有该文件的签发记录。",
        "本服务没有该文件的签发记录（签章虽真，文件非本服务签发）。",
    ),
    CheckName.STATUS_LIST: (
        "状态列表",
        "Status list",
        "状态取自经签名的状态列表。",
        "无法从状态列表得知状态。",
    ),
}

# verdict → (headline in Chinese, in English, a sentence in Chinese)
VERDICT_WORDS: dict[Verdict, tuple[str, str, str]] = {
    Verdict.GENUINE: ("真实", "Genuine", "文件由本服务签发，签章完好，签章后未被改动。"),
    Verdict.SIGNED_BY_ENTERPRISE: (
        "企业签章有效",
        "Signed by an enterprise",
        "文件由企业以营业执照数字证书签章，签章完好；这不是本服务签发的电子证照。",
    ),
    Verdict.MODIFIED_AFTER_SEALING: ("已被篡改", "Modified after sealing", "文件在签章之后被改动过，不可采信。"),
    Verdict.SIGNATURE_INVALID: (
        "签章无效",
        "Signature invalid",
        "签章已损坏、不可信，或以已注销的密钥签章。",
    ),
    Verdict.NOT_ISSUED_HERE: (
        "非本服务签发",
        "Not issued here",
        "签章虽真，但本服务从未签发过这份文件。",
    ),
    Verdict.UNKNOWN_SIGNER: ("签章者未知", "Unknown signer", "文件的签章证书不是本服务签发或信任的。"),
    Verdict.NO_SIGNATURE: ("无签章", "No signature", "文件没有任何电子签章。"),
    Verdict.MALFORMED: ("文件无法识别", "Malformed", "文件无法读取或核验。"),
}


def check_words(name: str, ok: bool) -> tuple[str, str, str]:
    """``(label_zh, label_en, detail_zh)`` of a check; an unknown name keeps its own name as label."""
    try:
        zh, en, held, failed = CHECK_WORDS[CheckName(name)]
    except ValueError:
        return name, name, "通过。" if ok else "未通过。"
    return zh, en, held if ok else failed


def bilingual(answer: dict[str, Any]) -> dict[str, Any]:
    """Add ``label_zh``, ``label_en`` and ``detail_zh`` to every check of an answer (in place; returned)."""
    for check in answer.get("checks", []):
        check["label_zh"], check["label_en"], check["detail_zh"] = check_words(
            str(check.get("name")), bool(check.get("ok"))
        )
    return answer
