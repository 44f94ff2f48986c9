"""Render an order's invoice as a real PDF (fpdf2). Amounts are exact (Decimal), two decimals."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shared.clock import to_api
from shared.money import line_amount
from shared.shop.order_store import Order


@dataclass(frozen=True)
class InvoiceLine:
    product_id: str
    name: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return line_amount(self.unit_price, self.quantity)


@dataclass(frozen=True)
class InvoiceData:
    order_id: str
    user_id: str
    created_at: str
    lines: list[InvoiceLine]
    total: Decimal


def invoice_data(order: Order, names: dict[str, str]) -> InvoiceData:
    """What an order's invoice shows: its stored lines and total, each product by its name."""
    lines = [
        InvoiceLine(i.product_id, names.get(i.product_id, i.product_id), i.quantity, i.unit_price) for i in order.items
    ]
    return InvoiceData(order.id, order.user_id, to_api(order.created_at) or "", lines, order.total)


def _latin1(text: str) -> str:
    # The core PDF fonts cover Latin-1 only; anything else is shown as "?" rather than failing.
    return text.encode("latin-1", "replace").decode("latin-1")


def render_invoice(invoice: InvoiceData) -> bytes:
    from fpdf import FPDF  # noqa: PLC0415 - fpdf pulls in Pillow: load it on the first invoice, not at start-up

    pdf = FPDF()
    pdf.set_title(f"Invoice {invoice.order_id}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 12, "Invoice", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for label, value in (("Order", invoice.order_id), ("Customer", invoice.user_id), ("Date", invoice.created_at)):
        pdf.cell(0, 6, _latin1(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (80, 25, 35, 40)
    pdf.set_font("Helvetica", "B", 10)
    for width, heading in zip(widths, ("Item", "Qty", "Unit price", "Amount"), strict=True):
        pdf.cell(width, 8, heading, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", size=10)
    for line in invoice.lines:
        cells = (_latin1(line.name), str(line.quantity), f"{line.unit_price:.2f}", f"{line.amount:.2f}")
        for width, text in zip(widths, cells, strict=True):
            pdf.cell(width, 8, text, border=1)
        pdf.ln()
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(sum(widths[:3]), 9, "Total", border=1)
    pdf.cell(widths[3], 9, f"{invoice.total:.2f}", border=1)
    return bytes(pdf.output())
