# shellcheck shell=bash
# Shell helpers shared by the deploy/ scripts (sourced, not run).

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
say() { echo "$*"; }

# The running script's header comment (from line 2 to its `set -euo` line) is its usage text.
usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

now_ms() { date +%s%3N; }
elapsed() { local ms=$(( $(now_ms) - $1 )); printf '%d.%02d s' $((ms / 1000)) $(((ms % 1000) / 10)); }

# A process counts as alive unless it is gone or a zombie (exited, not yet reaped): background processes are
# reparented to whatever init the machine has, and some inits reap late, so `kill -0` alone would wait for a
# process that has in fact exited.
pid_alive() {
  local pid=$1 state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  if [ -r "/proc/$pid/stat" ]; then
    state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
  else
    kill -0 "$pid" 2>/dev/null
  fi
}

# --- RabbitMQ's management HTTP API (the rabbitmq_management plugin), for the scripts that move messages between
# queues (migrate-priority-queue.sh, requeue-errors.sh). mgmt_init reads:
#   ARTGRID_RABBITMQ_API       [http://127.0.0.1:15672]
#   ARTGRID_RABBITMQ_USER      [guest]
#   ARTGRID_RABBITMQ_PASSWORD  [guest]
#   ARTGRID_RABBITMQ_VHOST     [/]
# mgmt_move keeps each batch in the file $PENDING until it is published again; the caller sets PENDING and BATCH.
mgmt_init() {
  local tool
  for tool in curl jq; do
    command -v "$tool" >/dev/null || die "$tool is missing (Debian: apt-get install curl jq)"
  done
  API=${ARTGRID_RABBITMQ_API:-http://127.0.0.1:15672}
  API=${API%/}
  USER_NAME=${ARTGRID_RABBITMQ_USER:-guest}
  PASSWORD=${ARTGRID_RABBITMQ_PASSWORD:-guest}
  VHOST=${ARTGRID_RABBITMQ_VHOST:-/}
  V=$(jq -rn --arg v "$VHOST" '$v|@uri')
}

# mgmt_api METHOD PATH [JSON]: the body on stdout; fails (with the API's answer) on anything but 2xx.
mgmt_api() {
  local args=(-sS -u "$USER_NAME:$PASSWORD" -X "$1" -H 'content-type: application/json' -w '\n%{http_code}')
  [ $# -ge 3 ] && args+=(--data "$3")
  local out code
  out=$(curl "${args[@]}" "$API/api/$2") || die "$1 /api/$2: the management API at $API cannot be reached"
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  case $code in
    2??) printf '%s' "$out" ;;
    *) echo "$code $out" >&2; return 1 ;;
  esac
}

# mgmt_status PATH: the HTTP status of a GET (200, 404, ...).
mgmt_status() {
  curl -sS -o /dev/null -w '%{http_code}' -u "$USER_NAME:$PASSWORD" "$API/api/$1" || die "the management API at $API cannot be reached"
}

mgmt_exists() { [ "$(mgmt_status "$1")" = 200 ]; }

# mgmt_publish_pending DEST: publishes the kept batch ($PENDING) to queue DEST (through the default exchange, each
# message with its properties: priority, headers, ids, persistence), then removes the file.
mgmt_publish_pending() {
  [ -s "$PENDING" ] || { rm -f "$PENDING"; return 0; }
  local message answer
  while IFS= read -r message; do
    answer=$(mgmt_api POST "exchanges/$V/amq.default/publish" "$message") || answer=""
    [[ $answer == *'"routed":true'* ]] \
      || die "a message of $PENDING was not routed to $1; it stays in that file (rerun to publish it again)"
  done < <(jq -c --arg q "$1" \
    '.[] | {properties: (.properties | if type == "object" then . else {} end), routing_key: $q, payload: .payload, payload_encoding: .payload_encoding}' "$PENDING")
  rm -f "$PENDING"
}

# mgmt_move FROM TO: every message of FROM to TO, $BATCH at a time, each batch kept in $PENDING until it is published
# (a batch left there by a run that stopped is published first). Sets MOVED to the count and says it.
mgmt_move() {
  local batch n
  MOVED=0
  mgmt_publish_pending "$2"
  while true; do
    batch=$(mgmt_api POST "queues/$V/$1/get" "{\"count\":$BATCH,\"ackmode\":\"ack_requeue_false\",\"encoding\":\"base64\"}") \
      || die "could not take messages from $1"
    n=$(jq 'length' <<<"$batch")
    [ "$n" -gt 0 ] || break
    printf '%s' "$batch" >"$PENDING.tmp" && mv "$PENDING.tmp" "$PENDING"
    mgmt_publish_pending "$2"
    MOVED=$((MOVED + n))
  done
  say "moved $MOVED message(s) from $1 to $2"
}
