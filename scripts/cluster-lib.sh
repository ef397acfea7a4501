# shellcheck shell=bash
# Several servers behind HAProxy: three release servers on one database, with
# deploy/haproxy.cfg in front. Sourced after scripts/lib.sh, never run; used by
# scripts/cluster (the documented set-up), scripts/chaos (the chaos test) and
# scripts/test (the cluster check), and free for any other script to use.
#
#   cluster_start DATABASE_URL FRONT_ADDR FIRST_PORT
#       starts servers 1–3 on 127.0.0.1:FIRST_PORT, +1, +2 (serving as the role in
#       DATABASE_URL, which must already be migrated), then HAProxy on FRONT_ADDR
#       with its status page on 127.0.0.1:FIRST_PORT+3, and waits until HAProxy
#       routes to all three;
#   cluster_server_start N / cluster_server_stop N [SIGNAL] / cluster_server_ready N
#       one server: start it, stop it (SIGTERM by default: it drains, then exits;
#       SIGKILL for an abrupt end) and wait until it is gone, or wait for its
#       /readyz;
#   cluster_haproxy_state N / cluster_wait_haproxy N UP|DOWN [SECONDS]
#       what HAProxy's checks make of server N (UP, DOWN, "UP 1/2", …);
#   cluster_supervise
#       restarts a server that exits, or whose /livez fails for
#       CLUSTER_LIVEZ_FAILURES (5) seconds in a row; runs until HAProxy exits;
#   cluster_stop
#       stops HAProxy, then SIGTERMs every server and waits for them.
#
# What the servers see: the caller's environment without
# CLEARANCE_OWNER_DATABASE_URL (a serving process never sees the owner's URL),
# plus DATABASE_URL, LEPTOS_SITE_ADDR, LEPTOS_SITE_ROOT, LEPTOS_ENV (PROD unless
# set), CLEARANCE_TRUSTED_PROXIES (127.0.0.1 unless set: HAProxy's address, so
# the throttles see the client's X-Forwarded-For address) and CLEARANCE_PUBLIC_URL
# (http://FRONT_ADDR unless set). CLEARANCE_LOG_KEY_FILE (or CLEARANCE_LOG_KEY)
# must be set: every server signs the log with the same key.
#
# Settings read when cluster_start runs (all optional):
#   CLUSTER_CLEAN_ENV=1    start the servers with only PATH, HOME, the CLEARANCE_*
#                          and RUST_LOG variables of the caller, and the names listed
#                          in CLUSTER_PASS_ENV (e.g. "RESEND_API_KEY"): nothing else
#                          in the caller's environment configures a dependency
#   CLUSTER_SERVER_BIN     the server binary (default target/release/server)
#   CLUSTER_SITE_ROOT      the site root (default target/site)
#   CLUSTER_DIR            logs and pid files (default: a new temporary directory);
#                          server-N.log, server-N.pid, haproxy.log
# Afterwards CLUSTER_DIR, CLUSTER_FRONT_ADDR, CLUSTER_STATS_ADDR and
# CLEARANCE_CLUSTER_SERVER_1..3 are exported, so a child process (a load generator)
# can find the cluster.

CLUSTER_SIZE=3
CLUSTER_LIVEZ_FAILURES="${CLUSTER_LIVEZ_FAILURES:-5}"

cluster_server_addr() { # cluster_server_addr N
  local name="CLEARANCE_CLUSTER_SERVER_$1"
  printf '%s' "${!name}"
}

cluster_pid() { # cluster_pid N: the server's process id, or nothing when none runs
  local file="$CLUSTER_DIR/server-$1.pid" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  cluster_alive "$pid" && printf '%s' "$pid"
  return 0
}

cluster_alive() { # cluster_alive PID: running, and not a zombie waiting to be reaped
  local state
  state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# HAProxy (deploy/haproxy.cfg: maxconn 4096) wants two descriptors per connection
# and refuses to start below about 8,200 open files; the usual soft limit is 1,024.
raise_open_files() { # raise_open_files WANTED NEEDED: up to WANTED open files, and at least NEEDED
  local wanted_fds="$1" needed_fds="$2" hard
  if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$wanted_fds" ]; then
    hard="$(ulimit -Hn)"
    if [ "$hard" = unlimited ] || [ "$hard" -ge "$wanted_fds" ]; then
      ulimit -n "$wanted_fds"
    else
      ulimit -n "$hard"
    fi
  fi
  [ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$needed_fds" ] ||
    die "the open-file limit is $(ulimit -n) (hard limit $(ulimit -Hn)); this needs about $needed_fds (ulimit -n)"
}

cluster_start() { # cluster_start DATABASE_URL FRONT_ADDR FIRST_PORT
  raise_open_files 10000 8300
  local database_url="$1" front="$2" first_port="$3"
  [ -n "${CLEARANCE_LOG_KEY_FILE:-}${CLEARANCE_LOG_KEY:-}" ] ||
    die "cluster_start: set CLEARANCE_LOG_KEY_FILE (setup_log_key): every server needs the same log key"
  export CLUSTER_DIR="${CLUSTER_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/clearance-cluster.XXXXXX")}"
  mkdir -p "$CLUSTER_DIR"
  export CLUSTER_SERVER_BIN="${CLUSTER_SERVER_BIN:-$ROOT/target/release/server}"
  export CLUSTER_SITE_ROOT="${CLUSTER_SITE_ROOT:-$ROOT/target/site}"
  export CLUSTER_DATABASE_URL="$database_url"
  export CLUSTER_FRONT_ADDR="$front"
  export CLEARANCE_CLUSTER_ADDR="$front"
  export CLUSTER_STATS_ADDR="127.0.0.1:$((first_port + CLUSTER_SIZE))"
  export CLEARANCE_CLUSTER_STATS_ADDR="$CLUSTER_STATS_ADDR"
  local n
  for n in $(seq 1 "$CLUSTER_SIZE"); do
    export "CLEARANCE_CLUSTER_SERVER_$n=127.0.0.1:$((first_port + n - 1))"
  done
  [ -x "$CLUSTER_SERVER_BIN" ] || die "cluster_start: no server binary at $CLUSTER_SERVER_BIN (build_release)"
  for addr in "$front" "$CLUSTER_STATS_ADDR" "$CLEARANCE_CLUSTER_SERVER_1" "$CLEARANCE_CLUSTER_SERVER_2" "$CLEARANCE_CLUSTER_SERVER_3"; do
    if (: >"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null; then
      die "cluster_start: something already listens on $addr"
    fi
  done
  haproxy -c -q -f "$ROOT/deploy/haproxy.cfg" || die "deploy/haproxy.cfg does not pass haproxy -c"

  step "Starting $CLUSTER_SIZE servers on ${CLEARANCE_CLUSTER_SERVER_1}–${CLEARANCE_CLUSTER_SERVER_3##*:} (logs in $CLUSTER_DIR)"
  for n in $(seq 1 "$CLUSTER_SIZE"); do
    cluster_server_start "$n"
  done
  for n in $(seq 1 "$CLUSTER_SIZE"); do
    cluster_server_ready "$n"
  done

  step "Starting HAProxy on $front (status page http://$CLUSTER_STATS_ADDR/)"
  haproxy -db -f "$ROOT/deploy/haproxy.cfg" >>"$CLUSTER_DIR/haproxy.log" 2>&1 &
  echo "$!" >"$CLUSTER_DIR/haproxy.pid"
  for n in $(seq 1 "$CLUSTER_SIZE"); do
    cluster_wait_haproxy "$n" UP 20
  done
  info "HAProxy $(haproxy -v | awk '/^HAProxy version/ { print $3; exit }') routes to all $CLUSTER_SIZE servers: http://$front/"
}

# The environment a server starts with (as `env` arguments).
cluster_server_env() { # cluster_server_env N: fills the array CLUSTER_ENV_ARGS
  local addr
  addr="$(cluster_server_addr "$1")"
  CLUSTER_ENV_ARGS=(env -u CLEARANCE_OWNER_DATABASE_URL)
  if [ "${CLUSTER_CLEAN_ENV:-0}" = 1 ]; then
    CLUSTER_ENV_ARGS=(env -i PATH="$PATH" HOME="$HOME")
    local name
    for name in $(compgen -e); do
      case "$name" in
        CLEARANCE_OWNER_DATABASE_URL | CLEARANCE_SERVING_DATABASE_URL | CLEARANCE_CLUSTER_*) ;;
        CLEARANCE_* | RUST_LOG) CLUSTER_ENV_ARGS+=("$name=${!name}") ;;
      esac
    done
    for name in ${CLUSTER_PASS_ENV:-}; do
      [ -n "${!name+set}" ] && CLUSTER_ENV_ARGS+=("$name=${!name}")
    done
  fi
  CLUSTER_ENV_ARGS+=(
    DATABASE_URL="$CLUSTER_DATABASE_URL"
    LEPTOS_SITE_ADDR="$addr"
    LEPTOS_SITE_ROOT="$CLUSTER_SITE_ROOT"
    LEPTOS_ENV="${LEPTOS_ENV:-PROD}"
    CLEARANCE_TRUSTED_PROXIES="${CLEARANCE_TRUSTED_PROXIES:-127.0.0.1}"
    CLEARANCE_PUBLIC_URL="${CLEARANCE_PUBLIC_URL:-http://$CLUSTER_FRONT_ADDR}"
  )
}

cluster_server_start() { # cluster_server_start N
  local n="$1" addr
  addr="$(cluster_server_addr "$n")"
  [ -z "$(cluster_pid "$n")" ] || die "server $n already runs (pid $(cluster_pid "$n"))"
  cluster_server_env "$n"
  printf '\n--- started %s ---\n' "$(date -u +%FT%T.%3NZ)" >>"$CLUSTER_DIR/server-$n.log"
  "${CLUSTER_ENV_ARGS[@]}" "$CLUSTER_SERVER_BIN" >>"$CLUSTER_DIR/server-$n.log" 2>&1 &
  echo "$!" >"$CLUSTER_DIR/server-$n.pid"
  info "server $n: http://$addr (pid $!)"
}

cluster_server_ready() { # cluster_server_ready N [SECONDS]: waits for the server's own /readyz
  local n="$1" seconds="${2:-60}" addr pid
  addr="$(cluster_server_addr "$n")"
  for _ in $(seq 1 $((seconds * 5))); do
    curl -fsS -o /dev/null --max-time 2 "http://$addr/readyz" 2>/dev/null && return 0
    pid="$(cluster_pid "$n")"
    if [ -z "$pid" ]; then
      tail -n 30 "$CLUSTER_DIR/server-$n.log" >&2
      die "server $n ($addr) exited; its log: $CLUSTER_DIR/server-$n.log"
    fi
    sleep 0.2
  done
  tail -n 30 "$CLUSTER_DIR/server-$n.log" >&2
  die "server $n ($addr) was not ready within $seconds s; its log: $CLUSTER_DIR/server-$n.log"
}

cluster_server_stop() { # cluster_server_stop N [SIGNAL]: TERM (default) or KILL; waits until it is gone
  local n="$1" signal="${2:-TERM}" pid
  [ -f "$CLUSTER_DIR/server-$n.pid" ] || return 0
  pid="$(cat "$CLUSTER_DIR/server-$n.pid")"
  # Already gone (killed by someone else): only reaped below.
  if cluster_alive "$pid"; then kill -s "$signal" "$pid" 2>/dev/null || true; fi
  # Drain (3 s) + grace (10 s) by default; a little more before giving up.
  for _ in $(seq 1 100); do
    cluster_alive "$pid" || break
    sleep 0.2
  done
  if cluster_alive "$pid"; then
    info "server $n (pid $pid) still runs 20 s after SIG$signal: killing it"
    kill -s KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true # reaps it when it is this shell's child
  rm -f "$CLUSTER_DIR/server-$n.pid"
}

cluster_haproxy_state() { # cluster_haproxy_state N: the status column of HAProxy's CSV
  curl -fsS --max-time 2 "http://$CLUSTER_STATS_ADDR/;csv" 2>/dev/null |
    awk -F, -v server="s$1" '$1 == "clearance" && $2 == server { print $18; exit }' || true
}

cluster_wait_haproxy() { # cluster_wait_haproxy N UP|DOWN [SECONDS]
  local n="$1" want="$2" seconds="${3:-20}" state=""
  for _ in $(seq 1 $((seconds * 10))); do
    state="$(cluster_haproxy_state "$n")"
    [ "$state" = "$want" ] && return 0
    sleep 0.1
  done
  tail -n 20 "$CLUSTER_DIR/haproxy.log" >&2
  die "HAProxy did not see server $n as $want within $seconds s (it says '${state:-nothing}')"
}

cluster_supervise() { # runs until HAProxy exits; restarts servers that die or stop being live
  local -A failures=()
  local n pid haproxy_pid
  haproxy_pid="$(cat "$CLUSTER_DIR/haproxy.pid")"
  while cluster_alive "$haproxy_pid"; do
    local tick_started="$EPOCHREALTIME"
    for n in $(seq 1 "$CLUSTER_SIZE"); do
      pid="$(cluster_pid "$n")"
      if [ -z "$pid" ]; then
        info "$(date -u +%T) server $n is not running: starting it again"
        wait "$(cat "$CLUSTER_DIR/server-$n.pid" 2>/dev/null)" 2>/dev/null || true
        rm -f "$CLUSTER_DIR/server-$n.pid"
        cluster_server_start "$n"
        failures[$n]=0
      elif curl -fsS -o /dev/null --max-time 1 "http://$(cluster_server_addr "$n")/livez" 2>/dev/null; then
        failures[$n]=0
      else
        failures[$n]=$((${failures[$n]:-0} + 1))
        # A server just started is not live until it listens: the count covers that.
        if [ "${failures[$n]}" -ge "$CLUSTER_LIVEZ_FAILURES" ]; then
          info "$(date -u +%T) server $n: /livez failed ${failures[$n]} times in a row: killing and restarting it"
          cluster_server_stop "$n" KILL
          cluster_server_start "$n"
          failures[$n]=0
        fi
      fi
    done
    # One round a second (a hung server's check already took its second).
    local rest
    rest="$(awk -v started="$tick_started" -v now="$EPOCHREALTIME" 'BEGIN { r = 1 - (now - started); if (r > 0) printf "%.2f", r }')"
    if [ -n "$rest" ]; then
      sleep "$rest" &
      wait "$!" || true
    fi
  done
  info "HAProxy exited"
}

cluster_stop() { # stops HAProxy, then every server (SIGTERM: they drain and exit)
  [ -n "${CLUSTER_DIR:-}" ] || return 0
  local pid n
  if [ -f "$CLUSTER_DIR/haproxy.pid" ]; then
    pid="$(cat "$CLUSTER_DIR/haproxy.pid")"
    kill -s TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$CLUSTER_DIR/haproxy.pid"
  fi
  for n in $(seq 1 "$CLUSTER_SIZE"); do
    pid="$(cluster_pid "$n")"
    [ -n "$pid" ] && kill -s TERM "$pid" 2>/dev/null
  done
  for n in $(seq 1 "$CLUSTER_SIZE"); do
    cluster_server_stop "$n" TERM
  done
}

# A fresh database for a cluster of its own (the checks, the chaos test): dropped
# if it exists, created and migrated by the owner. Prints nothing; sets
# CLUSTER_OWNER_URL and CLUSTER_SERVING_URL (the same database, as the owner and
# as the serving role). Needs setup_database first.
cluster_fresh_database() { # cluster_fresh_database NAME [SERVER_BIN]
  local name="$1" server="${2:-$ROOT/target/release/server}"
  command -v psql >/dev/null 2>&1 || apt_install postgresql-client
  export CLUSTER_OWNER_URL="${CLEARANCE_OWNER_DATABASE_URL%/*}/$name"
  export CLUSTER_SERVING_URL="${CLEARANCE_SERVING_DATABASE_URL%/*}/$name"
  local maintenance="${CLEARANCE_OWNER_DATABASE_URL%/*}/postgres"
  psql "$maintenance" -qAtX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 ||
    psql "$maintenance" -qAtX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $name WITH (FORCE)"
  psql "$maintenance" -qAtX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $name"
  env -u DATABASE_URL CLEARANCE_OWNER_DATABASE_URL="$CLUSTER_OWNER_URL" "$server" migrate >/dev/null
}

cluster_drop_database() { # cluster_drop_database NAME
  psql "${CLEARANCE_OWNER_DATABASE_URL%/*}/postgres" -qAtX -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1 || true
}

# nginx's own check of deploy/nginx.conf, without installing or starting nginx:
# the machine's nginx when it has one, otherwise the binary from Debian's `nginx`
# package (about 0.5 MB), downloaded and unpacked once into .tools/ (no service
# is installed or started). Sets NGINX.
setup_nginx_binary() {
  if command -v nginx >/dev/null 2>&1; then
    NGINX="$(command -v nginx)"
    return
  fi
  local dir="$ROOT/.tools/nginx"
  if [ ! -x "$dir/usr/sbin/nginx" ]; then
    info "unpacking Debian's nginx package into .tools/nginx (not installed, not started)"
    rm -rf "$dir.download" && mkdir -p "$dir.download"
    (cd "$dir.download" && apt-get download -q nginx >/dev/null 2>&1) ||
      { as_root apt-get update -q >/dev/null && (cd "$dir.download" && apt-get download -q nginx >/dev/null 2>&1); } ||
      die "apt-get download nginx failed"
    rm -rf "$dir" && dpkg-deb -x "$dir.download"/nginx_*.deb "$dir" && rm -rf "$dir.download"
  fi
  NGINX="$dir/usr/sbin/nginx"
}

# haproxy -c on deploy/haproxy.cfg (with scripts/cluster's default addresses) and
# nginx -t on deploy/nginx.conf (inside a minimal main configuration).
cluster_check_configs() {
  step "deploy/haproxy.cfg and deploy/nginx.conf pass haproxy -c and nginx -t"
  CLEARANCE_CLUSTER_ADDR=127.0.0.1:3000 CLEARANCE_CLUSTER_SERVER_1=127.0.0.1:3001 \
    CLEARANCE_CLUSTER_SERVER_2=127.0.0.1:3002 CLEARANCE_CLUSTER_SERVER_3=127.0.0.1:3003 \
    CLEARANCE_CLUSTER_STATS_ADDR=127.0.0.1:3004 haproxy -c -f "$ROOT/deploy/haproxy.cfg" >/dev/null ||
    die "deploy/haproxy.cfg: haproxy -c failed (above)"
  info "haproxy -c: deploy/haproxy.cfg is valid"
  setup_nginx_binary
  local prefix
  prefix="$(mktemp -d "${TMPDIR:-/tmp}/clearance-nginx.XXXXXX")"
  mkdir -p "$prefix/logs"
  cat >"$prefix/nginx.conf" <<CONF
pid $prefix/nginx.pid;
error_log stderr;
events {}
http {
    client_body_temp_path $prefix/body;
    proxy_temp_path $prefix/proxy;
    fastcgi_temp_path $prefix/fastcgi;
    uwsgi_temp_path $prefix/uwsgi;
    scgi_temp_path $prefix/scgi;
    access_log off;
    include $ROOT/deploy/nginx.conf;
}
CONF
  local output status=0
  output="$("$NGINX" -t -q -p "$prefix" -c "$prefix/nginx.conf" 2>&1)" || status=$?
  rm -rf "$prefix"
  [ "$status" -eq 0 ] || die "deploy/nginx.conf: nginx -t failed: $output"
  info "nginx -t ($("$NGINX" -v 2>&1 | sed 's/^nginx version: //')): deploy/nginx.conf is valid"
}
