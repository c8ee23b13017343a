"""Tables of the auth domain: bureaus and users."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bordercheck.db import Base


class Role(StrEnum):
    ADMIN = "admin"
    BUREAU_OFFICER = "bureau_officer"
    BORDER_OFFICER = "border_officer"
    ANALYST = "analyst"
    TRAINER = "trainer"


class Bureau(Base):
    """A national bureau; it owns the records its country issued. The secretariat is one too."""

    __tablename__ = "bureaus"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    country_code: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_secretariat: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    users: Mapped[list[User]] = relationship(back_populates="bureau")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    bureau_id: Mapped[int] = mapped_column(ForeignKey("bureaus.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    bureau: Mapped[Bureau] = relationship(back_populates="users")
