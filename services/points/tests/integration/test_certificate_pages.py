"""The certificate as a person reads it: public by serial, fits a phone, a QR code to its own
verification page, days in people's words, no API paths on the page."""

from __future__ import annotations

import re

import pytest
import segno

from linli_points.api.service_hours import QR_LABEL
from linli_shared.auth import Role
from linli_shared.qr import qr_svg

pytestmark = [pytest.mark.integration]


async def issued(client, community, enrol, full_name: str) -> str:
    volunteer = await enrol(community, subject="wang", full_name=full_name)
    await client.post(
        "/v1/service-records",
        json={"volunteer_id": volunteer["id"], "served_on": "2025-12-24", "minutes": 630},
        headers=community.as_(Role.COMMUNITY_WORKER),
    )
    made = await client.post(
        f"/v1/volunteers/{volunteer['id']}/certificates", headers=community.as_(Role.VOLUNTEER, "wang")
    )
    assert made.status_code == 201, made.text
    return str(made.json()["serial"])


async def test_the_certificate_page_is_public_by_serial_with_a_qr_code_to_its_check(
    client, community, enrol
) -> None:
    serial = await issued(client, community, enrol, "王桂兰")

    page = await client.get(f"/v1/public/certificates/{serial.lower()}")  # no Authorization header

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    verify_url = str(client.base_url).rstrip("/") + f"/v1/public/certificates/{serial}/verification"
    assert 'name="viewport"' in text and "10.50" in text and serial in text
    assert "王**" in text and "王桂兰" not in text, "the full name stays behind a token"
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", text) and not re.search(r"\d{4}-\d{2}-\d{2}", text)
    assert "GET " not in text and "/v1/certificates" not in text
    assert f'href="{verify_url}"' in text
    assert qr_svg(verify_url, label=QR_LABEL) in text, "the QR code on the page encodes the verification link"
    svg = qr_svg(verify_url, label=QR_LABEL)
    assert svg.startswith('<svg role="img" aria-label="核验二维码"') and "<script" not in svg
    assert segno.make(verify_url, error="m").designator.endswith("-M")

    check = await client.get(f"/v1/public/certificates/{serial}/verification")
    assert check.status_code == 200
    assert "这份证书真实有效" in check.text and "王**" in check.text and "10.50 小时" in check.text
    assert "王桂兰" not in check.text and serial in check.text


async def test_the_printed_certificate_carries_the_full_name_and_the_same_qr_code(
    client, community, enrol
) -> None:
    serial = await issued(client, community, enrol, "李<b>红亮</b>")
    page = await client.get(f"/v1/certificates/{serial}/print", headers=community.as_(Role.VOLUNTEER, "wang"))
    assert page.status_code == 200
    assert "李&lt;b&gt;红亮&lt;/b&gt;" in page.text and "<b>红亮" not in page.text
    base = str(client.base_url).rstrip("/")
    assert qr_svg(f"{base}/v1/public/certificates/{serial}/verification", label=QR_LABEL) in page.text


async def test_an_unknown_serial_has_no_page(client, community, enrol) -> None:
    serial = await issued(client, community, enrol, "王桂兰")
    wrong = serial[:-1] + ("A" if serial[-1] != "A" else "B")
    for path in (f"/v1/public/certificates/{wrong}", f"/v1/public/certificates/{wrong}/verification"):
        assert (await client.get(path)).status_code == 404
