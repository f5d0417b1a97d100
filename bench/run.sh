#!/usr/bin/env bash
# Load benchmark of the shop's pages against a bare-Flask floor, with Debian's `wrk`.
#
#   bash bench/run.sh                                  # the full matrix, ~20-25 min on 2 cores
#   BENCH_SIZES=1000 BENCH_DATABASES=sqlite BENCH_DURATION=2 bash bench/run.sh   # smoke, ~2 min
#
# For every database in BENCH_DATABASES and every catalogue size in BENCH_SIZES (a "set"):
# 1. seeds a fresh database (bench/seed_bulk.py --reset: Alembic migrations, then N products
#    x 6 variants in bulk); SQLite is a file in a throwaway dir (mktemp -d), PostgreSQL a
#    throwaway database this script creates on 127.0.0.1:5432 and drops on exit;
# 2. starts four gunicorn servers (2 sync workers each, free ports of 127.0.0.1):
#    - the bare floor (bench/bare_floor.py: plain Flask, 24 cards from memory) - the 1.0 of
#      every ratio;
#    - the template floor (bench/floor.py: the shop's listing template from memory);
#    - the shop, cached (wsgi:app, SHOP_ENV=production, page cache on, in Redis under its
#      own PAGE_CACHE_NAMESPACE) and uncached (the same with PAGE_CACHE=0);
# 3. measures BENCH_PASSES passes in turn, each pass as warm-up, drain, `wrk --latency` run,
#    drain of:
#      bare floor (start), template floor,
#      cached:   listing, category, product, search, window, cart-add, progress,
#      uncached: listing, category, product, search, window, cart-add, progress,
#      bare floor (end);
#    each run is divided by its own pass's bare floor, and a row's ratio is the median of
#    its passes' ratios (a machine whose speed comes and goes moves one pass, not the row);
#    every run rotates over many URLs with bench/rotate.lua (files written to the temp dir):
#      listing   /products?page=1..20
#      category  /products?category=<each of the 24 categories>&page=1..2
#      product   /products/<50 active products spread over the catalogue>
#      search    /products?q=<each of BENCH_WORDS> (6 single words, incl. 衬衫 and cotton)
#      window    /w/bench (a reseller's window of 48 picks, seeded by seed_bulk.py)
#      cart-add  POST /cart/add (CSRF token + session cookie of a prepared cart; +1 piece of
#                one of a made-to-order product's 6 variants; 303 = success)
#      progress  /g/BENCH/progress.json (a group buy's progress JSON) while
#                bench/campaign_joins.py joins BENCH_JOIN_RATE (10) participants a second
#      floors    /products?page=1..20
# 4. stops the servers, clears the set's cached pages from Redis, drops the SQLite file.
# Then bench/report.py prints one table per set (req/s, p50, p99, ratio to the mean of the
# set's two bare-floor runs, target), the scale ratios (100,000 / 1,000 products) and the
# misses, and writes markdown + JSON to bench/results/ (gitignored).
#
# Environment:
#   BENCH_SIZES="1000 10000 100000"      catalogue sizes (products; 1-1000000 each)
#   BENCH_DATABASES="sqlite postgresql"  which databases
#   BENCH_DURATION=5       seconds per measured run (1-300)
#   BENCH_PASSES=3         passes over every page of a set (1-9); each row is their median
#   BENCH_WARMUP=2         seconds of warm-up before each run (0-60)
#   BENCH_CONNECTIONS=16   wrk connections;  BENCH_THREADS=2  wrk threads
#   BENCH_WORKERS=2        gunicorn workers per server
#   BENCH_WORDS="cotton 衬衫 blazer fleece 防水 ブレザー"   the search words (one word each)
#   BENCH_ROWS="listing category product search window cart-add progress"   the shop's rows
#       to measure, cached and uncached (the floors always run): "search window" re-measures
#       two rows in a fraction of the time
#   BENCH_STRICT=1         exit 1 when a target is missed (failed requests always exit 1)
#   BENCH_REDIS_URL=redis://127.0.0.1:6379/14   the Redis the shop's page cache and rate
#       limits use (production requires one); only this run's namespaces are cleared
#   BENCH_PG_ADMIN_URL=postgresql://postgres@127.0.0.1:5432/postgres   where the throwaway
#       database sourcefront_bench_<pid>_<random> is created (and dropped on exit)
#   BENCH_PG_URL=postgresql://... (or DATABASE_URL)   use that PostgreSQL database instead
#       of a throwaway one. It is WIPED (DROP SCHEMA public CASCADE) and refilled for every
#       size, so it also needs BENCH_ALLOW_WIPE=1. Never use a database you want to keep.
#
# wrk is installed with `apt-get install -y wrk` when missing (needs root or sudo).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
GUNICORN="$VENV/bin/gunicorn"
LUA="$ROOT/bench/rotate.lua"
CONF="$ROOT/deploy/gunicorn.conf.py" # its timeouts; the flags below override the rest

SIZES=${BENCH_SIZES:-${BENCH_PRODUCTS:-1000 10000 100000}}
DATABASES=${BENCH_DATABASES:-sqlite postgresql}
DURATION=${BENCH_DURATION:-5}
PASSES=${BENCH_PASSES:-3}
WARMUP=${BENCH_WARMUP:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
THREADS=${BENCH_THREADS:-2}
WORKERS=${BENCH_WORKERS:-2}
WORDS=${BENCH_WORDS:-cotton 衬衫 blazer fleece 防水 ブレザー}
ALL_ROWS="listing category product search window cart-add progress"
ROWS=${BENCH_ROWS:-$ALL_ROWS}
STRICT=${BENCH_STRICT:-0}
REDIS_URL_=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/14}
PG_ADMIN_URL=${BENCH_PG_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
PG_GIVEN_URL=${BENCH_PG_URL:-${DATABASE_URL:-}}
PAUSE=0.5 # seconds of quiet after a server has drained
JOIN_RATE=${BENCH_JOIN_RATE:-10} # group-buy joins a second during the progress row

die() { echo "bench: $*" >&2; exit 2; }
in_range() { [[ $1 =~ ^[0-9]+$ ]] && ((10#$1 >= $2 && 10#$1 <= $3)); }

in_range "$DURATION" 1 300 || die "BENCH_DURATION must be 1-300 seconds, not '$DURATION'"
in_range "$PASSES" 1 9 || die "BENCH_PASSES must be 1-9, not '$PASSES'"
in_range "$WARMUP" 0 60 || die "BENCH_WARMUP must be 0-60 seconds, not '$WARMUP'"
in_range "$CONNECTIONS" 1 1000 || die "BENCH_CONNECTIONS must be 1-1000"
in_range "$THREADS" 1 64 || die "BENCH_THREADS must be 1-64"
((THREADS <= CONNECTIONS)) || die "BENCH_THREADS must not exceed BENCH_CONNECTIONS"
in_range "$WORKERS" 1 64 || die "BENCH_WORKERS must be 1-64"
read -r -a SIZE_LIST <<<"$SIZES"
read -r -a DB_LIST <<<"$DATABASES"
read -r -a WORD_LIST <<<"$WORDS"
((${#SIZE_LIST[@]} > 0)) || die "BENCH_SIZES is empty"
for size in "${SIZE_LIST[@]}"; do
    in_range "$size" 1 1000000 || die "BENCH_SIZES: each size must be 1-1000000, not '$size'"
done
((${#DB_LIST[@]} > 0)) || die "BENCH_DATABASES is empty"
for db in "${DB_LIST[@]}"; do
    [[ $db == sqlite || $db == postgresql ]] || die "BENCH_DATABASES: sqlite and/or postgresql, not '$db'"
done
((${#WORD_LIST[@]} > 0)) || die "BENCH_WORDS is empty"
for word in "${WORD_LIST[@]}"; do
    [[ $word =~ ^[^[:space:][:punct:]]+$ || $word =~ ^[[:alnum:]-]+$ ]] \
        || die "BENCH_WORDS: one plain word each, not '$word'"
done
read -r -a ROW_LIST <<<"$ROWS"
((${#ROW_LIST[@]} > 0)) || die "BENCH_ROWS is empty"
for row in "${ROW_LIST[@]}"; do
    [[ " $ALL_ROWS " == *" $row "* ]] || die "BENCH_ROWS: some of $ALL_ROWS, not '$row'"
done
[[ -x $PY && -x $GUNICORN ]] || die "no virtualenv with gunicorn at $VENV"
[[ -f $LUA ]] || die "missing $LUA"
command -v curl >/dev/null 2>&1 || die "curl is needed"

if ! command -v wrk >/dev/null 2>&1; then
    echo "bench: installing wrk (apt-get install -y wrk)" >&2
    SUDO=()
    [[ $(id -u) == 0 ]] || SUDO=(sudo)
    "${SUDO[@]}" apt-get install -y wrk || {
        "${SUDO[@]}" apt-get update && "${SUDO[@]}" apt-get install -y wrk
    }
fi

WORK=$(mktemp -d -t sourcefront-bench.XXXXXX)
PIDS=()
PG_OWN_DB=""

# ---------------------------------------------------------------------------------------
# Python helpers (database, Redis and HTTP chores), kept in one file in the temp dir.
cat >"$WORK/helper.py" <<'PYEOF'
"""bench/run.sh's helpers: python helper.py <command> <args...>"""

import http.client
import json
import math
import os
import platform
import re
import subprocess
import sys
import urllib.parse
from http.cookies import SimpleCookie

sys.path[:0] = [os.environ["BENCH_ROOT"], os.path.join(os.environ["BENCH_ROOT"], "bench")]

import sqlalchemy as sa  # noqa: E402

from shop.db import make_engine, normalise_url  # noqa: E402

LISTING_PAGES = 20
CATEGORY_PAGES = 2
PRODUCT_SLUGS = 50
WINDOW_PATH = "/w/bench"  # seed_bulk.WINDOW_HANDLE
WINDOW_PICKS = 48  # seed_bulk.WINDOW_PICKS: the window page must show them all
PROGRESS_PATH = "/g/BENCH/progress.json"  # campaign_joins.PATH
CART_MAX_LINE = 9_999  # shop.cart.rules.MAX_QUANTITY


def fail(message):
    print(f"bench: {message}", file=sys.stderr)
    sys.exit(2)


def check_redis(url):
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        fail(f"Redis at {url} does not answer ({error}); start it or set BENCH_REDIS_URL")


def pg(action, admin_url, name):
    if not re.fullmatch(r"sourcefront_bench_[a-z0-9_]+", name):
        fail(f"refusing to {action} database {name!r}: not a benchmark database name")
    engine = sa.create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if action == "create":
                exists = connection.scalar(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                )
                if exists:
                    fail(f"database {name} already exists; not touching it")
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            else:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except sa.exc.OperationalError as error:
        fail(f"PostgreSQL at {admin_url} does not answer: {error.orig}")
    finally:
        engine.dispose()


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")


def prep(db_url, out, *words):
    """The URL lists each run rotates over, and the product the cart adds go to."""
    engine = make_engine(db_url)
    with engine.connect() as connection:
        slugs = connection.scalars(
            sa.text(
                "SELECT slug FROM product WHERE active AND school_id IS NULL ORDER BY id"
            )
        ).all()
        categories = connection.scalars(sa.text("SELECT slug FROM category ORDER BY id")).all()
        made_to_order = connection.execute(
            sa.text(
                "SELECT p.id, p.slug FROM product p WHERE p.active AND p.made_to_order"
                " AND p.school_id IS NULL AND (SELECT count(*) FROM variant v"
                " WHERE v.product_id = p.id AND v.for_sale) >= 6 ORDER BY p.id LIMIT 1"
            )
        ).first()
        if made_to_order is None:
            fail("no active made-to-order product with 6 variants for the cart adds")
        variants = connection.scalars(
            sa.text("SELECT id FROM variant WHERE product_id = :p AND for_sale ORDER BY id"),
            {"p": made_to_order.id},
        ).all()[:6]
    engine.dispose()
    if not slugs or not categories:
        fail("the seeded catalogue has no active products or no categories")
    step = max(len(slugs) // PRODUCT_SLUGS, 1)
    sample = slugs[step // 2 :: step][:PRODUCT_SLUGS]
    pages = [f"/products?page={n}" for n in range(1, LISTING_PAGES + 1)]
    write_lines(f"{out}/listing.txt", pages)
    write_lines(f"{out}/floor.txt", pages)
    write_lines(
        f"{out}/category.txt",
        [
            f"/products?category={slug}&page={n}"
            for n in range(1, CATEGORY_PAGES + 1)
            for slug in categories
        ],
    )
    write_lines(f"{out}/product.txt", [f"/products/{slug}" for slug in sample])
    write_lines(f"{out}/window.txt", [WINDOW_PATH])
    write_lines(f"{out}/progress.txt", [PROGRESS_PATH])
    write_lines(
        f"{out}/search.txt", [f"/products?q={urllib.parse.quote(word)}" for word in words]
    )
    with open(f"{out}/cart.json", "w", encoding="utf-8") as file:
        json.dump({"slug": made_to_order.slug, "variants": variants}, file)
    print(
        f"{len(pages)} listing pages, {len(categories) * CATEGORY_PAGES} category pages, "
        f"{len(sample)} product pages, {len(words)} searches; cart adds to "
        f"{made_to_order.slug} ({len(variants)} variants)"
    )


class Client:
    """One visitor: a keep-alive-less HTTP client that keeps the ``session`` cookie (which
    production marks Secure, so a cookie jar would not send it back over plain http)."""

    def __init__(self, base):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.session = None

    def request(self, method, path, body=None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"Cookie": f"session={self.session}"} if self.session else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(body)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            if "session" in cookie:
                self.session = cookie["session"].value or None
        connection.close()
        return response.status, response.getheader("Location"), text


def token_of(html):
    match = re.search(r'name="csrf_token"[^>]*\svalue="([^"]+)"', html)
    if not match:
        fail("no csrf_token field on the page")
    return match[1]


def window_check(base):
    """The seeded window answers with all its picks as product cards."""
    status, _, html = Client(base).request("GET", WINDOW_PATH)
    if status != 200:
        fail(f"{base}{WINDOW_PATH} answered {status}")
    shown = html.count('data-testid="product-card"')
    if shown != WINDOW_PICKS:
        fail(f"{base}{WINDOW_PATH} shows {shown} products, not {WINDOW_PICKS}")


def token_check(base, path):
    """Two new visitors of a (cached) page must get different CSRF tokens."""
    tokens = set()
    for _ in range(2):
        status, _, html = Client(base).request("GET", path)
        if status != 200:
            fail(f"GET {path} answered {status}")
        tokens.update(re.findall(r'name="csrf_token"[^>]*\svalue="([^"]+)"', html))
    if len(tokens) < 2:
        print(
            f"bench: WARNING: two new visitors of {base}{path} got the same CSRF token: the "
            "page cache stores one visitor's token (their cart adds from it fail with 400)",
            file=sys.stderr,
        )


def sessions(base, cart_json, count, out):
    """``count`` visitors, each with a cart of one line per variant; writes one POST line
    per (variant, visitor) for rotate.lua: +1 piece of that variant to that cart."""
    with open(cart_json, encoding="utf-8") as file:
        cart = json.load(file)
    product_path = f"/products/{cart['slug']}"
    lines_by_variant = {variant: [] for variant in cart["variants"]}
    for _ in range(int(count)):
        # The token and session come from the cart page, which is never cached.
        visitor = Client(base)
        status, _, html = visitor.request("GET", "/cart")
        if status != 200:
            fail(f"GET /cart answered {status}")
        token = token_of(html)
        grid = {f"qty-{variant}": "1" for variant in cart["variants"]}
        status, _, _ = visitor.request(
            "POST", "/cart/add", {"csrf_token": token, "next": "/cart", **grid}
        )
        if status != 303:
            fail(f"POST /cart/add answered {status}, not 303")
        status, _, html = visitor.request("GET", "/cart")  # shows (and so clears) the flash
        if status != 200 or "Added 6 pieces" not in html:
            fail(f"the prepared cart did not get its 6 pieces (GET /cart: {status})")
        if not visitor.session:
            fail("no session cookie")
        for variant in cart["variants"]:
            body = urllib.parse.urlencode(
                {"csrf_token": token, "variant_id": variant, "quantity": 1, "next": product_path}
            )
            lines_by_variant[variant].append(f"POST\t/cart/add\tsession={visitor.session}\t{body}")
    # One add through the very request wrk will send must succeed, not flash an error.
    check = Client(base)
    first = lines_by_variant[cart["variants"][0]][0].split("\t")
    check.session = first[2].removeprefix("session=")
    status, location, _ = check.request("POST", "/cart/add", dict(urllib.parse.parse_qsl(first[3])))
    if status != 303 or not location:
        fail(f"a test add answered {status}, not a 303 redirect")
    status, _, html = check.request("GET", urllib.parse.urlsplit(location).path)
    if "Added 1 piece" not in html:
        fail("a test add was refused (no 'Added 1 piece' message); see the shop's log")
    # Consecutive requests go to different carts.
    write_lines(out, [line for lines in lines_by_variant.values() for line in lines])


def precheck(folder, bare, floor, cached, uncached):
    """Every page kind must answer 200 on its server before it is measured (the first,
    middle and last URL of each list), and every search must find products."""

    def check(base, name, need_cards=False):
        with open(f"{folder}/{name}.txt", encoding="utf-8") as file:
            paths = [line for line in file.read().splitlines() if line]
        if not need_cards:
            paths = sorted({paths[0], paths[len(paths) // 2], paths[-1]}, key=paths.index)
        visitor = Client(base)
        for path in paths:
            status, _, html = visitor.request("GET", path)
            if status != 200:
                fail(f"{base}{path} answered {status}")
            if need_cards and 'data-testid="product-card"' not in html:
                fail(f"{base}{path} found no product")

    check(bare, "floor")
    check(floor, "floor")
    for base in (cached, uncached):
        for name in ("listing", "category", "product"):
            check(base, name)
        check(base, "search", need_cards=True)
        window_check(base)
        status, _, _ = Client(base).request("GET", PROGRESS_PATH)
        if status != 200:
            fail(f"{base}{PROGRESS_PATH} answered {status}")
    with open(f"{folder}/product.txt", encoding="utf-8") as file:
        token_check(cached, file.readline().strip())


def cart_total(db_url):
    engine = make_engine(db_url)
    with engine.connect() as connection:
        total, largest = connection.execute(
            sa.text("SELECT coalesce(sum(quantity), 0), coalesce(max(quantity), 0) FROM cart_line")
        ).one()
    engine.dispose()
    print(total, largest)


def sessions_needed(seconds, rps_guess=5000):
    """Carts enough that no line nears the 9,999-piece cap in the longest run."""
    adds = int(seconds) * rps_guess
    print(max(8, math.ceil(adds / (6 * (CART_MAX_LINE - 1000)))))


def cache_clear(redis_url, db_url, name):
    import redis

    from shop.pagecache import namespace
    from shop.pagecache.stores import RedisStore

    client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    config = {"DATABASE_URL": db_url, "PAGE_CACHE_NAMESPACE": name}
    RedisStore(client, namespace(config), 0).clear()


def meta(out, *pairs):
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    version = (wrk.stdout + wrk.stderr).split()
    commit = subprocess.run(
        ["git", "-C", os.environ["BENCH_ROOT"], "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    data = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "wrk": version[1] if len(version) > 1 else "?",
        "commit": commit or "?",
    }
    for pair in pairs:
        key, _, value = pair.partition("=")
        data[key] = int(value) if value.isdigit() else value
    with open(out, "w", encoding="utf-8") as file:
        json.dump(data, file)


COMMANDS = {
    "check-redis": check_redis,
    "pg": pg,
    "prep": prep,
    "sessions": sessions,
    "precheck": precheck,
    "cart-total": cart_total,
    "sessions-needed": sessions_needed,
    "cache-clear": cache_clear,
    "meta": meta,
}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](*sys.argv[2:])
PYEOF
helper() { BENCH_ROOT="$ROOT" "$PY" "$WORK/helper.py" "$@"; }

# ---------------------------------------------------------------------------------------
stop_servers() {
    local pid waited
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for waited in $(seq 1 100); do # gunicorn stops its workers, 10 s at most
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}

clear_caches() { # every page-cache namespace this run used (the file lists them)
    local db_url name
    [[ -f $WORK/namespaces.tsv ]] || return 0
    while IFS=$'\t' read -r db_url name; do
        helper cache-clear "$REDIS_URL_" "$db_url" "$name" || echo "bench: could not clear Redis namespace $name" >&2
    done <"$WORK/namespaces.tsv"
    : >"$WORK/namespaces.tsv"
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop_servers
    clear_caches || true
    if [[ -n $PG_OWN_DB ]]; then
        helper pg drop "$PG_ADMIN_URL" "$PG_OWN_DB" || echo "bench: could not drop database $PG_OWN_DB" >&2
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

helper check-redis "$REDIS_URL_"

PG_URL=""
if [[ " ${DB_LIST[*]} " == *" postgresql "* ]]; then
    if [[ -n $PG_GIVEN_URL ]]; then
        [[ $PG_GIVEN_URL =~ ^postgres(ql)?(\+psycopg)?:// ]] || die "BENCH_PG_URL/DATABASE_URL \
is not a PostgreSQL URL. Unset it to benchmark on a throwaway database, or leave postgresql \
out of BENCH_DATABASES."
        [[ ${BENCH_ALLOW_WIPE:-} == 1 ]] || die "BENCH_PG_URL or DATABASE_URL is set: that \
database would be WIPED and refilled with the benchmark catalogue. Re-run with \
BENCH_ALLOW_WIPE=1 to confirm, or unset both to use a throwaway database on 127.0.0.1:5432."
        PG_URL=$PG_GIVEN_URL
    else
        PG_OWN_DB="sourcefront_bench_$$_$("$PY" -c 'import secrets; print(secrets.token_hex(3))')"
        helper pg create "$PG_ADMIN_URL" "$PG_OWN_DB" || {
            PG_OWN_DB=""
            die "could not create a throwaway PostgreSQL database via $PG_ADMIN_URL \
(set BENCH_PG_ADMIN_URL, or BENCH_DATABASES=sqlite)"
        }
        PG_URL="${PG_ADMIN_URL%/*}/$PG_OWN_DB"
    fi
fi

free_ports() { # four distinct free ports
    "$PY" -c 'import socket
sockets = [socket.socket() for _ in range(4)]
for s in sockets: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))'
}

wait_until_up() { # name pid url log
    local tries
    for tries in $(seq 1 300); do
        # Any HTTP answer will do (the probe path is a 404 everywhere).
        [[ $(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "$3" 2>/dev/null) != 000 ]] && return 0
        kill -0 "$2" 2>/dev/null || { cat "$4" >&2; die "$1 server exited"; }
        sleep 0.2
    done
    cat "$4" >&2
    die "$1 server did not answer $3 within 60 s"
}

# A sync worker answers the requests wrk abandoned when it stopped; the next run must not
# start behind them. A probe request queues behind them too: once it answers, all are done.
drain() { # base url
    curl -s -o /dev/null --max-time 120 "$1/bench-drain-probe" || true
    sleep "$PAUSE"
}

start_shop() { # name port page_cache(1/0) namespace db_url
    local name=$1 port=$2 cache=$3 namespace=$4 db_url=$5
    (
        cd "$ROOT"
        # Production settings checks: a shop address, shared limits and (unused) Stripe keys.
        exec env SHOP_ENV=production SECRET_KEY="$SECRET" SHOP_INSTANCE_PATH="$WORK/instance" \
            SHOP_BASE_URL="http://127.0.0.1:$port" REDIS_URL="$REDIS_URL_" \
            PAGE_CACHE="$cache" PAGE_CACHE_NAMESPACE="$namespace" \
            STRIPE_SECRET_KEY=sk_test_bench STRIPE_PUBLISHABLE_KEY=pk_test_bench \
            STRIPE_WEBHOOK_SECRET=whsec_bench \
            DATABASE_URL="$db_url" "$GUNICORN" -c "$CONF" -w "$WORKERS" -b "127.0.0.1:$port" \
            --worker-class sync --threads 1 --max-requests 0 \
            --access-logfile /dev/null --log-level warning \
            --error-logfile "$WORK/$name.log" wsgi:app
    ) &
    PIDS+=($!)
}

start_floor() { # name port module total
    (
        cd "$ROOT"
        exec env SECRET_KEY="$SECRET" FLOOR_TOTAL="$4" "$GUNICORN" -c "$CONF" -w "$WORKERS" \
            -b "127.0.0.1:$2" --pythonpath "$ROOT/bench" \
            --worker-class sync --threads 1 --max-requests 0 \
            --access-logfile /dev/null --log-level warning \
            --error-logfile "$WORK/$1.log" "$3:app"
    ) &
    PIDS+=($!)
}

# measure <set> <pass> <server> <page> <label> <base url> <requests file>
wanted() { [[ " $ROWS " == *" $1 "* ]]; } # a shop's row BENCH_ROWS names

measure() {
    local set=$1 pass=$2 server=$3 page=$4 label=$5 base=$6 requests=$7
    local out="$WORK/$set/wrk-$server-$page-$pass"
    [[ $server == floor ]] || wanted "$page" || return 0
    if ((WARMUP > 0)); then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout 10s -s "$LUA" "$base" \
            -- "$requests" >"$out.warmup.txt"
    fi
    drain "$base"
    echo "== $(elapsed) $set pass $pass $server $page: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency $label"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency -s "$LUA" \
        "$base" -- "$requests" >"$out.txt"
    grep -E '^\s+(50|99)%|^Requests/sec|Non-2xx|Socket errors' "$out.txt" | tr -s ' ' | tr '\n' ';' \
        | sed 's/^/   /; s/;$/\n/' || true
    drain "$base"
    local db=${set%%-*} size=${set#*-}
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$db" "$size" "$server" "$page" "$label" "$out.txt" \
        "$pass" >>"$WORK/runs.tsv"
}

# measure_pass <set> <pass> <database url> <bare> <floor> <cached> <uncached> <words label>
measure_pass() {
    local set=$1 pass=$2 db_url=$3 bare=$4 floor=$5 cached=$6 uncached=$7 words=$8 base server joiner
    measure "$set" "$pass" floor bare-floor-start "/products?page=1..20 (bench/bare_floor.py)" "$bare" "$WORK/$set/floor.txt"
    measure "$set" "$pass" floor template-floor "/products?page=1..20 (bench/floor.py)" "$floor" "$WORK/$set/floor.txt"
    for server in cached uncached; do
        [[ $server == cached ]] && base=$cached || base=$uncached
        measure "$set" "$pass" "$server" listing "/products?page=1..20" "$base" "$WORK/$set/listing.txt"
        measure "$set" "$pass" "$server" category "/products?category=<$(grep -c . "$WORK/$set/category.txt") category pages>" \
            "$base" "$WORK/$set/category.txt"
        measure "$set" "$pass" "$server" product "/products/<$(grep -c . "$WORK/$set/product.txt") slugs>" \
            "$base" "$WORK/$set/product.txt"
        measure "$set" "$pass" "$server" search "/products?q=$words" "$base" "$WORK/$set/search.txt"
        measure "$set" "$pass" "$server" window "/w/bench (48 picks)" "$base" "$WORK/$set/window.txt"
        measure "$set" "$pass" "$server" cart-add "POST /cart/add ($CARTS carts x 6 lines)" "$base" \
            "$WORK/$set/cart-$server.txt"
        # A group buy's progress JSON while participants join (bench/campaign_joins.py,
        # JOIN_RATE a second, each a commit that bumps the campaign's version).
        wanted progress || continue
        DATABASE_URL="$db_url" "$PY" "$ROOT/bench/campaign_joins.py" --rate "$JOIN_RATE" \
            >>"$WORK/$set/joins-$server.log" 2>&1 &
        joiner=$!
        measure "$set" "$pass" "$server" progress "/g/BENCH/progress.json (+$JOIN_RATE joins/s)" "$base" \
            "$WORK/$set/progress.txt"
        kill "$joiner" 2>/dev/null || true
        wait "$joiner" 2>/dev/null || true
        echo "   $(tail -n 1 "$WORK/$set/joins-$server.log")"
    done
    measure "$set" "$pass" floor bare-floor-end "/products?page=1..20 (bench/bare_floor.py)" "$bare" "$WORK/$set/floor.txt"
}

run_set() { # database size
    local db=$1 size=$2 set="$1-$2" db_url started seed_started seeded
    started=$(date +%s)
    mkdir -p "$WORK/$set" "$WORK/instance"
    if [[ $db == sqlite ]]; then
        db_url="sqlite:///$WORK/$set/bench.sqlite3"
    else
        db_url=$PG_URL
    fi

    echo
    echo "=== $(elapsed) $db, $size products: seeding"
    seed_started=$(date +%s.%N)
    DATABASE_URL="$db_url" "$PY" "$ROOT/bench/seed_bulk.py" --reset --products "$size" \
        --query blazer --summary "$WORK/$set/seed.json"
    seeded=$(date +%s.%N)
    local active
    active=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["active_products"])' \
        "$WORK/$set/seed.json")
    helper prep "$db_url" "$WORK/$set" "${WORD_LIST[@]}"
    DATABASE_URL="$db_url" "$PY" "$ROOT/bench/campaign_joins.py" --seed

    local ports bare_port floor_port cached_port uncached_port namespace
    read -r bare_port floor_port cached_port uncached_port < <(free_ports)
    namespace="bench-$RUN_ID-$set"
    printf '%s\t%s\n' "$db_url" "$namespace" >>"$WORK/namespaces.tsv"
    echo "== $(elapsed) gunicorn ($WORKERS sync workers each): bare floor :$bare_port, template floor" \
        ":$floor_port, shop cached :$cached_port, shop uncached (PAGE_CACHE=0) :$uncached_port"
    start_floor bare-floor "$bare_port" bare_floor "$active"
    start_floor template-floor "$floor_port" floor "$active"
    start_shop shop-cached "$cached_port" 1 "$namespace" "$db_url"
    start_shop shop-uncached "$uncached_port" 0 "" "$db_url"
    local bare="http://127.0.0.1:$bare_port" floor="http://127.0.0.1:$floor_port"
    local cached="http://127.0.0.1:$cached_port" uncached="http://127.0.0.1:$uncached_port"
    wait_until_up "bare floor" "${PIDS[0]}" "$bare/bench-drain-probe" "$WORK/bare-floor.log"
    wait_until_up "template floor" "${PIDS[1]}" "$floor/bench-drain-probe" "$WORK/template-floor.log"
    wait_until_up "shop (cached)" "${PIDS[2]}" "$cached/bench-drain-probe" "$WORK/shop-cached.log"
    wait_until_up "shop (uncached)" "${PIDS[3]}" "$uncached/bench-drain-probe" "$WORK/shop-uncached.log"

    # Every kind of page must render before it is measured, every search must find
    # products, and each shop gets its own prepared carts.
    echo "== $(elapsed) servers up; checking pages, preparing $CARTS carts per shop"
    local base
    helper precheck "$WORK/$set" "$bare" "$floor" "$cached" "$uncached"
    helper sessions "$cached" "$WORK/$set/cart.json" "$CARTS" "$WORK/$set/cart-cached.txt"
    helper sessions "$uncached" "$WORK/$set/cart.json" "$CARTS" "$WORK/$set/cart-uncached.txt"
    local carts_before
    carts_before=$(helper cart-total "$db_url")

    local words_label pass
    words_label=$(printf '%s|' "${WORD_LIST[@]}")
    for pass in $(seq 1 "$PASSES"); do
        measure_pass "$set" "$pass" "$db_url" "$bare" "$floor" "$cached" "$uncached" "${words_label%|}"
    done

    # The cart adds were real: the carts grew by about as many pieces as wrk got answers.
    local carts_after answered
    if wanted cart-add; then
        carts_after=$(helper cart-total "$db_url")
        answered=$(cat "$WORK/$set"/wrk-*-cart-add-*.txt 2>/dev/null \
            | awk '/requests in/ {n += $1} END {print n + 0}')
        echo "== cart adds: $answered answered, carts grew by $((${carts_after% *} - ${carts_before% *})) pieces" \
            "(largest line ${carts_after#* } of 9,999)"
        if ((${carts_after% *} - ${carts_before% *} < answered / 2)); then
            echo "bench: WARNING: the carts grew by less than half the adds wrk counted: adds were refused" >&2
        fi
    fi

    stop_servers
    clear_caches
    [[ $db == sqlite ]] && rm -f "$WORK/$set"/bench.sqlite3*
    local finished
    finished=$(date +%s)
    printf '%s\t%s\t%s\t%s\t%s\n' "$db" "$size" "$WORK/$set/seed.json" \
        "$(awk -v a="$seed_started" -v b="$seeded" 'BEGIN {printf "%.1f", b - a}')" \
        "$((finished - started))" >>"$WORK/sets.tsv"
    echo "=== $(elapsed) $db, $size products: done in $((finished - started)) s"
}

RUN_ID=$("$PY" -c 'import secrets; print(secrets.token_hex(4))')
SECRET=$("$PY" -c 'import secrets; print(secrets.token_hex(32))')
CARTS=$(helper sessions-needed "$((PASSES * (DURATION + WARMUP)))")
: >"$WORK/runs.tsv"
: >"$WORK/sets.tsv"
: >"$WORK/namespaces.tsv"
RUN_STARTED=$(date +%s)
elapsed() { printf '[%4ds]' "$(($(date +%s) - RUN_STARTED))"; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
echo "bench: ${#DB_LIST[@]} database(s) x ${#SIZE_LIST[@]} size(s): ${DB_LIST[*]} x ${SIZE_LIST[*]};" \
    "$PASSES pass(es) of ${DURATION}s per run after ${WARMUP}s of warm-up; $CONNECTIONS connections; load $LOAD_BEFORE"

for db in "${DB_LIST[@]}"; do
    for size in "${SIZE_LIST[@]}"; do
        run_set "$db" "$size"
    done
done

helper meta "$WORK/meta.json" "passes=$PASSES" "duration_s=$DURATION" "warmup_s=$WARMUP" \
    "connections=$CONNECTIONS" "wrk_threads=$THREADS" "gunicorn_workers=$WORKERS" \
    "search_words=${WORDS}" "load_before=$LOAD_BEFORE" \
    "load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")" \
    "total_s=$(($(date +%s) - RUN_STARTED))"

echo
echo "=== results ($PASSES pass(es) of ${DURATION}s per run, $CONNECTIONS connections, $(($(date +%s) - RUN_STARTED)) s in all)"
STRICT_FLAG=()
[[ $STRICT == 1 ]] && STRICT_FLAG=(--strict)
"$PY" "$ROOT/bench/report.py" --manifest "$WORK/runs.tsv" --sets "$WORK/sets.tsv" \
    --meta "$WORK/meta.json" --out "$ROOT/bench/results" "${STRICT_FLAG[@]}"
