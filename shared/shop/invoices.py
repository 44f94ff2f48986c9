"""Where an order's invoice PDF lives in the data directory."""

from __future__ import annotations

from pathlib import Path


def invoice_path(data_dir: Path, order_id: str) -> Path:
    return data_dir / "invoices" / f"{order_id}.pdf"


def invoice_url(order_id: str) -> str:
    return f"/orders/{order_id}/invoice"
