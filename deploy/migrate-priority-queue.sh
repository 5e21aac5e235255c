#!/usr/bin/env bash
# One-time migration of ArtGrid's command queue to a priority queue: RabbitMQ orders a queue by message priority only
# when the queue was declared with x-max-priority, and an existing queue's arguments cannot change, so a queue declared
# by an ArtGrid release before job priorities were honoured must be replaced. Until it is, the silos refuse to start
# (exit code 3, naming this script) and senders refuse to send (PRECONDITION_FAILED from the broker).
#
#   deploy/migrate-priority-queue.sh [QUEUE]          (default: score-images, ArtGrid:Bus:QueueName)
#
# Stop every silo first (the script refuses while the queue has consumers); gateways may keep running. Through the
# management HTTP API (the rabbitmq_management plugin), in two phases that a rerun resumes from where a run stopped:
#   1. a temporary queue QUEUE.priority-migration (durable, x-max-priority 9) is bound to the exchange QUEUE, the queue
#      is unbound from it (jobs sent meanwhile land in the temporary queue), its messages are moved there, and the
#      queue, empty, is deleted;
#   2. QUEUE is declared again, durable with x-max-priority 9 (as the silos and senders of this release declare it),
#      bound to the exchange, the temporary queue unbound, its messages moved back, and the temporary queue deleted.
# Messages move with their properties (priority, headers, ids, persistence) and bodies, one batch at a time; a batch is
# written under ARTGRID_MIGRATION_DIR before it is published again and removed once it is, so that a run that stops
# (killed, the broker away) loses nothing: the next run publishes that batch first. A batch published in part before a
# run stopped is published whole again: those jobs are queued twice, and the cluster scores a job id once.
#
# Environment (defaults in brackets):
#   ARTGRID_RABBITMQ_API       [http://127.0.0.1:15672]  the management HTTP API
#   ARTGRID_RABBITMQ_USER      [guest]
#   ARTGRID_RABBITMQ_PASSWORD  [guest]
#   ARTGRID_RABBITMQ_VHOST     [/]
#   ARTGRID_MIGRATION_DIR      [.artgrid/priority-migration]  batches in flight
# Needs curl and jq (Debian: apt-get install curl jq). Exit codes: 0 migrated (or nothing to do), 1 refused or failed.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/lib.sh
. "$SCRIPT_DIR/lib.sh"

QUEUE=${1:-score-images}
DIR=${ARTGRID_MIGRATION_DIR:-.artgrid/priority-migration}
MAX_PRIORITY=9
BATCH=50
TEMP="$QUEUE.priority-migration"

say() { echo "migrate-priority-queue: $*" >&2; }
die() { say "$*"; exit 1; }

mgmt_init
[[ $QUEUE =~ ^[A-Za-z0-9._-]{1,200}$ ]] || die "not a queue name ArtGrid uses: $QUEUE"
mkdir -p "$DIR"
PENDING="$DIR/$QUEUE.batch.json"

exists() { mgmt_exists "$@"; }
priority_of() { mgmt_api GET "queues/$V/$1" | jq -r '.arguments["x-max-priority"] // "none"'; }
consumers_of() { mgmt_api GET "queues/$V/$1" | jq -r '.consumers // 0'; }

declare_priority_queue() {
  mgmt_api PUT "queues/$V/$1" "{\"durable\":true,\"auto_delete\":false,\"arguments\":{\"x-max-priority\":$MAX_PRIORITY}}" >/dev/null \
    || die "could not declare $1 with x-max-priority $MAX_PRIORITY"
}

bind() { mgmt_api POST "bindings/$V/e/$QUEUE/q/$1" '{"routing_key":"","arguments":{}}' >/dev/null || die "could not bind $1 to the exchange $QUEUE"; }

unbind() {
  # "~" is the management API's name of a binding with an empty routing key and no arguments.
  local code
  code=$(curl -sS -o /dev/null -w '%{http_code}' -u "$USER_NAME:$PASSWORD" -X DELETE "$API/api/bindings/$V/e/$QUEUE/q/$1/~") \
    || die "the management API at $API cannot be reached"
  case $code in 2??|404) ;; *) die "could not unbind $1 from the exchange $QUEUE ($code)" ;; esac
}

exists "overview" || die "the management API at $API does not answer (or refuses $USER_NAME): enable rabbitmq_management, or set ARTGRID_RABBITMQ_API"
if ! exists "exchanges/$V/$QUEUE" && exists "queues/$V/$QUEUE"; then
  die "the queue $QUEUE has no exchange $QUEUE: it was not declared by ArtGrid"
fi

# drain FROM TO: new jobs go to TO (the exchange bound to it, no longer to FROM), then FROM's messages move into TO
# until FROM is empty and deleted (a job sent meanwhile lands in TO).
drain() {
  local from=$1 to=$2 code
  bind "$to"
  unbind "$from"
  while exists "queues/$V/$from"; do
    mgmt_move "$from" "$to"
    code=$(curl -sS -o /dev/null -w '%{http_code}' -u "$USER_NAME:$PASSWORD" -X DELETE "$API/api/queues/$V/$from?if-empty=true")
    case $code in 2??|404) ;; *) say "$from was not empty yet ($code): moving again" ;; esac
  done
}

if exists "queues/$V/$QUEUE" && [ "$(priority_of "$QUEUE")" != "$MAX_PRIORITY" ]; then
  consumers=$(consumers_of "$QUEUE")
  [ "$consumers" = 0 ] || die "$QUEUE has $consumers consumer(s): stop every silo first"
  say "phase 1: $QUEUE (x-max-priority $(priority_of "$QUEUE")) into $TEMP"
  exists "queues/$V/$TEMP" || declare_priority_queue "$TEMP"
  drain "$QUEUE" "$TEMP"
elif ! exists "queues/$V/$TEMP"; then
  if exists "queues/$V/$QUEUE"; then
    say "$QUEUE already has x-max-priority $MAX_PRIORITY: nothing to do"
  else
    say "there is no queue $QUEUE: nothing to migrate (the silos declare it with its priority)"
  fi
  [ ! -s "$PENDING" ] || die "$PENDING holds messages of an earlier run, but $TEMP is gone: publish them to $QUEUE by hand"
  exit 0
fi

say "phase 2: $TEMP into $QUEUE (x-max-priority $MAX_PRIORITY)"
declare_priority_queue "$QUEUE"
drain "$TEMP" "$QUEUE"
say "$QUEUE is a priority queue (x-max-priority $MAX_PRIORITY); start the silos"
