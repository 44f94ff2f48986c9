"""The invoice is a real PDF carrying the order's lines and total."""

from __future__ import annotations

import io
from decimal import Decimal

from pypdf import PdfReader

from shared.shop.invoice_pdf import InvoiceData, InvoiceLine, render_invoice


def test_invoice_lists_every_line_and_the_total() -> None:
    invoice = InvoiceData(
        order_id="ord-42",
        user_id="Zoë",  # outside ASCII: shown, not a crash
        created_at="2026-11-27T12:00:00.000Z",
        lines=[
            InvoiceLine("prod-1", "Mechanical Keyboard", 2, Decimal("89.99")),
            InvoiceLine("prod-3", "Monitor Stand", 1, Decimal("49.99")),
        ],
        total=Decimal("229.97"),
    )
    content = render_invoice(invoice)
    assert content.startswith(b"%PDF-")
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    for expected in ("Invoice", "ord-42", "Zoë", "Mechanical Keyboard", "179.98", "Monitor Stand", "49.99", "229.97"):
        assert expected in text, expected
