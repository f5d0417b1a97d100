"""Checkout's CPU, two versions of the shop taking turns: the before/after a change needs.

    git worktree add /tmp/before <commit>      # the other version, beside this checkout
    .venv/bin/python bench/checkout_turns.py /tmp/before . [--rounds 24] [--orders 15]

On the machines here the whole machine's speed drifts by tens of percent from minute to
minute (PostgreSQL's CPU for the same orders has gone from 2.8 to 4.9 ms), so two load
runs one after the other compare little. Here each version runs in a long-lived process
of its own (its code imported from its folder; the folder needs its compiled translations,
``make install`` or a copy of ``shop/translations``), both on one PostgreSQL database and
localstripe each, and they take turns: ``--orders`` orders by one, as many by the other,
``--rounds`` times, the first to go alternating. Each order is ``checkout_load.py``'s
buyer's walk, one request at a time through Flask's test client in that process, with
the production settings; the CPU time of that thread is taken per step. Printed: the
median per step for each version and their ratio. Unchanged steps show the noise left.

DESTRUCTIVE for its database (default ``h3checkout_bench``, as ``checkout_load.py``): it
is wiped and seeded with 2,000 products unless ``--reuse`` finds it seeded by a run before.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import types
from pathlib import Path

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/h3checkout_bench"


def worker(code: Path, url: str, catalogue_file: Path) -> None:
    """One version: read a number of orders per line on stdin, walk them, answer with the
    CPU ms of each step of each order (one JSON line)."""
    sys.path[:0] = [str(code), str(code / "bench")]
    import checkout_load
    from round_trips import RoundTrips

    import shop
    from shop import create_app

    if not Path(shop.__file__).resolve().is_relative_to(code):
        raise SystemExit(f"{code}: imported the shop from {shop.__file__}")
    catalogue = json.loads(catalogue_file.read_text())
    with tempfile.TemporaryDirectory(prefix="checkout-turns-") as tmp:
        work = Path(tmp)
        (work / "instance").mkdir()
        stripe, stripe_base = checkout_load.start_localstripe(work)
        try:
            settings = types.SimpleNamespace(redis_url=checkout_load.REDIS_URL)
            base = checkout_load.COUNT_BASE
            env = checkout_load.shop_environment(settings, work, url, base, stripe_base)
            os.environ.update(env, LOG_LEVEL="WARNING")
            app = create_app()
            counter = RoundTrips(app.extensions["sa_engine"])
            counter.stop_tracing()
            rng = random.Random(os.getpid())
            print("ready", flush=True)
            for line in sys.stdin:
                steps, _ = checkout_load.walk_orders(app, counter, rng, catalogue, int(line))
                times = {name: [row["cpu_ms"] for row in rows] for name, rows in steps.items()}
                print(json.dumps(times), flush=True)
        finally:
            checkout_load.stop([stripe])


def start(code: Path, url: str, catalogue_file: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, __file__, "--worker", str(code), url, str(catalogue_file)],
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise SystemExit(f"{code}: the shop did not start")
    return process


def take_turns(processes: list[subprocess.Popen], rounds: int, orders: int) -> list[dict]:
    """``{step: [CPU ms, ...]}`` for each process."""
    times: list[dict[str, list[float]]] = [{} for _ in processes]
    for round_number in range(rounds):
        order = range(len(processes))
        for index in order if round_number % 2 == 0 else reversed(order):
            process = processes[index]
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(f"{orders}\n")
            process.stdin.flush()
            for step, values in json.loads(process.stdout.readline()).items():
                times[index].setdefault(step, []).extend(values)
    return times


def report(names: list[str], times: list[dict]) -> None:
    print(f"{'step':<10}{names[0]:>12}{names[1]:>12}{'ratio':>8}   (median CPU ms)")
    totals = [0.0, 0.0]
    for step in times[0]:
        medians = [statistics.median(version[step]) for version in times]
        totals = [total + median for total, median in zip(totals, medians, strict=True)]
        print(f"{step:<10}{medians[0]:>12.2f}{medians[1]:>12.2f}{medians[1] / medians[0]:>8.2f}")
    print(f"{'order':<10}{totals[0]:>12.2f}{totals[1]:>12.2f}{totals[1] / totals[0]:>8.2f}")


def main() -> int:
    if sys.argv[1:2] == ["--worker"]:
        worker(Path(sys.argv[2]).resolve(), sys.argv[3], Path(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="the other version's folder")
    parser.add_argument("after", type=Path, help="this version's folder (.)")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--rounds", type=int, default=24)
    parser.add_argument("--orders", type=int, default=15, help="orders per turn")
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded before")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import checkout_load

    folders = [args.before.resolve(), args.after.resolve()]
    with tempfile.TemporaryDirectory(prefix="checkout-turns-") as tmp:
        catalogue_file = Path(tmp) / "catalogue.json"
        kept = Path(tempfile.gettempdir()) / "checkout-turns-catalogue.json"
        if args.reuse and kept.exists():
            catalogue_file.write_text(kept.read_text())
        else:
            checkout_load.ensure_database(args.database_url)
            catalogue = checkout_load.seed(args.database_url, 2000, 300, 0, 3)
            catalogue.pop("start")
            catalogue_file.write_text(json.dumps(catalogue))
            kept.write_text(catalogue_file.read_text())
        processes = [start(folder, args.database_url, catalogue_file) for folder in folders]
        try:
            times = take_turns(processes, args.rounds, args.orders)
        finally:
            for process in processes:
                assert process.stdin is not None
                process.stdin.close()
                process.wait(timeout=60)
    report([folder.name or str(folder) for folder in folders], times)
    return 0


if __name__ == "__main__":
    sys.exit(main())
