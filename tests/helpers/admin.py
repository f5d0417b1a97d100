"""The admin pages' helpers: who may sign in, audit rows, fresh rows, field errors and the
forms' data."""

import re

import sqlalchemy as sa

from shop.audit.models import AuditEntry
from tests.accounts.helpers import login, make_user

STAFF_ROLES = ("owner", "manager", "warehouse", "service", "workshop")
EVERYONE = (*STAFF_ROLES, "customer", "anonymous")
MAY_MANAGE_CATALOG = {"owner", "manager"}


def become(role, client, sign_in, session):
    if role == "anonymous":
        return None
    if role == "customer":
        make_user(session, email="someone@example.com", role="customer")
        assert login(client, email="someone@example.com").status_code == 302
        return None
    return sign_in(role)


def audits(session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    ).all()


def fresh(session, model, id_):
    session.expire_all()
    return session.get(model, id_)


def errors_in(page: str) -> str:
    return " ".join(re.findall(r'data-testid="field-error"[^>]*>(.*?)</', page, re.S))


def product_data(category, **overrides) -> dict:
    data = {
        "name": "Summer polo",
        "name_zh": "夏季校服短袖",
        "name_ja": "",
        "slug": "summer-polo",
        "category_id": str(category.id),
        "description": "Cotton pique.",
        "min_order_quantity": "1",
        "order_increment": "1",
        "lead_time_days": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def category_data(category=None, **overrides) -> dict:
    values = {
        "name": category.name if category else "Shirts",
        "slug": category.slug if category else "shirts",
        "parent_id": str(category.parent_id or 0) if category else "0",
        "name_zh": "",
        "name_ja": "",
    }
    values.update(overrides)
    return values


def school_data(**overrides) -> dict:
    data = {
        "slug": "hangzhou-no-2",
        "name": "Hangzhou No. 2 Primary",
        "name_zh": "杭州第二小学",
        "name_ja": "",
        "city": "Hangzhou",
        "city_zh": "杭州",
        "city_ja": "",
        "country": "cn",
        "currency": "CNY",
        "grades_text": "P1, P2\nP3, P2",
        "delivery_recipient": "School office",
        "delivery_phone": "0571 1234 5678",
        "delivery_region": "Zhejiang",
        "delivery_city": "Hangzhou",
        "delivery_line1": "2 Wensan Road",
        "delivery_line2": "",
        "delivery_postcode": "310000",
        "contact_name": "Ms Chen",
        "contact_email": "bursar@school.example",
        "contact_phone": "138 0000 0000",
        "verified": "y",
        "invoice_terms_days": "30",
        "credit_limit": "50000.50",
        "active": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}
