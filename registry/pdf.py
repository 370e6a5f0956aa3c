"""The filing certificate (备案证明): a Chinese PDF with a QR code leading to the public check."""

from __future__ import annotations

import base64

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .models import AnnualFiling


def verify_url(code: str) -> str:
    return settings.PORTAL_BASE_URL + reverse("registry:verify", args=[code])


def qr_svg_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


def format_code(code: str) -> str:
    """ABCD-EFGH-JKMN: easier to read aloud and type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def certificate_pdf(*, filing: AnnualFiling) -> bytes:
    """Render the certificate of an approved filing, from its snapshot (what was approved)."""
    from weasyprint import HTML

    url = verify_url(filing.certificate_code)
    with translation.override("zh-hans"):
        html = render_to_string(
            "registry/certificate_pdf.html",
            {
                "filing": filing,
                "profile": filing.snapshot.get("profile", {}),
                "firm": filing.snapshot.get("firm", {}),
                "approved_at": timezone.localtime(filing.approved_at),
                "code": format_code(filing.certificate_code),
                "verify_url": url,
                "qr": qr_svg_data_uri(url),
                "issued": timezone.localtime(),
            },
        )
    return HTML(string=html).write_pdf()
