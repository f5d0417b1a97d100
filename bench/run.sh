#!/usr/bin/env bash
# Load benchmark of the catalogue pages against a floor, with Debian's `wrk`.
#
#   bash bench/run.sh                          # from the repo root; SQLite in a temp dir
#
# 1. Makes a throwaway instance dir (mktemp -d) and, unless DATABASE_URL is given, a SQLite
#    database in it; migrates it with Alembic (shop.migrate) and bulk-seeds 10,000 products
#    x 6 variants (bench/seed_bulk.py).
# 2. Serves the shop (wsgi:app, SHOP_ENV=production, random SECRET_KEY) and the floor
#    (bench/floor.py: the listing template rendered from memory, no database) with
#    gunicorn, 2 sync workers each, on free ports of 127.0.0.1.
# 3. For the floor, /products, /products?q=<word>, /products/<slug> and the floor again, one
#    after another: a warm-up, a pause, then `wrk -t2 -c16 -d10s --latency`. Pages are
#    compared with the floor's mean; the two floor runs show whether the machine drifted.
# 4. Prints page | req/s | p50 ms | p99 ms | % of floor and the targets (listing and product
#    page >= 50 % of the floor's req/s, search >= 35 %, p99 < 100 ms), and writes the same as
#    markdown and JSON to bench/results/ (gitignored). Servers and temp dir go on exit.
#
# Environment:
#   BENCH_DURATION=10      seconds per measured page (1-300)
#   BENCH_WARMUP=2         seconds of warm-up before each measured page (0-60)
#   BENCH_CONNECTIONS=16   wrk connections;  BENCH_THREADS=2  wrk threads
#   BENCH_WORKERS=2        gunicorn workers per server
#   BENCH_PRODUCTS=10000   products to seed
#   BENCH_QUERY=blazer     the search word (~2.8 % of the seeded products)
#   BENCH_STRICT=1         exit 1 when a target is missed (errors always exit 1)
#   DATABASE_URL=postgresql://...   benchmark on that database instead of SQLite. It is
#       WIPED (PostgreSQL: DROP SCHEMA public CASCADE) and filled with the benchmark
#       catalogue, so it also needs BENCH_ALLOW_WIPE=1. Never use a database you want to keep.
#
# wrk is installed with `apt-get install -y wrk` when missing (needs root or sudo).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
GUNICORN="$VENV/bin/gunicorn"

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
THREADS=${BENCH_THREADS:-2}
WORKERS=${BENCH_WORKERS:-2}
PRODUCTS=${BENCH_PRODUCTS:-10000}
QUERY=${BENCH_QUERY:-blazer}
STRICT=${BENCH_STRICT:-0}
DRAIN=2 # seconds between wrk runs, for the servers to finish abandoned requests

die() { echo "bench: $*" >&2; exit 2; }
in_range() { [[ $1 =~ ^[0-9]+$ ]] && ((10#$1 >= $2 && 10#$1 <= $3)); }

in_range "$DURATION" 1 300 || die "BENCH_DURATION must be 1-300 seconds, not '$DURATION'"
in_range "$WARMUP" 0 60 || die "BENCH_WARMUP must be 0-60 seconds, not '$WARMUP'"
in_range "$CONNECTIONS" 1 1000 || die "BENCH_CONNECTIONS must be 1-1000"
in_range "$THREADS" 1 64 || die "BENCH_THREADS must be 1-64"
((THREADS <= CONNECTIONS)) || die "BENCH_THREADS must not exceed BENCH_CONNECTIONS"
in_range "$WORKERS" 1 64 || die "BENCH_WORKERS must be 1-64"
in_range "$PRODUCTS" 1 1000000 || die "BENCH_PRODUCTS must be 1-1000000"
[[ $QUERY =~ ^[[:alnum:]-]+$ ]] || die "BENCH_QUERY must be one plain word, not '$QUERY'"
[[ -x $PY && -x $GUNICORN ]] || die "no virtualenv with gunicorn at $VENV"

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

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop_servers
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -n ${DATABASE_URL:-} ]]; then
    [[ ${BENCH_ALLOW_WIPE:-} == 1 ]] || die "DATABASE_URL is set: that database would be \
WIPED and refilled with the benchmark catalogue. Re-run with BENCH_ALLOW_WIPE=1 to confirm, \
or unset DATABASE_URL to benchmark on a throwaway SQLite file."
    DB_URL=$DATABASE_URL
else
    DB_URL="sqlite:///$WORK/instance/bench.sqlite3"
fi
mkdir -p "$WORK/instance"

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_until_up() { # name pid url log
    local tries
    for tries in $(seq 1 150); do
        curl -fsS -o /dev/null --max-time 2 "$3" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || { cat "$4" >&2; die "$1 server exited"; }
        sleep 0.2
    done
    cat "$4" >&2
    die "$1 server did not answer $3 within 30 s"
}

echo "== seeding $PRODUCTS products ($( [[ -n ${DATABASE_URL:-} ]] && echo "DATABASE_URL, wiped" || echo "SQLite in $WORK"))"
DATABASE_URL="$DB_URL" "$PY" "$ROOT/bench/seed_bulk.py" --reset \
    --products "$PRODUCTS" --query "$QUERY" --summary "$WORK/seed.json"
read -r ACTIVE SLUG < <("$PY" -c 'import json, sys; s = json.load(open(sys.argv[1]))
print(s["active_products"], s["product_slug"])' "$WORK/seed.json")

APP_PORT=$(free_port)
FLOOR_PORT=$(free_port)
while [[ $FLOOR_PORT == "$APP_PORT" ]]; do FLOOR_PORT=$(free_port); done
SECRET=$("$PY" -c 'import secrets; print(secrets.token_hex(32))')

echo "== starting gunicorn: shop on 127.0.0.1:$APP_PORT, floor on 127.0.0.1:$FLOOR_PORT ($WORKERS workers each)"
(
    cd "$ROOT"
    # Production settings checks: a shop address, shared limits and (unused) Stripe keys.
    exec env SHOP_ENV=production SECRET_KEY="$SECRET" SHOP_INSTANCE_PATH="$WORK/instance" \
        SHOP_BASE_URL="http://127.0.0.1:$APP_PORT" REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/14}" \
        STRIPE_SECRET_KEY=sk_test_bench STRIPE_PUBLISHABLE_KEY=pk_test_bench \
        STRIPE_WEBHOOK_SECRET=whsec_bench \
        DATABASE_URL="$DB_URL" "$GUNICORN" -w "$WORKERS" -b "127.0.0.1:$APP_PORT" \
        --worker-class sync --threads 1 --access-logfile /dev/null --log-level warning \
        --error-logfile "$WORK/shop.log" wsgi:app
) &
PIDS+=($!)
(
    cd "$ROOT"
    exec env SECRET_KEY="$SECRET" FLOOR_TOTAL="$ACTIVE" "$GUNICORN" -w "$WORKERS" \
        -b "127.0.0.1:$FLOOR_PORT" --pythonpath "$ROOT/bench" \
        --worker-class sync --threads 1 --access-logfile /dev/null --log-level warning \
        --error-logfile "$WORK/floor.log" floor:app
) &
PIDS+=($!)

APP="http://127.0.0.1:$APP_PORT"
FLOOR="http://127.0.0.1:$FLOOR_PORT"
wait_until_up shop "${PIDS[0]}" "$APP/healthz" "$WORK/shop.log"
wait_until_up floor "${PIDS[1]}" "$FLOOR/products" "$WORK/floor.log"

# The floor is measured first and last: the pages are compared with the mean of both, and
# a difference between the two shows the machine's speed drifted during the run.
NAMES=(floor listing search product floor-end)
URLS=("$FLOOR/products" "$APP/products" "$APP/products?q=$QUERY" "$APP/products/$SLUG" "$FLOOR/products")

for i in "${!NAMES[@]}"; do # every page must render before it is measured
    status=$(curl -sS -o "$WORK/${NAMES[i]}.html" -w '%{http_code}' --max-time 10 "${URLS[i]}")
    [[ $status == 200 ]] || die "${URLS[i]} answered $status"
done
grep -q 'data-testid="product-card"' "$WORK/search.html" || die "q=$QUERY found no product"

# wrk abandons its in-flight requests when it stops, and the sync workers still answer
# them: without a pause, the next run would start behind up to CONNECTIONS stale requests
# of the previous page. So each page gets its own warm-up, then a pause to drain, then wrk.
: >"$WORK/runs.tsv"
for i in "${!NAMES[@]}"; do
    if ((WARMUP > 0)); then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "${URLS[i]}" >/dev/null
    fi
    sleep "$DRAIN"
    echo "== wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency ${URLS[i]}"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency "${URLS[i]}" \
        | tee "$WORK/wrk-${NAMES[i]}.txt"
    printf '%s\t%s\t%s\n' "${NAMES[i]}" "${URLS[i]}" "$WORK/wrk-${NAMES[i]}.txt" >>"$WORK/runs.tsv"
    sleep "$DRAIN"
done

DATABASE_URL="$DB_URL" "$PY" - "$WORK/meta.json" "$DURATION" "$CONNECTIONS" "$THREADS" "$WORKERS" <<'EOF'
import json, os, platform, subprocess, sys
import sqlalchemy as sa
path, duration, connections, threads, workers = sys.argv[1:]
url = os.environ["DATABASE_URL"]
wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()
meta = {
    "database": sa.engine.make_url(url).get_backend_name(),
    "duration_s": int(duration),
    "connections": int(connections),
    "wrk_threads": int(threads),
    "gunicorn_workers": int(workers),
    "cpus": os.cpu_count(),
    "python": platform.python_version(),
    "wrk": wrk[1] if len(wrk) > 1 else "?",
}
with open(path, "w") as file:
    json.dump(meta, file)
EOF

echo
echo "== results ($PRODUCTS products, $CONNECTIONS connections, ${DURATION}s per page)"
STRICT_FLAG=()
[[ $STRICT == 1 ]] && STRICT_FLAG=(--strict)
"$PY" "$ROOT/bench/report.py" --manifest "$WORK/runs.tsv" --meta "$WORK/meta.json" \
    --seed "$WORK/seed.json" --out "$ROOT/bench/results" "${STRICT_FLAG[@]}"
