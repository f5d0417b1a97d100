"""Accounts: customers and factory staff, and customers' saved addresses."""

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.permissions import STAFF_ROLES
from shop.db import Base, utcnow


class User(UserMixin, Base):
    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20), default="customer")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Customers choose whether "your order entered production" emails are welcome.
    production_updates: Mapped[bool] = mapped_column(default=False)
    # Part of the id in every session and remember-me cookie (``get_id``): bumping it
    # (sign-out, password change or reset, "sign out of all devices") ends them all.
    session_version: Mapped[int] = mapped_column(default=0)

    addresses: Mapped[list["Address"]] = relationship(
        back_populates="user",
        order_by=lambda: Address.id,
        cascade="all, delete-orphan",
    )

    def get_id(self) -> str:
        """Flask-Login's id for the session and remember-me cookies: ``"<id>:<version>"``."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


class Address(Base):
    __tablename__ = "address"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    recipient: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    country: Mapped[str] = mapped_column(sa.String(2))
    region: Mapped[str] = mapped_column(sa.String(120), default="")
    city: Mapped[str] = mapped_column(sa.String(120))
    line1: Mapped[str] = mapped_column(sa.String(200))
    line2: Mapped[str] = mapped_column(sa.String(200), default="")
    postcode: Mapped[str] = mapped_column(sa.String(20), default="")

    user: Mapped[User] = relationship(back_populates="addresses")
