#!/usr/bin/env bash
# Private Redis and RabbitMQ servers for ArtGrid development, tests and CI, without systemd.
#
#   deploy/servers.sh up|down|status|restart [redis|rabbitmq]      (no second argument: both)
#
#   up       start what does not already answer on its port and wait until it is ready; a server that
#            already answers (someone else's, or ours from an earlier `up`) is left alone
#   down     stop what this state directory records as started by us (never anything else); idempotent
#   restart  graceful stop, then start of our own instance, keeping its data (Redis AOF, RabbitMQ mnesia:
#            durable queues and persistent messages survive); used by tests that prove reconnection
#   status   one line per server; exit 0 when all the servers asked about are running, 3 otherwise
#
# Environment (defaults in brackets):
#   ARTGRID_STATE_DIR      [<repo>/.artgrid/servers]  data, logs, pid files, Erlang cookie (HOME) of our servers
#   ARTGRID_REDIS_PORT     [6379]
#   ARTGRID_AMQP_PORT      [5672]   the Erlang distribution port is this + 20000
#   ARTGRID_RABBITMQ_NODE  [artgrid-<amqp port>@localhost]
#   ARTGRID_RABBITMQ_MANAGEMENT_PORT  [unset: off]  enables rabbitmq_management (web UI and HTTP API) on this port
#   ARTGRID_RABBITMQ_PROMETHEUS_PORT  [unset: off]  enables rabbitmq_prometheus (/metrics) on this port
#     (both on the bind address; read when the node starts: `restart rabbitmq` to change them on a running one)
#   ARTGRID_BIND_ADDRESS   [127.0.0.1]  the one address Redis, AMQP and those two plugins listen on. Another address
#     (a test network's, say) also lets RabbitMQ's guest user log in from other hosts and turns Redis' protected mode
#     off (no password): for test networks only
#
# Everything listens on that address only; the broker's Erlang distribution and epmd stay on 127.0.0.1. Missing packages are
# installed with apt-get when run as root; otherwise the script says what to install and exits 1.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=deploy/lib.sh
. "$SCRIPT_DIR/lib.sh"

if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
cmd=$1
case $cmd in up|down|restart|status) ;; *) usage ;; esac
case ${2:-both} in
  redis) targets=(redis) ;;
  rabbitmq) targets=(rabbitmq) ;;
  both) targets=(redis rabbitmq) ;;
  *) usage ;;
esac

is_port() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }

BIND=${ARTGRID_BIND_ADDRESS:-127.0.0.1}
[[ $BIND =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "ARTGRID_BIND_ADDRESS is not an IPv4 address: $BIND"
REDIS_PORT=${ARTGRID_REDIS_PORT:-6379}
AMQP_PORT=${ARTGRID_AMQP_PORT:-5672}
is_port "$REDIS_PORT" || die "ARTGRID_REDIS_PORT is not a port: $REDIS_PORT"
is_port "$AMQP_PORT" || die "ARTGRID_AMQP_PORT is not a port: $AMQP_PORT"
DIST_PORT=$((AMQP_PORT + 20000))
is_port "$DIST_PORT" || die "ARTGRID_AMQP_PORT + 20000 (the Erlang distribution port) is over 65535"
MGMT_PORT=${ARTGRID_RABBITMQ_MANAGEMENT_PORT:-}
PROM_PORT=${ARTGRID_RABBITMQ_PROMETHEUS_PORT:-}
[ -z "$MGMT_PORT" ] || is_port "$MGMT_PORT" || die "ARTGRID_RABBITMQ_MANAGEMENT_PORT is not a port: $MGMT_PORT"
[ -z "$PROM_PORT" ] || is_port "$PROM_PORT" || die "ARTGRID_RABBITMQ_PROMETHEUS_PORT is not a port: $PROM_PORT"
NODE=${ARTGRID_RABBITMQ_NODE:-artgrid-$AMQP_PORT@localhost}
[[ $NODE == *@* ]] || NODE="$NODE@localhost"

STATE=${ARTGRID_STATE_DIR:-$REPO_ROOT/.artgrid/servers}
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)   # absolute: RabbitMQ needs absolute paths, and the pid files are compared later
STARTED="$STATE/started"      # one line per thing this state directory started: redis, rabbitmq, epmd

REDIS_DIR="$STATE/redis"
REDIS_LOG="$STATE/redis.log"
REDIS_PID="$STATE/redis.pid"

RMQ_DIR="$STATE/rabbitmq"
RMQ_HOME="$STATE/rabbitmq-home"
RMQ_MNESIA="$RMQ_DIR/mnesia"
RMQ_LOG_BASE="$RMQ_DIR/log"
RMQ_LOG="$RMQ_LOG_BASE/$NODE.log"
RMQ_CONSOLE_LOG="$STATE/rabbitmq.console.log"
RMQ_PID="$STATE/rabbitmq.pid"                 # the Erlang VM (beam) pid, written by RabbitMQ itself
RMQ_WRAPPER_PID="$STATE/rabbitmq.wrapper.pid" # the rabbitmq-server shell that runs the VM in the foreground

REDIS_READY_TIMEOUT=20
RMQ_READY_TIMEOUT=90
RMQ_STOP_TIMEOUT=60

# ---------------------------------------------------------------------------------------------- helpers

read_pid() { if [ -s "$1" ]; then tr -dc '0-9' <"$1"; fi; }

# The pid in a pid file, only if it is still alive and still runs the program we expect (pids get reused).
live_pid() {
  local pid args
  pid=$(read_pid "$1")
  [ -n "$pid" ] && pid_alive "$pid" || return 1
  args=$(ps -o args= -p "$pid" 2>/dev/null) || return 1
  [[ $args == *$2* ]] || return 1
  echo "$pid"
}

# Wait until a pid has exited; 0 if it did within $2 seconds.
wait_exit() {
  local pid=$1 deadline=$(( $(now_ms) + $2 * 1000 ))
  while pid_alive "$pid"; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# SIGTERM, wait, then SIGKILL.
terminate() {
  local pid=$1 name=$2 grace=${3:-15}
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait_exit "$pid" "$grace" && return 0
  echo "$name: still running $grace s after SIGTERM; sending SIGKILL to $pid" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait_exit "$pid" 5 || echo "$name: pid $pid did not exit after SIGKILL" >&2
}

# shellcheck disable=SC2016  # $1 is expanded by the inner bash
tcp_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$BIND" "$1" 2>/dev/null; }

is_marked() { [ -f "$STARTED" ] && grep -qx "$1" "$STARTED"; }
mark() { is_marked "$1" || echo "$1" >>"$STARTED"; }
unmark() {
  [ -f "$STARTED" ] || return 0
  grep -vx "$1" "$STARTED" >"$STARTED.tmp" || true
  mv "$STARTED.tmp" "$STARTED"
}

show_tail() {
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    echo "---- last lines of $f" >&2
    tail -n 40 "$f" >&2
  done
}

# -------------------------------------------------------------------------------------- installation

RMQ_BIN=""
find_rabbitmq() {
  # Debian's /usr/sbin/rabbitmq-server and rabbitmqctl are a wrapper that, as root, re-runs the command
  # through `su rabbitmq`: that resets HOME (so the CLI uses /var/lib/rabbitmq's Erlang cookie, not our
  # node's) and the rabbitmq user cannot write a root-owned state directory. The scripts behind it run
  # as any user, so use them directly.
  local d
  for d in /usr/lib/rabbitmq/bin /usr/local/lib/rabbitmq/bin; do
    if [ -x "$d/rabbitmq-server" ] && [ -x "$d/rabbitmqctl" ]; then RMQ_BIN=$d; return 0; fi
  done
  if command -v rabbitmqctl >/dev/null 2>&1 && ! grep -qs 'su rabbitmq' "$(command -v rabbitmqctl)"; then
    RMQ_BIN=$(dirname "$(command -v rabbitmqctl)")
    [ -x "$RMQ_BIN/rabbitmq-server" ] && return 0
  fi
  RMQ_BIN=""
  return 1
}

EPMD=""
find_epmd() {
  EPMD=$(command -v epmd 2>/dev/null || true)
  if [ -z "$EPMD" ]; then
    EPMD=$(find /usr/lib/erlang /usr/local/lib/erlang -name epmd -type f -perm -u+x 2>/dev/null | head -n 1 || true)
  fi
  [ -n "$EPMD" ]
}

install_packages() {
  local pkgs=("$@")
  if [ "$(id -u)" -ne 0 ]; then
    echo "servers.sh: missing packages: ${pkgs[*]}" >&2
    echo "servers.sh: install them as root with: apt-get install -y ${pkgs[*]}" >&2
    exit 1
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing packages (${pkgs[*]}) and no apt-get to install them"
  # Without systemd, the packages' maintainer scripts would start the system-wide services through
  # their init scripts (listening on every interface, on the default ports we may want); a policy-rc.d
  # that answers 101 forbids that for the duration of the install.
  local policy=/usr/sbin/policy-rc.d own_policy=0 rc=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  echo "servers.sh: installing ${pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Another apt or dpkg (an unattended upgrade, a second install) may hold the locks: wait for them, up to 10 minutes,
  # instead of failing at once.
  local wait=(-o DPkg::Lock::Timeout=600)
  if ! apt-get "${wait[@]}" install -y "${pkgs[@]}"; then
    apt-get "${wait[@]}" update && apt-get "${wait[@]}" install -y "${pkgs[@]}" || rc=$?
  fi
  if [ "$own_policy" = 1 ]; then rm -f "$policy"; trap - EXIT; fi
  [ "$rc" -eq 0 ] || die "apt-get install ${pkgs[*]} failed"
}

ensure_installed() {
  local pkgs=() t
  for t in "$@"; do
    case $t in
      redis) { command -v redis-server && command -v redis-cli; } >/dev/null 2>&1 || pkgs+=(redis-server) ;;
      rabbitmq) { find_rabbitmq && find_epmd; } || pkgs+=(rabbitmq-server) ;;
    esac
  done
  [ "${#pkgs[@]}" -eq 0 ] && return 0
  install_packages "${pkgs[@]}"
  for t in "$@"; do
    case $t in
      redis) command -v redis-server >/dev/null 2>&1 || die "redis-server is still missing after installing" ;;
      rabbitmq) { find_rabbitmq && find_epmd; } || die "rabbitmq-server or epmd is still missing after installing" ;;
    esac
  done
}

# --------------------------------------------------------------------------------------------- Redis

redis_cli() { timeout 3 redis-cli -h "$BIND" -p "$REDIS_PORT" "$@"; }
redis_ping() { [ "$(redis_cli ping 2>/dev/null)" = PONG ]; }
redis_our_pid() { live_pid "$REDIS_PID" redis-server; }

redis_up() {
  local pid t0
  if redis_ping; then
    if is_marked redis && pid=$(redis_our_pid); then
      say "redis: already running (ours, pid $pid) on $BIND:$REDIS_PORT"
    else
      say "redis: something already answers PONG on $BIND:$REDIS_PORT; leaving it alone (external)"
    fi
    return 0
  fi
  if is_marked redis; then
    if pid=$(redis_our_pid); then
      say "redis: ours (pid $pid) is running but not answering yet; waiting"
      redis_wait_ready "$pid" "$(now_ms)"
      return
    fi
    unmark redis   # left over from a server that died or a machine that rebooted
  fi
  if tcp_open "$REDIS_PORT"; then
    die "redis: $BIND:$REDIS_PORT is taken by something that does not answer Redis PING; choose another ARTGRID_REDIS_PORT"
  fi

  mkdir -p "$REDIS_DIR"
  rm -f "$REDIS_PID"
  t0=$(now_ms)
  # setsid: its own session, so that the caller's Ctrl-C or terminal hang-up does not reach it.
  # Early errors (bad argument, port in use) go to stdout before the log file is open: same file.
  # shellcheck disable=SC2094
  setsid redis-server \
    --bind "$BIND" --port "$REDIS_PORT" --dir "$REDIS_DIR" \
    --appendonly yes --appendfsync everysec --save "" \
    --protected-mode "$([ "$BIND" = 127.0.0.1 ] && echo yes || echo no)" --daemonize no \
    --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" \
    </dev/null >>"$REDIS_LOG" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$REDIS_PID.launch"
  mark redis
  redis_wait_ready "$pid" "$t0"
}

redis_wait_ready() {
  local pid=$1 t0=$2 deadline
  deadline=$(( t0 + REDIS_READY_TIMEOUT * 1000 ))
  while ! pid_alive "$pid" || ! redis_ping; do
    if ! pid_alive "$pid"; then
      echo "redis: redis-server exited while starting" >&2
      show_tail "$REDIS_LOG"
      unmark redis; rm -f "$REDIS_PID" "$REDIS_PID.launch"
      exit 1
    fi
    if [ "$(now_ms)" -ge "$deadline" ]; then
      echo "redis: not ready after $REDIS_READY_TIMEOUT s" >&2
      show_tail "$REDIS_LOG"
      terminate "$pid" redis 5
      unmark redis; rm -f "$REDIS_PID" "$REDIS_PID.launch"
      exit 1
    fi
    sleep 0.05
  done
  [ -s "$REDIS_PID" ] || echo "$pid" >"$REDIS_PID"
  rm -f "$REDIS_PID.launch"
  say "redis: started (pid $(read_pid "$REDIS_PID")) on $BIND:$REDIS_PORT in $(elapsed "$t0"); data in $REDIS_DIR"
}

redis_down() {
  local pid t0
  if ! is_marked redis; then
    say "redis: not started by us (state $STATE); nothing to stop"
    return 0
  fi
  t0=$(now_ms)
  if ! pid=$(redis_our_pid) && ! pid=$(live_pid "$REDIS_PID.launch" redis-server); then
    say "redis: ours had already exited"
    unmark redis; rm -f "$REDIS_PID" "$REDIS_PID.launch"
    return 0
  fi
  # SHUTDOWN flushes the append-only file before exiting; only ask when the process we started is the
  # one answering, so that we never shut down somebody else's server.
  if redis_ping; then
    redis_cli shutdown >/dev/null 2>&1 || true
  fi
  if ! wait_exit "$pid" 20; then
    echo "redis: still running after SHUTDOWN; sending SIGTERM" >&2
    terminate "$pid" redis 10
  fi
  unmark redis; rm -f "$REDIS_PID" "$REDIS_PID.launch"
  say "redis: stopped (pid $pid) in $(elapsed "$t0")"
}

# One line of `status`: server, state, port, pid, whose.
status_line() { printf "%-9s %-8s $BIND:%-6s pid %-8s %s\n" "$@"; }

redis_status() {
  local pid
  if redis_ping; then
    if is_marked redis && pid=$(redis_our_pid); then
      status_line redis running "$REDIS_PORT" "$pid" ours
    else
      status_line redis running "$REDIS_PORT" - external
    fi
    return 0
  fi
  if is_marked redis && pid=$(redis_our_pid); then
    status_line redis starting "$REDIS_PORT" "$pid" "ours (not answering PING)"
  else
    status_line redis stopped "$REDIS_PORT" - -
  fi
  return 3
}

# ------------------------------------------------------------------------------------------ RabbitMQ

# The environment of our node, for the server and for every CLI call (the CLI finds the node's cookie
# through HOME, and any Erlang VM that starts distribution starts epmd if none runs: ERL_EPMD_ADDRESS
# keeps that epmd on loopback too).
rmq_export() {
  export RABBITMQ_NODENAME="$NODE"
  export RABBITMQ_NODE_IP_ADDRESS=$BIND
  export RABBITMQ_NODE_PORT="$AMQP_PORT"
  export RABBITMQ_DIST_PORT="$DIST_PORT"
  export RABBITMQ_MNESIA_BASE="$RMQ_MNESIA"
  export RABBITMQ_LOG_BASE="$RMQ_LOG_BASE"
  export RABBITMQ_PID_FILE="$RMQ_PID"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins"
  export RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq.conf"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_DIR/advanced.config"
  export RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf"   # not /etc/rabbitmq/rabbitmq-env.conf
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export ERL_EPMD_ADDRESS=127.0.0.1
  export ERL_CRASH_DUMP="$RMQ_DIR/erl_crash.dump"
  export HOME="$RMQ_HOME"
  export ARTGRID_SERVERS_STATE="$STATE"   # lets a later `down` recognise an epmd that our node started
}

rmqctl() { ( rmq_export; cd "$RMQ_DIR" && "$RMQ_BIN/rabbitmqctl" -n "$NODE" "$@" ); }

rmq_our_pid() { live_pid "$RMQ_PID" beam; }

rmq_write_config() {
  mkdir -p "$RMQ_DIR" "$RMQ_MNESIA" "$RMQ_LOG_BASE" "$RMQ_HOME"
  chmod 700 "$RMQ_HOME"
  # The node's own files, rewritten at every start, so that nothing under /etc/rabbitmq applies.
  cat >"$RMQ_DIR/rabbitmq.conf" <<EOF
# Written by deploy/servers.sh at every start; edit the script, not this file.
# The AMQP listener ($BIND:$AMQP_PORT) comes from RABBITMQ_NODE_IP_ADDRESS/RABBITMQ_NODE_PORT.
# guest/guest may log in from loopback only (RabbitMQ's default), unless the broker listens on another address.
loopback_users.guest = $([ "$BIND" = 127.0.0.1 ] && echo true || echo false)
log.file.level = info
log.console = false
EOF
  # Plugins only when asked for, each on its own port on the bind address (none by default: test brokers need none).
  local plugins=()
  if [ -n "$MGMT_PORT" ]; then
    plugins+=(rabbitmq_management)
    printf 'management.tcp.ip = %s\nmanagement.tcp.port = %s\n' "$BIND" "$MGMT_PORT" >>"$RMQ_DIR/rabbitmq.conf"
  fi
  if [ -n "$PROM_PORT" ]; then
    plugins+=(rabbitmq_prometheus)
    printf 'prometheus.tcp.ip = %s\nprometheus.tcp.port = %s\n' "$BIND" "$PROM_PORT" >>"$RMQ_DIR/rabbitmq.conf"
  fi
  (IFS=,; echo "[${plugins[*]}].") >"$RMQ_DIR/enabled_plugins"
  echo '# Written by deploy/servers.sh: keeps /etc/rabbitmq/rabbitmq-env.conf out of our node.' \
    >"$RMQ_DIR/rabbitmq-env.conf"
  # Our own cookie, made before anything starts so that the server and the CLI cannot race to create it.
  if [ ! -s "$RMQ_HOME/.erlang.cookie" ]; then
    local cookie=""
    while [ "${#cookie}" -lt 20 ]; do
      cookie+=$(head -c 64 /dev/urandom | LC_ALL=C tr -dc '[:upper:]')
    done
    (umask 077; printf '%s' "${cookie:0:20}" >"$RMQ_HOME/.erlang.cookie")
    chmod 400 "$RMQ_HOME/.erlang.cookie"
  fi
}

epmd_running() { ( rmq_export; "$EPMD" -names >/dev/null 2>&1 ); }
epmd_node_count() { ( rmq_export; "$EPMD" -names 2>/dev/null | grep -c '^name ' ) || true; }

ensure_epmd() {
  epmd_running && return 0
  ( rmq_export; cd "$RMQ_DIR" && setsid "$EPMD" -daemon </dev/null >/dev/null 2>&1 9>&- ) || true
  local i
  for i in $(seq 1 50); do
    epmd_running && { mark epmd; return 0; }
    sleep 0.1
  done
  die "could not start epmd"
}

# An epmd is ours when this state directory started it, or when any state directory of these scripts
# did (its environment says so): with two state directories, the second `down` must still be able to
# stop the epmd the first one started.
epmd_is_ours() {
  is_marked epmd && return 0
  local pid
  for pid in $(pgrep -x epmd 2>/dev/null || true); do
    pid_alive "$pid" || continue
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -q '^ARTGRID_SERVERS_STATE=' && return 0
  done
  return 1
}

epmd_down() {
  find_epmd || return 0
  if ! epmd_running; then unmark epmd; return 0; fi
  epmd_is_ours || return 0
  local n
  n=$(epmd_node_count)
  if [ "$n" -gt 0 ]; then
    say "epmd: still used by $n other Erlang node(s); leaving it running"
    return 0
  fi
  ( rmq_export; "$EPMD" -kill >/dev/null 2>&1 ) || true
  unmark epmd
  say "epmd: stopped"
}

rabbitmq_up() {
  local pid t0 wrapper
  if tcp_open "$AMQP_PORT"; then
    if is_marked rabbitmq && pid=$(rmq_our_pid); then
      if rmqctl await_startup --timeout 30 >/dev/null 2>&1; then
        say "rabbitmq: already running (ours, node $NODE, pid $pid) on $BIND:$AMQP_PORT"
        return 0
      fi
      echo "rabbitmq: ours (node $NODE, pid $pid) accepts connections but is not fully started" >&2
      show_tail "$RMQ_LOG"
      exit 1
    fi
    say "rabbitmq: something already accepts connections on $BIND:$AMQP_PORT; leaving it alone (external)"
    return 0
  fi
  if is_marked rabbitmq; then
    if pid=$(rmq_our_pid); then
      say "rabbitmq: ours (node $NODE, pid $pid) is running but not listening yet; waiting"
      wrapper=$(read_pid "$RMQ_WRAPPER_PID")
      rabbitmq_wait_ready "${wrapper:-$pid}" "$(now_ms)"
      return
    fi
    unmark rabbitmq   # left over from a node that died or a machine that rebooted
  fi

  rmq_write_config
  ensure_epmd
  rm -f "$RMQ_PID"
  t0=$(now_ms)
  # rabbitmq-server runs the VM in the foreground under a small shell that turns SIGTERM into a clean
  # stop; setsid detaches both from the caller's session. Working directory: our state, not the
  # package's /var/lib/rabbitmq.
  ( rmq_export; cd "$RMQ_DIR" && exec setsid "$RMQ_BIN/rabbitmq-server" ) </dev/null >>"$RMQ_CONSOLE_LOG" 2>&1 9>&- &
  wrapper=$!
  echo "$wrapper" >"$RMQ_WRAPPER_PID"
  mark rabbitmq
  rabbitmq_wait_ready "$wrapper" "$t0"
}

rabbitmq_wait_ready() {
  local wrapper=$1 t0=$2 deadline left
  deadline=$(( t0 + RMQ_READY_TIMEOUT * 1000 ))
  # Poll the AMQP port (opened at the end of the boot), then ask the node itself.
  until tcp_open "$AMQP_PORT"; do
    if ! pid_alive "$wrapper"; then
      echo "rabbitmq: the node exited while starting" >&2
      rabbitmq_fail
    fi
    if [ "$(now_ms)" -ge "$deadline" ]; then
      echo "rabbitmq: not listening on $BIND:$AMQP_PORT after $RMQ_READY_TIMEOUT s" >&2
      rabbitmq_fail
    fi
    sleep 0.2
  done
  left=$(( (deadline - $(now_ms)) / 1000 ))
  [ "$left" -ge 5 ] || left=5
  if ! rmqctl await_startup --timeout "$left" >/dev/null 2>&1; then
    echo "rabbitmq: the port is open but the node did not confirm it started (await_startup)" >&2
    rabbitmq_fail
  fi
  say "rabbitmq: started (node $NODE, pid $(read_pid "$RMQ_PID")) on $BIND:$AMQP_PORT in $(elapsed "$t0"); data in $RMQ_MNESIA"
  if [ -n "$MGMT_PORT" ]; then say "rabbitmq: management UI and API on http://$BIND:$MGMT_PORT/ (guest/guest)"; fi
  if [ -n "$PROM_PORT" ]; then say "rabbitmq: Prometheus metrics on http://$BIND:$PROM_PORT/metrics"; fi
}

# A start that failed: show why, stop whatever is left of it, forget it.
rabbitmq_fail() {
  show_tail "$RMQ_CONSOLE_LOG" "$RMQ_LOG"
  rabbitmq_stop_processes >/dev/null 2>&1 || true
  unmark rabbitmq
  epmd_down >/dev/null 2>&1 || true
  exit 1
}

rabbitmq_stop_processes() {
  local pid wrapper
  wrapper=$(read_pid "$RMQ_WRAPPER_PID")
  if pid=$(rmq_our_pid); then
    # `stop PIDFILE` returns once the VM has exited; bounded in case the node hangs.
    if ! ( rmq_export; cd "$RMQ_DIR" && timeout "$RMQ_STOP_TIMEOUT" "$RMQ_BIN/rabbitmqctl" -n "$NODE" stop "$RMQ_PID" ) >/dev/null 2>&1; then
      echo "rabbitmq: rabbitmqctl stop did not succeed; sending SIGTERM to $pid" >&2
    fi
    if ! wait_exit "$pid" 10; then
      terminate "$pid" rabbitmq 15
    fi
  fi
  if [ -n "$wrapper" ] && pid_alive "$wrapper"; then
    wait_exit "$wrapper" 5 || terminate "$wrapper" rabbitmq-server 5
  fi
  rm -f "$RMQ_PID" "$RMQ_WRAPPER_PID"
}

rabbitmq_down() {
  local pid t0
  if ! is_marked rabbitmq; then
    say "rabbitmq: not started by us (state $STATE); nothing to stop"
    [ "${KEEP_EPMD:-0}" = 1 ] || epmd_down
    return 0
  fi
  t0=$(now_ms)
  if pid=$(rmq_our_pid); then
    rabbitmq_stop_processes
    unmark rabbitmq
    say "rabbitmq: stopped (node $NODE, pid $pid) in $(elapsed "$t0")"
  else
    rabbitmq_stop_processes
    unmark rabbitmq
    say "rabbitmq: ours had already exited"
  fi
  # A restart starts the node again at once: keep epmd for it.
  [ "${KEEP_EPMD:-0}" = 1 ] || epmd_down
}

rabbitmq_status() {
  local pid
  if tcp_open "$AMQP_PORT"; then
    if is_marked rabbitmq && pid=$(rmq_our_pid); then
      status_line rabbitmq running "$AMQP_PORT" "$pid" "ours (node $NODE)"
    else
      status_line rabbitmq running "$AMQP_PORT" - external
    fi
    return 0
  fi
  # No CLI call here: with no epmd running, the CLI would start one.
  if is_marked rabbitmq && pid=$(rmq_our_pid); then
    status_line rabbitmq starting "$AMQP_PORT" "$pid" "ours (node $NODE, port not open)"
  else
    status_line rabbitmq stopped "$AMQP_PORT" - -
  fi
  return 3
}

# ---------------------------------------------------------------------------------------------- main

# One servers.sh at a time per state directory (concurrent test runs, a Ctrl-C'd run and a new one).
# Every server is started with fd 9 closed, or it would hold the lock for as long as it runs.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$STATE/.lock"
  flock -w 180 9 || die "another servers.sh holds $STATE/.lock"
fi

case $cmd in
  up)
    ensure_installed "${targets[@]}"
    for t in "${targets[@]}"; do "${t}_up"; done
    ;;
  down)
    find_rabbitmq || true
    find_epmd || true
    # RabbitMQ first: the cluster's consumers notice it going away before their cache does.
    for ((i = ${#targets[@]} - 1; i >= 0; i--)); do "${targets[$i]}_down"; done
    ;;
  restart)
    ensure_installed "${targets[@]}"
    for t in "${targets[@]}"; do
      if ! is_marked "$t"; then
        if [ "$t" = redis ] && redis_ping; then die "redis on $BIND:$REDIS_PORT was not started by us; not restarting it"; fi
        if [ "$t" = rabbitmq ] && tcp_open "$AMQP_PORT"; then die "rabbitmq on $BIND:$AMQP_PORT was not started by us; not restarting it"; fi
      fi
      t0=$(now_ms)
      KEEP_EPMD=1 "${t}_down"
      "${t}_up"
      say "$t: restarted in $(elapsed "$t0")"
    done
    ;;
  status)
    find_rabbitmq || true
    rc=0
    for t in "${targets[@]}"; do "${t}_status" || rc=3; done
    exit "$rc"
    ;;
  *) usage ;;
esac
