"""What the simulated providers received, deduplicated by key the way real providers do."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, UtcText

PROVIDERS = ("email", "pdf", "inventory", "payment")


class ProviderDelivery(Base):
    __tablename__ = "provider_deliveries"
    __table_args__ = (
        UniqueConstraint("provider", "idempotency_key"),
        CheckConstraint(f"provider IN {PROVIDERS!r}", name="provider_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    delivered_at: Mapped[datetime] = mapped_column(UtcText)
    # Calls after the first with the same key: the provider deduplicated them.
    repeat_calls: Mapped[int] = mapped_column(Integer, server_default=text("0"))
