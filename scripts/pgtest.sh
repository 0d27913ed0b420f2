#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite, built from Debian's packages.
#
#   scripts/pgtest.sh start [DIR]   install PostgreSQL if needed, create and start the
#                                   cluster, create database minzheng_test, print its URL
#   scripts/pgtest.sh url   [DIR]   print the SQLAlchemy URL of the cluster
#   scripts/pgtest.sh stop  [DIR]   stop the cluster and remove DIR
#   scripts/pgtest.sh status [DIR]  exit 0 when the cluster is running
#
# DIR defaults to .pgtest/ at the repository root (or $PGTEST_DIR). The server listens on
# 127.0.0.1 only, port $PGTEST_PORT, else the first free one from 54329 (recorded in
# DIR/port, so `url` and later starts use it), with trust authentication on
# loopback and the unix socket; superuser "postgres", no password. Durability is switched
# off (fsync, synchronous_commit, full_page_writes): the data is disposable.
#
# Run as root, the cluster belongs to the "postgres" user (initdb and pg_ctl refuse to
# run as root) and PostgreSQL is installed with apt-get when no server binaries exist
# (the newest /usr/lib/postgresql/*/bin is used; $PGTEST_BINDIR overrides). When
# "postgres" cannot reach DIR (a checkout under /root), the cluster is made in a
# temporary directory and DIR becomes a link to it; stop removes both.
# Run as another user, the cluster belongs to that user. Only the URL goes to stdout;
# progress goes to stderr, so `url=$(scripts/pgtest.sh start)` works.
set -euo pipefail

PGTEST_DB=minzheng_test
PGTEST_SUPERUSER=postgres
DEFAULT_PORT=54329
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf 'pgtest: %s\n' "$*" >&2; }
die() {
    printf 'pgtest: error: %s\n' "$*" >&2
    exit 1
}

usage() {
    cat >&2 <<'EOF'
usage: scripts/pgtest.sh start|stop|url|status [DIR]
  start   create (if needed) and start the cluster, create database minzheng_test,
          print its SQLAlchemy URL
  url     print the SQLAlchemy URL
  stop    stop the cluster and remove DIR
  status  exit 0 if the cluster is running
DIR defaults to $PGTEST_DIR or .pgtest/ in the repository; the port to $PGTEST_PORT or
the first free one from 54329.
EOF
}

# --- paths and state ---------------------------------------------------------------

abs_path() {
    # Absolute path of $1 without requiring it to exist.
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$(pwd)" "$1" ;;
    esac
}

setup_paths() {
    BASE=$(abs_path "${1:-${PGTEST_DIR:-$REPO_ROOT/.pgtest}}")
    BASE=${BASE%/}
    # DIR may be a link to the real directory (see make_base_dir).
    LINK=""
    if [[ -L $BASE ]]; then
        LINK=$BASE
        BASE=$(readlink -f "$BASE")
    fi
    set_paths
}

set_paths() {
    PGDATA_DIR=$BASE/data
    LOGFILE=$BASE/server.log
    PORTFILE=$BASE/port
}

port() {
    # The port recorded when the cluster was created wins over the environment.
    if [[ -s $PORTFILE ]]; then
        cat "$PORTFILE"
    else
        printf '%s\n' "${PGTEST_PORT:-$DEFAULT_PORT}"
    fi
}

url() {
    printf 'postgresql+asyncpg://%s@127.0.0.1:%s/%s\n' "$PGTEST_SUPERUSER" "$(port)" "$PGTEST_DB"
}

# --- privileges --------------------------------------------------------------------

is_root() { [[ $(id -u) -eq 0 ]]; }

# Run a server-side command as the cluster owner.
as_owner() {
    if is_root; then
        # cd / so the tools never fail on a working directory "postgres" cannot read.
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# --- binaries ----------------------------------------------------------------------

find_bindir() {
    # $PGTEST_BINDIR, else the newest /usr/lib/postgresql/*/bin with a server in it.
    if [[ -n ${PGTEST_BINDIR:-} ]]; then
        [[ -x $PGTEST_BINDIR/pg_ctl ]] && printf '%s\n' "$PGTEST_BINDIR"
        return 0
    fi
    local dir
    while IFS= read -r dir; do
        if [[ -x $dir/initdb && -x $dir/pg_ctl && -x $dir/postgres ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    done < <(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -rV)
    return 0
}

install_postgresql() {
    local -a apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
    if ! is_root; then
        if ! { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; then
            die "no PostgreSQL server binaries found and not root: install PostgreSQL (apt-get install postgresql) or set PGTEST_BINDIR"
        fi
        apt=(sudo -n "${apt[@]}")
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "no PostgreSQL server binaries found and no apt-get to install them; set PGTEST_BINDIR"
    log "installing PostgreSQL with apt-get"
    "${apt[@]}" update -qq >&2
    "${apt[@]}" install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        postgresql >&2
}

require_bindir() {
    BINDIR=$(find_bindir)
    if [[ -z $BINDIR ]]; then
        install_postgresql
        BINDIR=$(find_bindir)
        [[ -n $BINDIR ]] || die "PostgreSQL was installed but no server binaries found under /usr/lib/postgresql/*/bin"
    fi
    if is_root; then
        id -u postgres >/dev/null 2>&1 ||
            die "running as root but there is no 'postgres' user to own the cluster"
        command -v runuser >/dev/null 2>&1 || die "runuser (util-linux) is required when running as root"
    fi
}

# --- cluster -----------------------------------------------------------------------

is_running() {
    [[ -f $PGDATA_DIR/PG_VERSION ]] || return 1
    as_owner "$BINDIR/pg_ctl" status -D "$PGDATA_DIR" >/dev/null 2>&1
}

make_base_dir() {
    mkdir -p "$BASE"
    if is_root; then
        chown postgres: "$BASE"
        chmod 0700 "$BASE"
        # The cluster owner must be able to reach DIR; a repository under /root is closed
        # to it. Then the cluster lives in a temporary directory and DIR links to it.
        if ! runuser -u postgres -- test -w "$BASE" -a -x "$BASE"; then
            local real
            real=$(mktemp -d "${TMPDIR:-/tmp}/minzheng-pgtest.XXXXXX")
            log "user 'postgres' cannot reach $BASE; using $real (linked from $BASE)"
            rm -f "$BASE/port" "$BASE/initdb.log" "$BASE/server.log"
            rmdir "$BASE"
            ln -s "$real" "$BASE"
            chown postgres: "$real"
            chmod 0700 "$real"
            LINK=$BASE
            BASE=$real
            set_paths
            runuser -u postgres -- test -w "$BASE" -a -x "$BASE" ||
                die "user 'postgres' cannot write to $BASE either"
        fi
    fi
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

choose_port() {
    # An explicit PGTEST_PORT is used as given; otherwise the first free port from 54329
    # on, so that several checkouts on one machine can each run a cluster.
    if [[ -n ${PGTEST_PORT:-} ]]; then
        printf '%s
' "$PGTEST_PORT"
        return 0
    fi
    local p
    for ((p = DEFAULT_PORT; p < DEFAULT_PORT + 20; p++)); do
        if ! port_in_use "$p"; then
            printf '%s
' "$p"
            return 0
        fi
    done
    printf '%s
' "$DEFAULT_PORT"
}

init_cluster() {
    local chosen
    chosen=$(choose_port)
    log "creating cluster in $PGDATA_DIR (port $chosen)"
    rm -rf "$PGDATA_DIR"
    make_base_dir
    printf '%s
' "$chosen" >"$PORTFILE"
    is_root && chown postgres: "$PORTFILE"
    as_owner "$BINDIR/initdb" -D "$PGDATA_DIR" -U "$PGTEST_SUPERUSER" --auth=trust \
        --encoding=UTF8 --no-locale --no-sync >"$BASE/initdb.log" 2>&1 || {
        cat "$BASE/initdb.log" >&2
        die "initdb failed"
    }

    # The unix socket goes into DIR unless its path is too long for a socket address.
    local sockets="$BASE"
    if ((${#BASE} + 20 > 107)); then
        log "DIR path too long for a unix socket; TCP only"
        sockets=""
    fi
    as_owner tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null <<EOF

# --- pgtest: throwaway test cluster ---
listen_addresses = '127.0.0.1'
port = $(port)
unix_socket_directories = '$sockets'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
EOF
    as_owner tee "$PGDATA_DIR/pg_hba.conf" >/dev/null <<'EOF'
# pgtest: trust on the unix socket and loopback only
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   trust
host    all       all   ::1/128        trust
EOF
}

wait_ready() {
    local _
    for _ in $(seq 1 60); do
        if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$(port)" -U "$PGTEST_SUPERUSER" -d postgres; then
            return 0
        fi
        sleep 0.5
    done
    tail -n 30 "$LOGFILE" >&2 || true
    die "server on 127.0.0.1:$(port) did not become ready"
}

psql_q() {
    "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(port)" -U "$PGTEST_SUPERUSER" \
        -d postgres "$@"
}

ensure_database() {
    local exists
    exists=$(psql_q -tAc "SELECT 1 FROM pg_database WHERE datname = '$PGTEST_DB'")
    if [[ $exists != 1 ]]; then
        log "creating database $PGTEST_DB"
        psql_q -c "CREATE DATABASE $PGTEST_DB"
    fi
}

cmd_start() {
    require_bindir
    if [[ -s $PORTFILE && -n ${PGTEST_PORT:-} && $PGTEST_PORT != "$(port)" ]]; then
        log "note: cluster in $BASE was created on port $(port); ignoring PGTEST_PORT=$PGTEST_PORT"
    fi
    if is_running; then
        log "already running on 127.0.0.1:$(port) ($PGDATA_DIR)"
    else
        # A directory without PG_VERSION is a half-made cluster: start over.
        [[ -f $PGDATA_DIR/PG_VERSION ]] || init_cluster
        log "starting server ($BINDIR)"
        as_owner "$BINDIR/pg_ctl" start -D "$PGDATA_DIR" -l "$LOGFILE" -w -t 60 -s >&2 || {
            tail -n 30 "$LOGFILE" >&2 || true
            die "pg_ctl start failed (is port $(port) taken? set PGTEST_PORT)"
        }
    fi
    wait_ready
    ensure_database
    url
}

cmd_stop() {
    BINDIR=$(find_bindir)
    if [[ -f $PGDATA_DIR/PG_VERSION && -n $BINDIR ]]; then
        if is_running; then
            log "stopping server ($PGDATA_DIR)"
            as_owner "$BINDIR/pg_ctl" stop -D "$PGDATA_DIR" -m fast -w -t 60 -s >&2 ||
                as_owner "$BINDIR/pg_ctl" stop -D "$PGDATA_DIR" -m immediate -w -s >&2 || true
        fi
    fi
    if [[ -e $BASE ]]; then
        # Only ever delete what start made: a directory holding the port file or the
        # cluster, or an empty one.
        if [[ -f $PORTFILE || -d $PGDATA_DIR || -z $(ls -A "$BASE" 2>/dev/null) ]]; then
            log "removing $BASE"
            rm -rf "$BASE"
        else
            die "$BASE does not look like a pgtest directory; not removing it"
        fi
    fi
    if [[ -n $LINK && -L $LINK ]]; then
        rm -f "$LINK"
    fi
}

cmd_status() {
    BINDIR=$(find_bindir)
    [[ -n $BINDIR ]] && is_running
}

main() {
    local cmd=${1:-}
    (($# >= 1 && $# <= 2)) || {
        usage
        exit 2
    }
    setup_paths "${2:-}"
    case "$cmd" in
        start) cmd_start ;;
        stop) cmd_stop ;;
        url) url ;;
        status) cmd_status ;;
        -h | --help | help) usage ;;
        *)
            usage
            exit 2
            ;;
    esac
}

main "$@"
