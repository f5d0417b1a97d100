"""``seed-demo`` is idempotent in every table, with or without ``--if-empty``; its
accounts cover every role."""

import sqlalchemy as sa

from shop.accounts.permissions import ROLES
from shop.demo.accounts import ACCOUNTS


def table_counts(app) -> dict[str, int]:
    with app.extensions["sa_engine"].connect() as connection:
        return {
            name: connection.scalar(sa.select(sa.func.count()).select_from(sa.table(name)))
            for name in sa.inspect(connection).get_table_names()
        }


def test_seeding_twice_changes_no_table(make_app):
    app = make_app(DEMO_IMAGE_SIZE=64)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    seeded = table_counts(app)
    assert seeded["product"] >= 40 and seeded["school"] == 3 and seeded["shop_order"] > 0

    second = runner.invoke(args=["seed-demo"])

    assert second.exit_code == 0, second.output
    assert table_counts(app) == seeded


def test_seeding_if_empty_twice_changes_no_table(make_app):
    app = make_app(DEMO_IMAGE_SIZE=64)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    seeded = table_counts(app)
    assert seeded["product"] >= 40 and seeded["school"] == 3

    second = runner.invoke(args=["seed-demo", "--if-empty"])

    assert second.exit_code == 0, second.output
    assert "already has products" in second.output
    assert table_counts(app) == seeded


def test_there_is_a_demo_account_for_every_role():
    assert sorted(account.role for account in ACCOUNTS) == sorted(ROLES)
    assert len({account.email for account in ACCOUNTS}) == len(ACCOUNTS)
