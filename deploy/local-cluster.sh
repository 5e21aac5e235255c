#!/usr/bin/env bash
# A local ArtGrid cluster on this machine: Redis and RabbitMQ (deploy/servers.sh), N silos and one gateway.
#
#   deploy/local-cluster.sh up [N]     build (unless ARTGRID_NO_BUILD=1), start the servers, N silos (default 2)
#                                      and the gateway, and wait until all of them are ready; each silo sizes its
#                                      decode workers and ONNX Runtime threads from its share of the cores
#                                      (ArtGrid__Silo__Cores: the cores nproc counts divided by N, at least 1)
#   deploy/local-cluster.sh down       stop the gateway and silos it started, then `servers.sh down` (which
#                                      stops only the servers that servers.sh itself started)
#   deploy/local-cluster.sh status     each process (pid, alive or not, and for silos /health/ready) and the servers;
#                                      exit 0 when all run
#
# Environment (defaults in brackets):
#   ARTGRID_CLUSTER_DIR    [<repo>/.artgrid/cluster]  pid and log files of the silos and the gateway
#   ARTGRID_CLUSTER_ID     [artgrid]
#   ARTGRID_GATEWAY_PORT   [8080]     the gateway's HTTP port, on 127.0.0.1
#   ARTGRID_SILO_HTTP_BASE [18080]    silo i serves /health/live, /health/ready and /metrics on 127.0.0.1, port BASE+i
#   ARTGRID_NO_BUILD       [unset]    1: use the binaries already built in Release
#   ARTGRID_REDIS_PORT, ARTGRID_AMQP_PORT, ARTGRID_STATE_DIR  passed on to deploy/servers.sh [6379, 5672]
#   ARTGRID_RABBITMQ_MANAGEMENT_PORT [AMQP port + 10000: 15672]  RabbitMQ's management UI and API, on 127.0.0.1
#   ARTGRID_RABBITMQ_PROMETHEUS_PORT [AMQP port + 11000: 16672]  RabbitMQ's Prometheus endpoint, on 127.0.0.1
#     (derived from the AMQP port, so that two brokers on one machine never share one; "off" leaves a plugin off)
#
# The gateway gets one admin API key, made at the first `up` and kept (owner-only) in $ARTGRID_CLUSTER_DIR/api-key:
#   curl -H "Authorization: Bearer $(cat .artgrid/cluster/api-key)" http://127.0.0.1:8080/models
#
# Silo i (1-based) listens on 127.0.0.1 ports 11110+i (silo), 29999+i (Orleans gateway) and 18080+i (HTTP: health,
# metrics). A silo is ready when its /health/ready answers 200 (an Active cluster member with the active model loaded,
# Redis and RabbitMQ connected).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=deploy/lib.sh
. "$SCRIPT_DIR/lib.sh"
SERVERS="$SCRIPT_DIR/servers.sh"

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
  up) [ $# -le 1 ] || usage ;;
  down | status) [ $# -eq 0 ] || usage ;;
  *) usage ;;
esac

REDIS_PORT=${ARTGRID_REDIS_PORT:-6379}
AMQP_PORT=${ARTGRID_AMQP_PORT:-5672}
export ARTGRID_REDIS_PORT=$REDIS_PORT ARTGRID_AMQP_PORT=$AMQP_PORT   # servers.sh listens where we connect
MGMT_PORT=${ARTGRID_RABBITMQ_MANAGEMENT_PORT:-$((AMQP_PORT + 10000))}
PROM_PORT=${ARTGRID_RABBITMQ_PROMETHEUS_PORT:-$((AMQP_PORT + 11000))}
[ "$MGMT_PORT" != off ] || MGMT_PORT=""
[ "$PROM_PORT" != off ] || PROM_PORT=""
export ARTGRID_RABBITMQ_MANAGEMENT_PORT=$MGMT_PORT ARTGRID_RABBITMQ_PROMETHEUS_PORT=$PROM_PORT
CLUSTER_ID=${ARTGRID_CLUSTER_ID:-artgrid}
SERVICE_ID=artgrid
GATEWAY_PORT=${ARTGRID_GATEWAY_PORT:-8080}
SILO_HTTP_BASE=${ARTGRID_SILO_HTTP_BASE:-18080}
READY_TIMEOUT=90
# Longer than the silos' drain (ArtGrid:Silo:ShutdownSeconds, 60 by default), so that SIGKILL never cuts one short.
STOP_TIMEOUT=90

SILO_DIR="$REPO_ROOT/src/Silo/bin/Release/net10.0"
SILO_DLL="$SILO_DIR/artgrid-silo.dll"
GATEWAY_DIR="$REPO_ROOT/src/Gateway/bin/Release/net10.0"
GATEWAY_DLL="$GATEWAY_DIR/artgrid-gateway.dll"

CLUSTER=${ARTGRID_CLUSTER_DIR:-$REPO_ROOT/.artgrid/cluster}
mkdir -p "$CLUSTER"
CLUSTER=$(cd "$CLUSTER" && pwd)

# The pid recorded for a process of ours, if it is alive and still runs our program (pids get reused).
live_pid() {
  local name=$1 pid args
  [ -s "$CLUSTER/$name.pid" ] || return 1
  pid=$(tr -dc '0-9' <"$CLUSTER/$name.pid")
  pid_alive "$pid" || return 1
  args=$(ps -o args= -p "$pid" 2>/dev/null) || return 1
  [[ $args == *"$(program_of "$name")"* ]] || return 1
  echo "$pid"
}

program_of() { case $1 in gateway) echo artgrid-gateway.dll ;; *) echo artgrid-silo.dll ;; esac; }

# Names of the processes recorded in the cluster directory: silo-1..silo-N, then gateway.
recorded() {
  local f
  for f in "$CLUSTER"/silo-*.pid; do
    [ -e "$f" ] || continue
    basename "$f" .pid
  done | sort -t- -k2 -n
  if [ -e "$CLUSTER/gateway.pid" ]; then echo gateway; fi
}

# shellcheck disable=SC2016  # $1 is expanded by the inner bash
tcp_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null; }

show_tail() {
  [ -s "$1" ] || { echo "---- $1 is empty" >&2; return 0; }
  echo "---- last lines of $1" >&2
  tail -n 40 "$1" >&2
}

silo_url() { echo "http://127.0.0.1:$((SILO_HTTP_BASE + $1))"; }

# Silo $1 answers 200 on /health/ready.
silo_ready() { curl -fsS -o /dev/null --max-time 5 "$(silo_url "$1")/health/ready" 2>/dev/null; }

# SIGTERM to every named process, wait up to STOP_TIMEOUT for all of them, then SIGKILL what is left.
stop_processes() {
  local name pid deadline left=()
  local -A pids=()
  for name in "$@"; do
    if pid=$(live_pid "$name"); then
      pids[$name]=$pid
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  deadline=$(( $(now_ms) + STOP_TIMEOUT * 1000 ))
  while :; do
    left=()
    for name in "${!pids[@]}"; do pid_alive "${pids[$name]}" && left+=("$name"); done
    [ "${#left[@]}" -gt 0 ] || break
    if [ "$(now_ms)" -ge "$deadline" ]; then
      for name in "${left[@]}"; do
        echo "$name: still running $STOP_TIMEOUT s after SIGTERM; sending SIGKILL to ${pids[$name]}" >&2
        kill -KILL "${pids[$name]}" 2>/dev/null || true
      done
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  for name in "$@"; do
    [ -n "${pids[$name]:-}" ] && echo "$name: stopped (pid ${pids[$name]})"
    rm -f "$CLUSTER/$name.pid"
  done
  return 0
}

# start_process NAME DIR DLL [ARG...], with the environment in proc_env (VAR=value words).
start_process() {
  local name=$1 dir=$2
  shift 2
  : >"$CLUSTER/$name.log"   # a fresh log for this run
  # Working directory: the program's own folder, where its appsettings.json is (the host's content root
  # is the current directory). setsid: its own session, out of reach of the caller's Ctrl-C and hang-up.
  ( cd "$dir" && exec setsid env "${proc_env[@]}" dotnet "$@" ) </dev/null >>"$CLUSTER/$name.log" 2>&1 &
  echo $! >"$CLUSTER/$name.pid"
}

cluster_up() {
  local n=${1:-2} i t0 deadline pid name servers_before ready share
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number of silos: $n"
  [ $((11110 + n)) -lt 29999 ] || die "too many silos: $n"
  [[ $SILO_HTTP_BASE =~ ^[1-9][0-9]*$ ]] && [ $((SILO_HTTP_BASE + n)) -le 65535 ] || die "ARTGRID_SILO_HTTP_BASE must be a port number: $SILO_HTTP_BASE"

  local running=()
  for name in $(recorded); do live_pid "$name" >/dev/null && running+=("$name"); done
  if [ "${#running[@]}" -gt 0 ]; then
    die "already running here (${running[*]}); run deploy/local-cluster.sh down first"
  fi
  rm -f "$CLUSTER"/*.pid

  for i in $(seq 1 "$n"); do
    for port in $((11110 + i)) $((29999 + i)) $((SILO_HTTP_BASE + i)); do
      tcp_open "$port" && die "127.0.0.1:$port (silo-$i) is already in use"
    done
  done
  tcp_open "$GATEWAY_PORT" && die "127.0.0.1:$GATEWAY_PORT (gateway) is already in use; set ARTGRID_GATEWAY_PORT"

  if [ "${ARTGRID_NO_BUILD:-}" != 1 ]; then
    (cd "$REPO_ROOT" && dotnet build ArtGrid.sln -c Release) || die "build failed"
  fi
  [ -f "$SILO_DLL" ] || die "$SILO_DLL not found (build with: dotnet build ArtGrid.sln -c Release)"
  [ -f "$GATEWAY_DLL" ] || die "$GATEWAY_DLL not found (build with: dotnet build ArtGrid.sln -c Release)"

  # Which servers were already running, so that a failed start stops only the ones it brought up.
  servers_before=$("$SERVERS" status 2>/dev/null || true)

  fail() {
    echo "local-cluster.sh: $1" >&2
    [ -n "${2:-}" ] && show_tail "$2"
    trap - INT TERM
    # shellcheck disable=SC2046
    stop_processes gateway $(for i in $(seq "$n" -1 1); do echo "silo-$i"; done) >&2
    local s
    for s in redis rabbitmq; do
      if ! awk -v s="$s" '$1 == s && $2 == "running" { found = 1 } END { exit !found }' <<<"$servers_before"; then
        "$SERVERS" down "$s" >&2 || true
      fi
    done
    exit 1
  }
  trap 'fail "interrupted"' INT TERM

  "$SERVERS" up || fail "deploy/servers.sh up failed"

  local common=(
    "ConnectionStrings__Redis=127.0.0.1:$REDIS_PORT"
    "ConnectionStrings__RabbitMq=amqp://guest:guest@127.0.0.1:$AMQP_PORT/"
    "ArtGrid__Silo__ClusterId=$CLUSTER_ID"
    "ArtGrid__Silo__ServiceId=$SERVICE_ID"
  )

  # The silos share this machine's cores: each sizes its decode workers and ONNX Runtime threads from its share
  # (ArtGrid:Silo:Cores), not from every core, or N silos would start N times the pools the cores can run.
  share=$(( $(nproc) / n ))
  [ "$share" -ge 1 ] || share=1

  t0=$(now_ms)
  deadline=$(( t0 + READY_TIMEOUT * 1000 ))
  for i in $(seq 1 "$n"); do
    proc_env=("${common[@]}"
      "ArtGrid__Silo__Cores=$share"
      "ArtGrid__Silo__Name=silo-$i"
      "ArtGrid__Silo__SiloPort=$((11110 + i))"
      "ArtGrid__Silo__GatewayPort=$((29999 + i))"
      "ArtGrid__Silo__HttpPort=$((SILO_HTTP_BASE + i))")
    start_process "silo-$i" "$SILO_DIR" "$SILO_DLL"
  done

  # The gateway's cluster client needs a silo to connect to: start it once the silos are ready.
  ready=()
  while [ "${#ready[@]}" -lt "$n" ]; do
    ready=()
    for i in $(seq 1 "$n"); do
      name="silo-$i"
      if silo_ready "$i"; then
        ready+=("$name")
      elif ! live_pid "$name" >/dev/null; then
        fail "$name exited while starting" "$CLUSTER/$name.log"
      fi
    done
    [ "${#ready[@]}" -lt "$n" ] || break
    if [ "$(now_ms)" -ge "$deadline" ]; then
      for i in $(seq 1 "$n"); do
        silo_ready "$i" && continue
        show_tail "$CLUSTER/silo-$i.log"
        echo "---- silo-$i: GET /health/ready" >&2
        curl -sS --max-time 5 "$(silo_url "$i")/health/ready" >&2 || true
        echo >&2
      done
      fail "silos not ready after $READY_TIMEOUT s"
    fi
    sleep 0.25
  done
  echo "silos: $n ready in $(elapsed "$t0"); health and metrics on $(silo_url 1)/health/ready, /metrics (silo i: port $SILO_HTTP_BASE+i)"

  # The gateway takes API keys by their hash: one admin key for this cluster, made once and kept (owner-only) in
  # the cluster directory, so that scripts and the CLI read it from there (ARTGRID_API_KEY=$(cat …/api-key)).
  if [ ! -s "$CLUSTER/api-key" ] || [ ! -s "$CLUSTER/api-key.env" ]; then
    ( umask 077
      (cd "$GATEWAY_DIR" && dotnet "$GATEWAY_DLL" new-key local-cluster admin) >"$CLUSTER/api-key.new"
      head -n 1 "$CLUSTER/api-key.new" >"$CLUSTER/api-key"
      sed -n 's/^ArtGrid__Gateway__ApiKeys__N__/ArtGrid__Gateway__ApiKeys__0__/p' "$CLUSTER/api-key.new" >"$CLUSTER/api-key.env"
      rm -f "$CLUSTER/api-key.new" ) || fail "could not make an API key"
  fi
  mapfile -t key_env <"$CLUSTER/api-key.env"
  proc_env=("${common[@]}" "${key_env[@]}")
  start_process gateway "$GATEWAY_DIR" "$GATEWAY_DLL" --urls "http://127.0.0.1:$GATEWAY_PORT"
  pid=$(tr -dc '0-9' <"$CLUSTER/gateway.pid")
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$GATEWAY_PORT/health/ready" 2>/dev/null; do
    live_pid gateway >/dev/null || fail "gateway exited while starting" "$CLUSTER/gateway.log"
    [ "$(now_ms)" -lt "$deadline" ] || fail "gateway not healthy after $READY_TIMEOUT s" "$CLUSTER/gateway.log"
    sleep 0.25
  done
  trap - INT TERM
  echo "gateway: ready (pid $pid) on http://127.0.0.1:$GATEWAY_PORT in $(elapsed "$t0") from the first silo's start"
  echo "gateway: its admin API key is in $CLUSTER/api-key (send it as 'Authorization: Bearer KEY'; docs/API.md)"
  echo "gateway: operations at http://127.0.0.1:$GATEWAY_PORT/console/ops, the Orleans dashboard at /dashboard/ (admin key)"
  if [ -n "$MGMT_PORT" ]; then echo "rabbitmq: management UI at http://127.0.0.1:$MGMT_PORT/ (guest/guest from this machine)"; fi
  if [ -n "$PROM_PORT" ]; then echo "rabbitmq: Prometheus metrics at http://127.0.0.1:$PROM_PORT/metrics"; fi
  echo "logs and pids: $CLUSTER"
}

cluster_down() {
  local names=() name
  for name in $(recorded); do names+=("$name"); done
  if [ "${#names[@]}" -gt 0 ]; then
    # The gateway first, so that no request arrives at a cluster going away; then every silo at once.
    [ -e "$CLUSTER/gateway.pid" ] && stop_processes gateway
    local silos=()
    for name in "${names[@]}"; do [ "$name" = gateway ] || silos+=("$name"); done
    [ "${#silos[@]}" -eq 0 ] || stop_processes "${silos[@]}"
  else
    echo "cluster: no silo or gateway recorded in $CLUSTER"
  fi
  "$SERVERS" down
}

cluster_status() {
  local name pid rc=0 any=0
  for name in $(recorded); do
    any=1
    pid=$(tr -dc '0-9' <"$CLUSTER/$name.pid" 2>/dev/null || true)
    if live_pid "$name" >/dev/null; then
      local health=""
      if [[ $name == silo-* ]]; then
        silo_ready "${name#silo-}" && health="ready" || health="not ready"
      fi
      printf '%-9s alive    pid %-8s %-10slog %s\n' "$name" "$pid" "$health" "$CLUSTER/$name.log"
    else
      printf '%-9s dead     pid %-8s log %s\n' "$name" "${pid:--}" "$CLUSTER/$name.log"
      rc=3
    fi
  done
  if [ "$any" = 0 ]; then
    echo "cluster: no silo or gateway recorded in $CLUSTER"
    rc=3
  fi
  "$SERVERS" status || rc=3
  return "$rc"
}

case $cmd in
  up) cluster_up "$@" ;;
  down) cluster_down ;;
  status) cluster_status ;;
esac
