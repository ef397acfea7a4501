# Shared set-up for scripts/serve and scripts/test. Sourced, not run.
#
# Every step checks first and skips what is already there, so a second run is fast.
# Tools are installed system-wide where they must be (Debian packages, cargo
# binaries in ~/.cargo/bin) and project-locally otherwise (npm packages).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Pinned tool versions; bump them here.
CARGO_LEPTOS_VERSION="0.3.11"
SQLX_CLI_VERSION="0.8.6"
# Installed only when the machine has no cargo-nextest of its own.
NEXTEST_VERSION="0.9.143"
# Schemathesis (PyPI), in a virtualenv under the project's tool cache (.tools/).
SCHEMATHESIS_VERSION="4.32.5"
LOCAL_DATABASE_URL="postgres://clearance:clearance@127.0.0.1:5432/clearance"

# One build configuration for every script. Leptos reads LEPTOS_OUTPUT_NAME at
# compile time (`option_env!`), so cargo rebuilds leptos, the app and the server
# whenever it differs: cargo-leptos sets it, a plain `cargo bench` or `cargo build`
# did not, and each script then undid the other's release build (137 s before
# `scripts/serve` could serve after `scripts/bench`). Every cargo command the
# scripts run now sees the value cargo-leptos uses.
export LEPTOS_OUTPUT_NAME=clearance

step() { printf '\n\033[1;34m==>\033[0m \033[1m%s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

apt_updated=0
apt_install() {
  local missing=()
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  info "installing Debian packages: ${missing[*]}"
  if [ "$apt_updated" -eq 0 ]; then
    as_root apt-get update -q >/dev/null
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
}

version_at_least() { # version_at_least HAVE WANT
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

# --- Rust: the WASM standard library, or its build-std fallback ---------------------
#
# Sets LEPTOS_BUILD_ARGS and WASM_BUILD_STD_ARGS for the front-end build, and
# CLIPPY: the clippy that matches the compiler in use.
setup_rust() {
  step "Rust toolchain for the server and the WASM front end"
  command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust with rustup first"
  LEPTOS_BUILD_ARGS=()
  WASM_BUILD_STD_ARGS=()
  CLIPPY=(cargo clippy)
  if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    info "wasm32-unknown-unknown is installed with rustup"
    WASM_MODE=rustup
  elif [ ! -d /usr/lib/rustlib/src/rust/library ] &&
    info "trying: rustup target add wasm32-unknown-unknown (60 s limit)" &&
    timeout 60 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then
    WASM_MODE=rustup
  else
    # No wasm32 standard library can be downloaded here: build it from source with
    # Debian's compiler (see README, "Toolchain").
    info "building the wasm32 standard library from source (Debian rustc-web + rust-web-src)"
    apt_install rustc-web cargo-web rust-web-src rust-web-clippy
    WASM_MODE=build-std
    local rustup_sysroot
    rustup_sysroot="$(rustup run stable rustc --print sysroot)"
    export RUSTC=/usr/bin/rustc
    export RUSTDOC=/usr/bin/rustdoc   # doc tests must match the compiler too
    export RUSTC_BOOTSTRAP=1
    export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$rustup_sysroot/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld"
    LEPTOS_BUILD_ARGS=(--lib-cargo-args=-Zbuild-std=std,panic_abort)
    WASM_BUILD_STD_ARGS=(-Zbuild-std=std,panic_abort)
    # Debian's clippy matches Debian's compiler; rustup's would not.
    CLIPPY=(env CARGO=/usr/bin/cargo /usr/bin/cargo-clippy clippy)
  fi
  info "compiler: $(${RUSTC:-rustc} --version)"
}

# cargo-leptos needs Rust >= 1.96 to build; Debian's compiler provides it here.
setup_cargo_leptos() {
  step "cargo-leptos $CARGO_LEPTOS_VERSION"
  if cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    info "already installed"
    return
  fi
  local rustc_for_install=rustc
  if ! version_at_least "$(rustc --version | awk '{print $2}')" 1.96.0; then
    apt_install rustc-web cargo-web
    rustc_for_install=/usr/bin/rustc
  fi
  info "installing (several minutes, once)"
  RUSTC="$rustc_for_install" CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
}

# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly.
setup_wasm_bindgen() {
  local version
  version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)"
  [ -n "$version" ] || die "wasm-bindgen not found in Cargo.lock"
  step "wasm-bindgen CLI $version (matches Cargo.lock)"
  if wasm-bindgen --version 2>/dev/null | grep -q " $version\$"; then
    info "already installed"
    return
  fi
  info "installing (about two minutes, once)"
  cargo install wasm-bindgen-cli --version "$version" --force
}

# npm packages: wasm-opt (binaryen) for release builds, Playwright, axe and the Nu
# HTML Checker (vnu-jar, run on the machine's Java: see setup_chromium) for tests.
setup_node_packages() {
  step "npm packages (wasm-opt, Playwright, the Nu HTML Checker)"
  command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js and npm"
  if [ -x end2end/node_modules/.bin/wasm-opt ] &&
    [ end2end/node_modules/.package-lock.json -nt end2end/package-lock.json ]; then
    info "already installed"
  else
    (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
  fi
  export PATH="$ROOT/end2end/node_modules/.bin:$PATH"
  info "$(wasm-opt --version)"
}

setup_sqlx_cli() {
  step "sqlx-cli $SQLX_CLI_VERSION"
  if cargo sqlx --version 2>/dev/null | grep -q "$SQLX_CLI_VERSION"; then
    info "already installed"
    return
  fi
  info "installing (a few minutes, once)"
  cargo install sqlx-cli --version "$SQLX_CLI_VERSION" --locked --no-default-features --features postgres,rustls
}

# cargo-nextest runs the Rust tests: each test in a process of its own, and a test
# that neither passes nor fails is stopped and reported (see .config/nextest.toml).
setup_nextest() {
  step "cargo-nextest"
  if cargo nextest --version >/dev/null 2>&1; then
    info "$(cargo nextest --version | head -n1)"
    return
  fi
  info "installing $NEXTEST_VERSION (about five minutes, once)"
  # rustup's compiler, even where setup_rust chose Debian's for the WASM build.
  env -u RUSTC -u RUSTDOC -u RUSTC_BOOTSTRAP cargo install cargo-nextest --version "$NEXTEST_VERSION" --locked
}

# --- promtool ---------------------------------------------------------------------
#
# The metrics tests (server/tests/it/metrics/) lint a scrape of /metrics with
# /usr/bin/promtool, from Debian's prometheus package (2.42 in Debian 12; the
# package only installs it: no Prometheus server is started).
PROMTOOL_PACKAGE="prometheus"
setup_promtool() {
  step "promtool (Debian package $PROMTOOL_PACKAGE)"
  apt_install "$PROMTOOL_PACKAGE"
  [ -x /usr/bin/promtool ] || die "$PROMTOOL_PACKAGE did not install /usr/bin/promtool"
  info "$(/usr/bin/promtool --version 2>&1 | head -n1)"
}

# --- The independent transparency-log verifier --------------------------------------
#
# The log tests check our checkpoints, receipts and proofs with code not written here:
# end2end/tlog-verify, a small Go program on golang.org/x/mod/sumdb/{tlog,note} from
# Debian (Go 1.19, x/mod 0.7), built in GOPATH mode without any download into
# target/tools/tlog-verify (again only when main.go is newer). Exports
# CLEARANCE_TLOG_VERIFY, the binary's absolute path.
GO_VERIFIER_PACKAGES=(golang-go golang-golang-x-mod-dev)
setup_go_verifier() {
  step "Independent transparency-log verifier (Go sumdb/tlog + sumdb/note, Debian)"
  apt_install "${GO_VERIFIER_PACKAGES[@]}"
  local source="$ROOT/end2end/tlog-verify/main.go"
  local binary="$ROOT/target/tools/tlog-verify"
  if [ -x "$binary" ] && [ "$binary" -nt "$source" ]; then
    info "already built: target/tools/tlog-verify"
  else
    info "building target/tools/tlog-verify"
    mkdir -p "$ROOT/target/tools"
    # Debian's Go, whatever else is on PATH; no module mode, no GOFLAGS from outside.
    (cd "$ROOT/end2end/tlog-verify" &&
      env GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOCACHE="$ROOT/target/tools/go-build" \
        /usr/bin/go build -o "$binary.new" .) || die "could not build end2end/tlog-verify"
    mv "$binary.new" "$binary"
  fi
  export CLEARANCE_TLOG_VERIFY="$binary"
  info "$(/usr/bin/go version), golang.org/x/mod $(dpkg-query -W -f='${Version}' golang-golang-x-mod-dev)"
  info "CLEARANCE_TLOG_VERIFY=$CLEARANCE_TLOG_VERIFY"
}

# --- PostgreSQL ---------------------------------------------------------------------
#
# Two roles (docs/security.md, "Database roles"): the owner `clearance` runs the
# migrations and owns every table; the server serves as `clearance_app`, a login
# role in the group `clearance_server`, which may read and append to the ledgers
# but never change, delete or alter them. Both URLs are exported:
#   CLEARANCE_OWNER_DATABASE_URL    the owner: `server migrate`, sqlx-cli, the test
#                                   harness (which creates a database per test)
#   CLEARANCE_SERVING_DATABASE_URL  clearance_app: what the server serves with
# and DATABASE_URL is the serving URL, as the server reads it.
#
# Honours DATABASE_URL: then it is the serving URL, and the owner URL is
# CLEARANCE_OWNER_DATABASE_URL (DATABASE_URL itself when that is not set).
# Without it, starts the machine's PostgreSQL 15 cluster, creates the roles and
# the `clearance` database.
LOCAL_SERVING_ROLE="clearance_app"
setup_database() {
  step "PostgreSQL"
  if [ -n "${DATABASE_URL:-}" ]; then
    info "using DATABASE_URL from the environment to serve"
    export CLEARANCE_SERVING_DATABASE_URL="$DATABASE_URL"
    export CLEARANCE_OWNER_DATABASE_URL="${CLEARANCE_OWNER_DATABASE_URL:-$DATABASE_URL}"
    return
  fi
  apt_install postgresql-15 postgresql-client-15
  if ! pg_lsclusters -h 2>/dev/null | awk '$1 == "15" && $2 == "main"' | grep -q .; then
    info "creating cluster 15/main"
    as_root pg_createcluster 15 main >/dev/null
  fi
  if ! pg_lsclusters -h | awk '$1 == "15" && $2 == "main" { print $4 }' | grep -q online; then
    info "starting cluster 15/main"
    as_root pg_ctlcluster 15 main start
  fi
  local port
  port="$(pg_lsclusters -h | awk '$1 == "15" && $2 == "main" { print $3 }')"
  create_roles "$port"
  if [ "$(psql_admin "$port" "SELECT 1 FROM pg_database WHERE datname = 'clearance'")" != "1" ]; then
    info "creating database clearance"
    psql_admin "$port" "CREATE DATABASE clearance OWNER clearance"
  fi
  export CLEARANCE_OWNER_DATABASE_URL="${LOCAL_DATABASE_URL/5432/$port}"
  export CLEARANCE_SERVING_DATABASE_URL="${CLEARANCE_OWNER_DATABASE_URL/clearance:clearance@/$LOCAL_SERVING_ROLE:$LOCAL_SERVING_ROLE@}"
  export DATABASE_URL="$CLEARANCE_SERVING_DATABASE_URL"
  info "CLEARANCE_OWNER_DATABASE_URL=$CLEARANCE_OWNER_DATABASE_URL (migrations)"
  info "DATABASE_URL=$DATABASE_URL (serving)"
}

# psql_admin PORT SQL: one statement as the cluster's superuser; prints the result.
psql_admin() {
  as_root su postgres -c "psql -p $1 -v ON_ERROR_STOP=1 -qtAX -c \"$2\""
}

# create_roles PORT: the owner (may create the test databases, and the group role
# in a migration), the serving group and its login role; each only if missing.
# In production a DBA creates them instead: docs/operations.md.
create_roles() {
  local port="$1"
  local has_owner
  has_owner="$(psql_admin "$port" "SELECT rolcreaterole FROM pg_roles WHERE rolname = 'clearance'")"
  if [ -z "$has_owner" ]; then
    info "creating role clearance (owner: migrations)"
    psql_admin "$port" "CREATE ROLE clearance LOGIN CREATEDB CREATEROLE PASSWORD 'clearance'"
  elif [ "$has_owner" != "t" ]; then
    info "role clearance may now create roles (the migrations create clearance_server)"
    psql_admin "$port" "ALTER ROLE clearance CREATEROLE"
  fi
  if [ "$(psql_admin "$port" "SELECT 1 FROM pg_roles WHERE rolname = 'clearance_server'")" != "1" ]; then
    info "creating role clearance_server (the serving group)"
    psql_admin "$port" "CREATE ROLE clearance_server NOLOGIN NOSUPERUSER NOBYPASSRLS"
  fi
  if [ "$(psql_admin "$port" "SELECT 1 FROM pg_roles WHERE rolname = '$LOCAL_SERVING_ROLE'")" != "1" ]; then
    info "creating role $LOCAL_SERVING_ROLE (serving)"
    psql_admin "$port" "CREATE ROLE $LOCAL_SERVING_ROLE LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '$LOCAL_SERVING_ROLE'"
  fi
  if [ "$(psql_admin "$port" "SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = 'clearance_server' AND u.rolname = '$LOCAL_SERVING_ROLE'")" != "1" ]; then
    psql_admin "$port" "GRANT clearance_server TO $LOCAL_SERVING_ROLE"
  fi
}

# A second, throwaway PostgreSQL 15 cluster that the resilience tests stop and
# start (scripts/test only). Never the cluster DATABASE_URL points at. Sets
# CLEARANCE_RESILIENCE_CLUSTER ("15 resilience") and CLEARANCE_RESILIENCE_DATABASE_URL
# (the owner's URL: the tests create the database, migrate it as the owner and
# serve it as clearance_app).
RESILIENCE_PORT=5499
setup_resilience_cluster() {
  step "PostgreSQL cluster for the resilience tests (15/resilience, port $RESILIENCE_PORT)"
  apt_install postgresql-15 postgresql-client-15
  if ! pg_lsclusters -h | awk '$1 == "15" && $2 == "resilience"' | grep -q .; then
    info "creating cluster 15/resilience"
    as_root pg_createcluster 15 resilience -p "$RESILIENCE_PORT" >/dev/null
  fi
  if ! pg_lsclusters -h | awk '$1 == "15" && $2 == "resilience" { print $4 }' | grep -q online; then
    as_root pg_ctlcluster 15 resilience start
  fi
  create_roles "$RESILIENCE_PORT"
  export CLEARANCE_RESILIENCE_CLUSTER="15 resilience"
  export CLEARANCE_RESILIENCE_DATABASE_URL="postgres://clearance:clearance@127.0.0.1:$RESILIENCE_PORT/clearance_resilience"
  info "CLEARANCE_RESILIENCE_DATABASE_URL=$CLEARANCE_RESILIENCE_DATABASE_URL"
}

# --- HAProxy, in front of several servers (scripts/cluster, scripts/chaos) -------------
#
# Debian 12's haproxy package: the 2.6 long-term-support series, which
# deploy/haproxy.cfg is written for. The scripts run the binary in the foreground
# with that file. Where the package starts Debian's own service, that one reads
# /etc/haproxy/haproxy.cfg, which listens on no port.
HAPROXY_SERIES="2.6"
setup_haproxy() {
  step "HAProxy $HAPROXY_SERIES (Debian package haproxy)"
  haproxy -v >/dev/null 2>&1 || apt_install haproxy
  local version
  version="$(haproxy -v 2>/dev/null | awk '/^HAProxy version/ { print $3; exit }')"
  [ -n "$version" ] || die "haproxy -v printed no version"
  case "$version" in
    "$HAPROXY_SERIES".*) info "HAProxy $version" ;;
    *) die "HAProxy $version is installed; deploy/haproxy.cfg is written for the $HAPROXY_SERIES series (Debian 12's)" ;;
  esac
}

# --- Browser, and Java for the HTML checker -----------------------------------------
#
# The end-to-end tests check every page they load with the Nu HTML Checker
# (end2end/tests/fixtures.ts), a Java program: the machine's `java` (11 or later)
# runs it, else Debian's default Java runtime is installed.
setup_chromium() {
  step "Chromium and Java for the end-to-end tests"
  if [ -n "${CHROMIUM_PATH:-}" ]; then
    [ -x "$CHROMIUM_PATH" ] || die "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable"
  else
    apt_install chromium
    export CHROMIUM_PATH=/usr/bin/chromium
  fi
  info "$("$CHROMIUM_PATH" --version 2>/dev/null || echo "$CHROMIUM_PATH")"
  command -v java >/dev/null 2>&1 || apt_install default-jre-headless
  info "$(java -version 2>&1 | head -n1)"
}

# --- Build --------------------------------------------------------------------------
build_release() {
  step "Building the release site (server + WASM) with cargo-leptos"
  # Queries are checked against the committed metadata in .sqlx/, so the build
  # needs no database.
  # --precompress writes .br and .gz next to each asset; the server sends those
  # instead of compressing the 2 MB WASM on every request.
  SQLX_OFFLINE=true cargo leptos build --release --precompress "${LEPTOS_BUILD_ARGS[@]}"
}

# The transparency log's signing key for local servers: made once by the release
# binary's own `log keygen` (kept across runs and checkouts, so checkpoints signed
# earlier still open), and exported as CLEARANCE_LOG_KEY_FILE unless one is set.
setup_log_key() {
  if [ -n "${CLEARANCE_LOG_KEY_FILE:-}${CLEARANCE_LOG_KEY:-}" ]; then
    return
  fi
  # One key per machine, like the local PostgreSQL cluster it signs for: another
  # checkout on this machine serves the same local log, and a server refuses a
  # log that another key signed.
  local file="${XDG_DATA_HOME:-$HOME/.local/share}/clearance/log.key"
  if [ ! -f "$file" ]; then
    step "Creating the transparency log's signing key ($file)"
    mkdir -p "$(dirname "$file")"
    "$ROOT/target/release/server" log keygen --name "${CLEARANCE_LOG_NAME:-clearance.localhost/log}" --out "$file"
  fi
  export CLEARANCE_LOG_KEY_FILE="$file"
}

# --- Schemathesis against the API -----------------------------------------------------
#
# Installs Schemathesis $SCHEMATHESIS_VERSION from PyPI into .tools/ (once), then
# runs it against /api/openapi.json of a real server (BINARY, default the release
# build) on a free port and a fresh database, authenticated as an operator with a
# bearer token made by the server's own `account create` and `token create`.
# Fails on any server error and on any answer the document does not describe.
setup_schemathesis() {
  step "Schemathesis $SCHEMATHESIS_VERSION (PyPI, in .tools/)"
  SCHEMATHESIS_VENV="$ROOT/.tools/schemathesis-$SCHEMATHESIS_VERSION"
  if [ -x "$SCHEMATHESIS_VENV/bin/schemathesis" ]; then
    info "already installed"
  else
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
    python3 -m venv "$SCHEMATHESIS_VENV" || { apt_install python3-venv && python3 -m venv "$SCHEMATHESIS_VENV"; }
    "$SCHEMATHESIS_VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  info "$("$SCHEMATHESIS_VENV/bin/schemathesis" --version)"
}

run_schemathesis() { # run_schemathesis [BINARY]
  local binary="${1:-$ROOT/target/release/server}"
  # Created and migrated by the owner, served (and its commands run) by the
  # serving role, as in production.
  local database="${CLEARANCE_OWNER_DATABASE_URL%/*}/clearance_schemathesis"
  local serving="${CLEARANCE_SERVING_DATABASE_URL%/*}/clearance_schemathesis"
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  local base="http://127.0.0.1:$port"
  step "Schemathesis against $base/api/openapi.json (fresh database clearance_schemathesis)"
  DATABASE_URL="$database" cargo sqlx database drop -y >/dev/null
  DATABASE_URL="$database" cargo sqlx database create
  env -i PATH="$PATH" HOME="$HOME" CLEARANCE_OWNER_DATABASE_URL="$database" "$binary" migrate
  # The server's own commands make the operator and the token.
  local operator="schemathesis@example.com"
  env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="$serving" \
    CLEARANCE_NEW_PASSWORD="schemathesis-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')" \
    "$binary" account create --email "$operator" --name Schemathesis --role operator >/dev/null
  local token
  token="$(env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="$serving" \
    "$binary" token create --email "$operator" --label schemathesis | tail -n1)"
  # A clean environment: nothing in this shell configures a dependency. A CI
  # token is set, so the 503 for "no CI token" is declared but not reached.
  env -i PATH="$PATH" HOME="$HOME" \
    DATABASE_URL="$serving" \
    CLEARANCE_LOG_KEY_FILE="$CLEARANCE_LOG_KEY_FILE" \
    LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    LEPTOS_SITE_ROOT="$ROOT/target/site" \
    CLEARANCE_SOURCE_NAME=schemathesis \
    CLEARANCE_API_TOKEN="schemathesis-ci-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" \
    RUST_LOG=warn \
    "$binary" >"$ROOT/target/schemathesis-server.log" 2>&1 &
  local server=$!
  local ready=""
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "$base/api/openapi.json" 2>/dev/null; then ready=1; break; fi
    kill -0 "$server" 2>/dev/null || break
    sleep 0.2
  done
  if [ -z "$ready" ]; then
    kill "$server" 2>/dev/null || true
    cat "$ROOT/target/schemathesis-server.log" >&2
    die "the server did not answer on $base"
  fi
  local status=0
  # /api/events is an endless stream: described, but not something to fuzz.
  # Strict and advisory readiness answer 503 while not ready: declared in the
  # document and part of the contract (CI gates on it), so expected there.
  timeout 600 "$SCHEMATHESIS_VENV/bin/schemathesis" --no-color \
    --config-file "$ROOT/scripts/schemathesis.toml" run \
    "$base/api/openapi.json" \
    --url "$base" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
    --exclude-path /api/events \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-50}" \
    --seed "${SCHEMATHESIS_SEED:-17}" \
    --workers 1 || status=$?
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  [ "$status" -eq 0 ] || die "Schemathesis found answers that contradict the OpenAPI document (server log: target/schemathesis-server.log)"
}
