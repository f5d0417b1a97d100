"""``flask --app wsgi ...`` commands. Each command is a boundary: it commits once."""

import click
import sqlalchemy as sa
from alembic import command
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from shop import migrate
from shop.db import get_session

db_group = AppGroup("db", help="Database migrations (Alembic).")


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str):
    """Migrate the database up to REVISION (default: head)."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database migrated to {revision}.")


@db_group.command("downgrade")
@click.argument("revision", default="-1")
def db_downgrade(revision: str):
    """Migrate the database down to REVISION (default: one step)."""
    migrate.downgrade(current_app.config["DATABASE_URL"], revision)


@db_group.command("current")
def db_current():
    """Show the revision the database is at."""
    command.current(migrate.alembic_config(current_app.config["DATABASE_URL"]))


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True)
def db_revision(message: str, autogenerate: bool):
    """Write a new migration script; read and name it before committing."""
    config = migrate.alembic_config(current_app.config["DATABASE_URL"])
    command.revision(config, message=message, autogenerate=autogenerate)


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing if the catalogue has any product.")
def seed_demo_command(if_empty: bool):
    """Load the demo catalogue (idempotent: running it twice changes nothing)."""
    from shop.catalog.models import Product
    from shop.catalog.seed import seed_demo

    session = get_session()
    if if_empty and session.scalar(sa.select(sa.func.count(Product.id))):
        click.echo("The catalogue already has products; demo not loaded.")
        return
    report = seed_demo(
        session,
        current_app.config["UPLOAD_FOLDER"],
        image_size=current_app.config["DEMO_IMAGE_SIZE"],
    )
    session.commit()
    click.echo(report)


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(seed_demo_command)
