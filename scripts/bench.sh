#!/usr/bin/env bash
# The server benchmark of SPEC §13.1: the API against a raw net/http +
# database/sql floor on the same throw-away MariaDB, on loopback only.
#
#   bash scripts/bench.sh ingest   POST /api/v1/incidents vs the floor's plain INSERT
#   bash scripts/bench.sh read     first page of a township over 1 000 000 incidents vs the same query
#   bash scripts/bench.sh all      both (ingest first, on the empty table; then the bulk load and read)
#   bash scripts/bench.sh index    the monthly recompute of the Ping'an index at city scale (bench/index:
#                                  ~2 000 communities, 1 000 000 incidents, 200 000 disputes), in its own database
#   bash scripts/bench.sh warnings early-warning detection of yesterday and today on that same city (bench/index -warnings)
#   bash scripts/bench.sh heatmap  the heat map of last month at precision 6 on that same city (bench/index -heatmap):
#                                  runs in a row, then 20 calls a second for 15 s, with median and p99
#   bash scripts/bench.sh summary  the period summary of a month and a year on that same city, and at 20 req/s
#                                  (bench/index -summary)
#   bash scripts/bench.sh export   bulk-load (as read), then every incident as CSV from the raw floor and the API and as
#                                  XLSX from the API, with the API's RSS over each export (bench/export)
#
# It starts MariaDB and MinIO (scripts/services.sh), builds pingan and the
# bench programs (bench/rawfloor, bench/load, bench/drive), migrates a fresh
# database pingan_bench, starts `pingan serve` with the demo accounts and the
# raw floor on free ports, drives both with vegeta, prints a table with
# PASS/MISS per target, and stops everything. Each step has a time limit;
# a whole `all` run takes about 7 minutes on 2 cores (plus the first build).
# The exit status is 0 when every step ran and both sides were measured,
# whether or not the targets were met.
#
# Settings (environment, all optional):
#   BENCH_OUT                 directory for ingest.json / read.json  (default ${TMPDIR:-/tmp}/pingan-bench)
#   BENCH_DURATION            length of each measured phase           (default 20s)
#   BENCH_WARMUP              unrecorded warm-up before each side     (default 3s)
#   BENCH_ROUNDS              max-throughput rounds, raw and API alternating; the best counts (default 2)
#   BENCH_WORKERS             concurrency of the max-throughput phase (default 32, the API's pool size)
#   BENCH_READ_RATE           rate of the read latency phase, req/s   (default 200)
#   BENCH_ROWS                incidents bulk-loaded for read          (default 1000000)
#   BENCH_LOAD_WORKERS        loader connections                      (default 4)
#   BENCH_LOAD_METHOD         infile (LOAD DATA LOCAL, ~15% faster) or insert (multi-row INSERT) (default infile)
#   BENCH_INNODB_BUFFER_POOL  set at run time; "" keeps services.sh's 128M (default 2G: the
#                             1.5 GB table and its indexes fit, as on a real server)
#   BENCH_INNODB_LOG_FILE     redo log size set at run time; "" keeps the default (default 512M)
#   BENCH_WARNING_RUNS        timed detections of each day in warnings mode (default 5)
#   BENCH_HEATMAP_RUNS        timed heat maps of each kind in a row in heatmap mode (default 100)
#   BENCH_SUMMARY_RUNS        timed summaries of each case in summary mode (default 5)
#   BENCH_SUMMARY_PACED       summaries of the month and of the year each at 20 req/s (default 200)
#   BENCH_EXPORT_ROUNDS       export mode: rounds of floor CSV, API CSV, API XLSX; the best counts (default 2)
#   BENCH_KEEP=1              keep the work directory (binaries, logs) for a look afterwards
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

MODE=${1:-}
case $MODE in
ingest | read | all | index | warnings | heatmap | summary | export) ;;
*)
	echo "usage: $0 ingest|read|all|index|warnings|heatmap|summary|export" >&2
	exit 2
	;;
esac

OUT=${BENCH_OUT:-${TMPDIR:-/tmp}/pingan-bench}
DURATION=${BENCH_DURATION:-20s}
WARMUP=${BENCH_WARMUP:-3s}
ROUNDS=${BENCH_ROUNDS:-2}
WORKERS=${BENCH_WORKERS:-32}
READ_RATE=${BENCH_READ_RATE:-200}
ROWS=${BENCH_ROWS:-1000000}
LOAD_WORKERS=${BENCH_LOAD_WORKERS:-4}
LOAD_METHOD=${BENCH_LOAD_METHOD:-infile}
BUFFER_POOL=${BENCH_INNODB_BUFFER_POOL-2G}
LOG_FILE=${BENCH_INNODB_LOG_FILE-512M}

log() { echo "bench: $*" >&2; }
die() {
	log "$*"
	exit 1
}

PINGAN_RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pingan-bench-services.XXXXXX")
export PINGAN_RUN_DIR
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pingan-bench-work.XXXXXX")
mkdir -p "$WORK/bin" "$WORK/data" "$OUT"
API_PID= RAW_PID=

# stop_process PID: TERM, up to 10 s to drain, then KILL. Only our own children.
stop_process() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 40; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.25
	done
	kill -9 "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	stop_process "$RAW_PID"
	stop_process "$API_PID"
	bash scripts/services.sh stop || true
	if [ "$rc" != 0 ]; then
		for f in "$WORK"/*.log; do
			[ -s "$f" ] || continue
			log "last lines of $f:"
			tail -n 15 "$f" >&2
		done
	fi
	if [ "${BENCH_KEEP:-}" = 1 ]; then
		log "kept $WORK"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port FROM: the first port from FROM on that nobody listens on.
free_port() {
	local p
	for ((p = $1; p < $1 + 200; p++)); do
		if ! port_busy "$p"; then
			echo "$p"
			return
		fi
	done
	die "no free port near $1"
}

# wait_http WHAT URL PID: poll URL for up to 60 s while PID lives.
wait_http() {
	local i
	for ((i = 0; i < 120; i++)); do
		curl -fsS -o /dev/null "$2" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || die "$1 exited during start-up"
		sleep 0.5
	done
	die "$1 not ready after 60 s ($2)"
}

log "starting MariaDB and MinIO"
timeout 900 bash scripts/services.sh start
# shellcheck source=/dev/null
source "$PINGAN_RUN_DIR/env"
# PINGAN_TEST_MYSQL is root:PASSWORD@tcp(127.0.0.1:PORT)/, PINGAN_TEST_MINIO minio://USER:SECRET@127.0.0.1:PORT.
DB_PASSWORD=$(sed -E 's/^[^:]*:([^@]*)@.*/\1/' <<<"$PINGAN_TEST_MYSQL")
DB_PORT=$(sed -E 's/.*:([0-9]+)\).*/\1/' <<<"$PINGAN_TEST_MYSQL")
DSN="${PINGAN_TEST_MYSQL}pingan_bench?parseTime=true"
sql() { mariadb --no-defaults -h127.0.0.1 -P"$DB_PORT" -uroot -p"$DB_PASSWORD" "$@"; }

sql -e "CREATE DATABASE pingan_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
[ -z "$BUFFER_POOL" ] || sql -e "SET GLOBAL innodb_buffer_pool_size = $(numfmt --from=iec "$BUFFER_POOL")"
[ -z "$LOG_FILE" ] || sql -e "SET GLOBAL innodb_log_file_size = $(numfmt --from=iec "$LOG_FILE")"
log "MariaDB $(sql -N -e 'SELECT VERSION()'): $(sql -N -e "SELECT CONCAT('buffer pool ', @@innodb_buffer_pool_size DIV 1048576, ' MiB, redo log ', @@innodb_log_file_size DIV 1048576, ' MiB, flush_log_at_trx_commit ', @@innodb_flush_log_at_trx_commit)")"

if [ "$MODE" = index ] || [ "$MODE" = warnings ] || [ "$MODE" = heatmap ] || [ "$MODE" = summary ]; then
	log "building bench/index"
	timeout 900 go build -o "$WORK/bin/index" ./bench/index
	sql -e "CREATE DATABASE pingan_index CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
	args=() what="the timed recomputes"
	if [ "$MODE" = warnings ]; then
		args=(-warnings -runs "${BENCH_WARNING_RUNS:-5}") what="the timed early-warning detections"
	fi
	if [ "$MODE" = heatmap ]; then
		args=(-heatmap -runs "${BENCH_HEATMAP_RUNS:-100}") what="the timed heat maps"
	fi
	if [ "$MODE" = summary ]; then
		args=(-summary -runs "${BENCH_SUMMARY_RUNS:-5}" -paced "${BENCH_SUMMARY_PACED:-200}") what="the timed summaries"
	fi
	log "$MODE benchmark: migrate, regions, bulk load, then $what"
	timeout 3600 "$WORK/bin/index" -dsn "${PINGAN_TEST_MYSQL}pingan_index?parseTime=true&readTimeout=300s&writeTimeout=300s" \
		-incidents "${BENCH_INDEX_INCIDENTS:-1000000}" -disputes "${BENCH_INDEX_DISPUTES:-200000}" "${args[@]}" ||
		die "$MODE benchmark failed"
	exit 0
fi

log "building pingan and the bench programs"
timeout 900 go build -o "$WORK/bin/pingan" ./cmd/pingan
for p in rawfloor load drive export; do
	timeout 600 go build -o "$WORK/bin/$p" "./bench/$p"
done

export PINGAN_DB="mysql://$DSN"
timeout 120 "$WORK/bin/pingan" migrate >"$WORK/migrate.log" 2>&1 || die "pingan migrate failed"

# The API as in production, but with the demo accounts and keys made for this run.
API_PORT=$(free_port 18080)
log "starting pingan serve on 127.0.0.1:$API_PORT"
PINGAN_ADDR=127.0.0.1:$API_PORT \
	PINGAN_BLOB="$PINGAN_TEST_MINIO/bench?secure=false" \
	PINGAN_JWT_KEYS="bench:$(head -c 32 /dev/urandom | base64)" \
	PINGAN_DATA_KEY="$(head -c 32 /dev/urandom | base64)" \
	PINGAN_DEMO=on PINGAN_DATA_DIR="$WORK/data" \
	"$WORK/bin/pingan" serve >"$WORK/api.log" 2>&1 &
API_PID=$!
wait_http "pingan serve" "http://127.0.0.1:$API_PORT/readyz" "$API_PID"

# After the API, so that the demo grid worker exists to be the floor's reporter.
RAW_PORT=$(free_port $((API_PORT + 1)))
log "starting the raw floor on 127.0.0.1:$RAW_PORT"
"$WORK/bin/rawfloor" -addr "127.0.0.1:$RAW_PORT" -dsn "$DSN" >"$WORK/rawfloor.log" 2>&1 &
RAW_PID=$!
wait_http rawfloor "http://127.0.0.1:$RAW_PORT/healthz" "$RAW_PID"

drive() {
	timeout 600 "$WORK/bin/drive" -api "http://127.0.0.1:$API_PORT" -raw "http://127.0.0.1:$RAW_PORT" \
		-workers "$WORKERS" -rounds "$ROUNDS" -duration "$DURATION" -fixed-duration "$DURATION" -warmup "$WARMUP" "$@"
}

status=0
if [ "$MODE" = ingest ] || [ "$MODE" = all ]; then
	log "ingest benchmark"
	drive -mode ingest -api-pid "$API_PID" -out "$OUT/ingest.json" || status=$?
fi
if [ "$MODE" = read ] || [ "$MODE" = all ]; then
	log "bulk-loading $ROWS incidents"
	timeout 900 "$WORK/bin/load" -dsn "$DSN" -n "$ROWS" -workers "$LOAD_WORKERS" -method "$LOAD_METHOD" || die "bulk load failed"
	log "read benchmark"
	drive -mode read -read-rate "$READ_RATE" -out "$OUT/read.json" || status=$?
fi

if [ "$MODE" = export ]; then
	log "bulk-loading $ROWS incidents"
	timeout 900 "$WORK/bin/load" -dsn "$DSN" -n "$ROWS" -workers "$LOAD_WORKERS" -method "$LOAD_METHOD" || die "bulk load failed"
	log "export benchmark"
	timeout 3600 "$WORK/bin/export" -api "http://127.0.0.1:$API_PORT" -raw "http://127.0.0.1:$RAW_PORT" \
		-api-pid "$API_PID" -rounds "${BENCH_EXPORT_ROUNDS:-2}" -out "$OUT/export.json" || status=$?
	exit "$status"
fi

peak=$(awk '/^VmHWM/ {printf "%.1f MB", $2 / 1024}' "/proc/$API_PID/status" 2>/dev/null || echo "unknown")
echo
echo "API peak RSS over the whole run (VmHWM): $peak; results in $OUT"
if [ "$status" != 0 ]; then
	log "not every side was measured (drive exited $status); see the NOT MEASURED lines above"
fi
exit "$status"
