"""The Chinese names people read for the fund's codes: funds, purposes, donor kinds, statuses and
guarded balances. One place for the public report and for the refusals a person is shown."""

from __future__ import annotations

from collections.abc import Mapping

FUND_LABELS = {"general": "综合基金", "education": "助学基金", "medical": "医疗基金", "relief": "帮扶基金"}
PURPOSE_LABELS = {"education": "助学", "medical": "医疗救助", "relief": "困难帮扶"}
SOURCE_LABELS = {"resident": "居民", "party_member": "党员", "enterprise": "爱心企业", "outsider": "社会人士"}
STATUS_LABELS = {
    # commitments
    "active": "执行中",
    "fulfilled": "已全部支付",
    "released": "已解除",
    "suspended": "已暂停",
    # disbursements
    "requested": "待审批",
    "approved": "已批准",
    "rejected": "已驳回",
    "paid": "已支付",
    "reversed": "已冲正",
    # residents (the registry's statuses)
    "moved_out": "已迁出",
    "deceased": "已去世",
}
GUARDED_LABELS = {
    "assets:cash": "现金",
    "assets:bank": "银行账户",
    "assets:mobile": "移动支付账户",
    **{f"funds:{fund}": label for fund, label in FUND_LABELS.items()},
}


def label(labels: Mapping[str, str], code: str) -> str:
    """The Chinese name of a code, or the code itself where it has none."""
    return labels.get(code, code)
