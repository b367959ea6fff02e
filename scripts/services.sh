#!/usr/bin/env bash
# Throw-away MariaDB and MinIO for the tests (SPEC §14), on loopback only.
#
#   scripts/services.sh start   install what is missing, start both, write $RUN_DIR/env
#   scripts/services.sh env     print the exports: eval "$(scripts/services.sh env)"
#   scripts/services.sh stop    stop both and remove $RUN_DIR (safe after a failed start)
#
# Settings (environment, all optional):
#   PINGAN_RUN_DIR             data, logs, pids and env  (default ${TMPDIR:-/tmp}/pingan-services-$UID)
#   PINGAN_TOOLS               cache of the built minio binary (default $HOME/.cache/pingan/bin)
#   PINGAN_MYSQL_PORT          MariaDB port (default 33306, or the next free one when unset)
#   PINGAN_MINIO_PORT          MinIO API port (default 19000, or the next free one when unset)
#   PINGAN_MINIO_CONSOLE_PORT  MinIO console port (default API port + 1)
set -euo pipefail

MINIO_MODULE=github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c
RUN_DIR=${PINGAN_RUN_DIR:-${TMPDIR:-/tmp}/pingan-services-$(id -u)}
TOOLS=${PINGAN_TOOLS:-$HOME/.cache/pingan/bin}
DB_PASSWORD=secret
MINIO_USER=pingan
MINIO_PASSWORD=pingan-secret
MARKER=.pingan-services
export PATH="$PATH:/usr/sbin:/sbin:/usr/local/go/bin"

log() { echo "services: $*" >&2; }
die() { log "$*"; exit 1; }

# as_root runs a command as root, through sudo when needed.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_port VAR DEFAULT: the port in $VAR exactly, or DEFAULT or the next free one.
pick_port() {
	local want=${!1:-} p
	if [ -n "$want" ]; then
		port_busy "$want" && die "port $want ($1) is already in use"
		echo "$want"
		return
	fi
	for ((p = $2; p < $2 + 100; p += 2)); do
		if ! port_busy "$p" && ! port_busy $((p + 1)); then
			echo "$p"
			return
		fi
	done
	die "no free port near $2; set $1"
}

ensure_mariadb() {
	command -v mariadbd >/dev/null && return
	log "installing MariaDB from the distribution's packages"
	as_root apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y mariadb-server
	command -v mariadbd >/dev/null || die "mariadbd still missing after apt-get install"
}

ensure_minio() {
	[ -x "$TOOLS/minio" ] && return
	command -v go >/dev/null || die "go is needed to build MinIO"
	log "building MinIO into $TOOLS (once; takes a few minutes)"
	mkdir -p "$TOOLS"
	# From / so that the repository's go.mod plays no part in the build.
	(cd / && GOBIN="$TOOLS" GOFLAGS=-buildvcs=false go install "$MINIO_MODULE") || die "building MinIO failed"
}

# wait_for WHAT PIDFILE LOG CHECK...: poll CHECK for up to 60 s while the process lives.
wait_for() {
	local what=$1 pid log=$3 i
	pid=$(cat "$2")
	shift 3
	for ((i = 0; i < 120; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			log "$what exited during start-up; last lines of $log:"
			tail -n 30 "$log" >&2 || true
			return 1
		fi
		sleep 0.5
	done
	log "$what not ready after 60 s; last lines of $log:"
	tail -n 30 "$log" >&2 || true
	return 1
}

start_mariadb() {
	local port=$1 user sock="$RUN_DIR/mysql.sock"
	user=$(id -un)
	mkdir -p "$RUN_DIR/mysql" "$RUN_DIR/tmp"
	# --no-defaults everywhere: /etc/mysql/my.cnf points at the system socket, pid file and datadir.
	mariadb-install-db --no-defaults --user="$user" --datadir="$RUN_DIR/mysql" \
		--auth-root-authentication-method=normal --skip-test-db \
		>"$RUN_DIR/mariadb-install.log" 2>&1 ||
		{ tail -n 30 "$RUN_DIR/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
	mariadbd --no-defaults --user="$user" --datadir="$RUN_DIR/mysql" --tmpdir="$RUN_DIR/tmp" \
		--socket="$sock" --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
		--pid-file="$RUN_DIR/mysql/mariadbd.pid" --log-error="$RUN_DIR/mariadb.log" \
		--innodb_flush_log_at_trx_commit=1 --innodb-buffer-pool-size=128M --innodb-use-native-aio=0 \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci --max-connections=500 \
		--sql-mode=ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION \
		</dev/null >>"$RUN_DIR/mariadb.log" 2>&1 &
	echo $! >"$RUN_DIR/mariadb.pid"
	wait_for MariaDB "$RUN_DIR/mariadb.pid" "$RUN_DIR/mariadb.log" \
		mariadb --no-defaults --socket="$sock" -uroot -e 'SELECT 1' || return 1
	# Root gets a password and a TCP account: the tests connect over 127.0.0.1, and
	# with --skip-name-resolve that is not 'localhost'.
	mariadb --no-defaults --socket="$sock" -uroot <<-SQL
		ALTER USER 'root'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
		CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
		ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
		GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
		FLUSH PRIVILEGES;
	SQL
	mariadb --no-defaults -h127.0.0.1 -P"$port" -uroot -p"$DB_PASSWORD" -e 'SELECT 1' >/dev/null ||
		die "MariaDB does not accept root over TCP on port $port"
}

start_minio() {
	local port=$1 console=$2
	mkdir -p "$RUN_DIR/minio"
	MINIO_ROOT_USER=$MINIO_USER MINIO_ROOT_PASSWORD=$MINIO_PASSWORD MINIO_BROWSER=off \
		MINIO_UPDATE=off MINIO_CI_CD=1 \
		"$TOOLS/minio" server "$RUN_DIR/minio" --quiet \
		--address "127.0.0.1:$port" --console-address "127.0.0.1:$console" \
		</dev/null >"$RUN_DIR/minio.log" 2>&1 &
	echo $! >"$RUN_DIR/minio.pid"
	wait_for MinIO "$RUN_DIR/minio.pid" "$RUN_DIR/minio.log" \
		curl -fsS "http://127.0.0.1:$port/minio/health/live"
}

start() {
	stop_services
	if [ -d "$RUN_DIR" ] && [ ! -e "$RUN_DIR/$MARKER" ] && [ -n "$(ls -A "$RUN_DIR")" ]; then
		die "$RUN_DIR exists and is not a run dir of this script; set PINGAN_RUN_DIR"
	fi
	mkdir -p "$RUN_DIR"
	touch "$RUN_DIR/$MARKER"
	ensure_mariadb
	ensure_minio
	local mysql_port minio_port console_port
	mysql_port=$(pick_port PINGAN_MYSQL_PORT 33306)
	start_mariadb "$mysql_port" || return 1
	minio_port=$(pick_port PINGAN_MINIO_PORT 19000)
	console_port=${PINGAN_MINIO_CONSOLE_PORT:-$((minio_port + 1))}
	start_minio "$minio_port" "$console_port" || return 1
	{
		printf 'export PINGAN_TEST_MYSQL=%q\n' "root:$DB_PASSWORD@tcp(127.0.0.1:$mysql_port)/"
		printf 'export PINGAN_TEST_MINIO=%q\n' "minio://$MINIO_USER:$MINIO_PASSWORD@127.0.0.1:$minio_port"
		printf 'export PINGAN_TEST_SERVICES=required\n'
	} >"$RUN_DIR/env"
	log "MariaDB on 127.0.0.1:$mysql_port, MinIO on 127.0.0.1:$minio_port (run dir $RUN_DIR)"
}

# stop_pid NAME: end the process in $RUN_DIR/NAME.pid if it is still ours.
stop_pid() {
	local file="$RUN_DIR/$1.pid" pid i
	[ -f "$file" ] || return 0
	pid=$(cat "$file")
	# A recycled pid belongs to someone else: ours mention the run dir on their command line.
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$RUN_DIR"; then
		kill "$pid" 2>/dev/null || true
		for ((i = 0; i < 80; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.25
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$file"
}

stop_services() {
	[ -d "$RUN_DIR" ] || return 0
	stop_pid minio
	stop_pid mariadb
	if [ -e "$RUN_DIR/$MARKER" ]; then
		rm -rf "$RUN_DIR"
	fi
}

case ${1:-} in
start)
	# Not "if ! start": errexit is off inside a condition. Clean up on any failure instead.
	trap 'rc=$?; if [ "$rc" != 0 ]; then log "start failed; cleaning up"; stop_services; fi' EXIT
	start
	;;
stop) stop_services ;;
env)
	[ -f "$RUN_DIR/env" ] || die "not started (no $RUN_DIR/env)"
	cat "$RUN_DIR/env"
	;;
*) die "usage: $0 start|stop|env" ;;
esac
