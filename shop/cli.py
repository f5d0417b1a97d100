"""``flask --app wsgi ...`` commands. Each command is a boundary: it commits once."""

import click
import sqlalchemy as sa
from alembic import command
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from shop import migrate
from shop.accounts.permissions import STAFF_ROLES
from shop.db import get_session
from shop.links import external_url
from shop.pagecache.stores import MemoryStore
from shop.storage import get_storage

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
@click.option(
    "--if-empty",
    is_flag=True,
    help="Do nothing if the catalogue has any product (but add the demo schools if there "
    "are no schools yet).",
)
def seed_demo_command(if_empty: bool):
    """Load the demo catalogue (idempotent: running it twice changes nothing)."""
    from shop.catalog.models import Product
    from shop.demo.accounts import seed_demo_accounts
    from shop.demo.catalogue import seed_demo_catalogue
    from shop.demo.groupbuys import seed_demo_group_buys
    from shop.demo.orders import seed_demo_orders
    from shop.demo.resellers import seed_demo_window
    from shop.demo.schools import seed_demo_schools
    from shop.schools.models import School

    session = get_session()
    storage = get_storage()
    image_size = current_app.config["DEMO_IMAGE_SIZE"]
    if if_empty and session.scalar(sa.select(sa.func.count(Product.id))):
        click.echo("The catalogue already has products; demo not loaded.")
        # A database seeded before schools existed gets the demo schools once.
        if not session.scalar(sa.select(sa.func.count(School.id))):
            schools_report = seed_demo_schools(session, storage, image_size=image_size)
            session.commit()
            click.echo(schools_report)
        # ... and the demo window, once (it finds its own and adds nothing again).
        window_report = seed_demo_window(session)
        group_buys_report = seed_demo_group_buys(session)
        session.commit()
        click.echo(window_report)
        click.echo(group_buys_report)
        return
    report = seed_demo_catalogue(session, storage, image_size=image_size)
    accounts_report = seed_demo_accounts(session)
    orders_report = seed_demo_orders(session)
    schools_report = seed_demo_schools(session, storage, image_size=image_size)
    window_report = seed_demo_window(session)
    group_buys_report = seed_demo_group_buys(session)
    session.commit()
    click.echo(report)
    click.echo(accounts_report)
    click.echo(orders_report)
    click.echo(schools_report)
    click.echo(window_report)
    click.echo(group_buys_report)


@click.command("create-staff")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(STAFF_ROLES))
@click.option("--name", default="")
@with_appcontext
def create_staff_command(email: str, role: str, name: str):
    """Create a staff account (or change its role) and print a set-password link."""
    from shop.accounts import service

    session = get_session()
    try:
        user, created = service.save_staff(session, email=email, role=role, name=name)
    except service.InvalidEmail as error:
        raise click.BadParameter(str(error), param_hint="--email") from None
    link = external_url(
        "accounts.reset_with_token",
        token=service.reset_token(current_app.config["SECRET_KEY"], user),
    )
    session.commit()
    click.echo(f"{'Created' if created else 'Updated'} {user.email} as {role}.")
    click.echo(f"Set-password link (valid for one hour, works once):\n{link}")


@click.command("expire-reservations")
@with_appcontext
def expire_reservations_command():
    """Cancel unpaid orders past their reservation and release their stock, now (the
    scheduler queues the same job every minute).

    One transaction per order, so an order's lock is held only while it is expired."""
    from shop.jobs.periodic import expire_reservations
    from shop.jobs.runner import run_now

    report = run_now(expire_reservations)
    click.echo(f"Cancelled {len(report.cancelled)} unpaid order(s) and released their stock.")
    for number in report.cancelled:
        click.echo(f"  {number}")


@click.command("reconcile-payments")
@click.option(
    "--minutes",
    type=int,
    default=None,
    help="Leave younger payments alone (default: RECONCILE_MIN_AGE_MINUTES, 5).",
)
@with_appcontext
def reconcile_payments_command(minutes: int | None):
    """Ask Stripe about unpaid orders whose payment began a while ago (a lost webhook)
    and cancel PaymentIntents whose order was never written, now (the scheduler queues
    the same job every 5 minutes). Safe to run any time, on any instance, as often as you
    like: everything it applies happens once."""
    from shop.jobs.periodic import reconcile_payments
    from shop.jobs.runner import run_now

    report = run_now(reconcile_payments, minutes)
    for number in report.unanswered:
        click.echo(f"  {number}: Stripe did not answer; next run.")
    click.echo(f"Applied {len(report.applied)} payment(s) a webhook never brought.")
    for line in report.applied:
        click.echo(f"  {line}")
    click.echo(f"Cancelled {len(report.cancelled)} PaymentIntent(s) without an order.")
    for intent_id in report.cancelled:
        click.echo(f"  {intent_id}")


@click.command("approve-commissions")
@with_appcontext
def approve_commissions_command():
    """Approve resellers' pending commission on orders delivered longer ago than the
    return window, now (the scheduler queues the same job every hour). Safe to run any
    time, as often as you like: each line is approved once."""
    from shop.jobs.periodic import approve_commissions
    from shop.jobs.runner import run_now

    approved = run_now(approve_commissions)
    click.echo(f"Approved {approved} commission line(s).")


@click.command("fold-window-visits")
@with_appcontext
def fold_window_visits_command():
    """Move the window visits counted in Redis into the database now (the scheduler queues
    the same job every minute). Safe to run any time, on any instance, at once with
    another: each visit is moved once."""
    from shop.jobs.periodic import fold_window_visits
    from shop.jobs.runner import run_now

    moved = run_now(fold_window_visits)
    click.echo(f"Moved {moved} window visit(s) into the database.")


@click.command("prune-facets")
@with_appcontext
def prune_facets_command():
    """Take the sizes and colours no variant has any more out of the listing's filter
    menus now (the scheduler queues the same job every hour). Safe to run any time, on
    any instance, while variants are written: a value a variant has always stays."""
    from shop.jobs.periodic import prune_facets
    from shop.jobs.runner import run_now

    pruned = run_now(prune_facets)
    click.echo(f"Removed {pruned} size(s) and colour(s) no variant has from the filter menus.")


@click.command("close-campaigns")
@with_appcontext
def close_campaigns_command():
    """Close the group buys past their closing time, and finish closes that stopped
    half-way, now (the scheduler queues the same job every minute). Safe to run any time,
    on any instance, as often as you like: each participant is charged once."""
    from shop.jobs.periodic import close_campaigns
    from shop.jobs.runner import run_now

    report = run_now(close_campaigns)
    click.echo(f"Closed {len(report.closed)} group buy(s).")
    for line in report.closed:
        click.echo(f"  {line}")


@click.command("expire-campaign-places")
@with_appcontext
def expire_campaign_places_command():
    """Let go of group-buy places whose card never came, and of participants who did not
    pay within 48 hours of a failed capture, now (the scheduler queues the same job every
    5 minutes): their places and stock go back."""
    from shop.jobs.periodic import expire_campaign_places
    from shop.jobs.runner import run_now

    report = run_now(expire_campaign_places)
    click.echo(f"Let go of {report.let_go} place(s) never paid for.")
    click.echo(f"{report.lapsed} participant(s) did not pay in time; {report.paid} had paid.")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then stop (tests, one-offs).")
@click.option("--simple", is_flag=True, help="Run jobs in this process instead of a fork each.")
@click.option(
    "--with-scheduler/--without-scheduler",
    default=True,
    show_default=True,
    help="Also run RQ's scheduler, which queues retries whose wait is over.",
)
@with_appcontext
def worker_command(burst: bool, simple: bool, with_scheduler: bool):
    """Run the background jobs (emails, ...) from the Redis queue ``sourcefront``."""
    from shop.jobs.worker import run_worker

    if not current_app.config.get("REDIS_URL"):
        raise click.UsageError(
            "The worker needs REDIS_URL. Without it there is nothing to run: jobs run "
            "in the shop's own process right after the commit."
        )
    run_worker(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        burst=burst,
        simple=simple,
        with_scheduler=with_scheduler,
    )


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Queue expire-reservations every minute and reconcile-payments every 5 minutes
    (SCHEDULE_* settings) until stopped; without REDIS_URL, run them in this process."""
    from shop.jobs.scheduler import run_scheduler

    run_scheduler(current_app._get_current_object())  # type: ignore[attr-defined]


@click.command("clear-page-cache")
@with_appcontext
def clear_page_cache_command():
    """Forget every cached page and version of this database (after restoring a backup or
    changing rows by hand: writes that bypass the shop bump no versions)."""
    store = current_app.extensions.get("page_store")
    if store is None:
        click.echo("The page cache is off (PAGE_CACHE=0): nothing to clear.")
        return
    if isinstance(store, MemoryStore):
        click.echo("Without REDIS_URL each shop process keeps its own cache: restart the shop.")
        return
    store.clear()
    click.echo("Page cache cleared.")


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_staff_command)
    app.cli.add_command(expire_reservations_command)
    app.cli.add_command(reconcile_payments_command)
    app.cli.add_command(approve_commissions_command)
    app.cli.add_command(close_campaigns_command)
    app.cli.add_command(expire_campaign_places_command)
    app.cli.add_command(fold_window_visits_command)
    app.cli.add_command(prune_facets_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(clear_page_cache_command)
