#!/usr/bin/env bash
# Puts the commands that ended in a queue's error queue back on the queue, once what made them fail is mended (Redis
# back after an outage longer than the bus's retries, say). A command lands in QUEUE_error when every retry failed
# (ArtGrid:Bus:RetryLimit, 12 in production) or when it is not a message at all; MassTransit also publishes a
# Fault<ScoreImages> for it. Put back, each is consumed as if sent anew: a job id that already has a verdict gets that
# verdict again and nothing is scored twice, so running this twice, or with a job that did finish, is harmless.
#
#   deploy/requeue-errors.sh [--yes] [QUEUE]          (default: score-images, ArtGrid:Bus:QueueName)
#
# Without --yes it moves nothing: it prints how many messages QUEUE_error holds and, for the first 20, the message id
# and the reason MassTransit recorded (MT-Fault-ExceptionType, MT-Fault-Message), leaving every one in place. With
# --yes it moves every message of QUEUE_error to QUEUE through the management HTTP API (the rabbitmq_management
# plugin), each with its properties (priority, headers, ids, persistence) and body, one batch at a time; a batch is
# written under ARTGRID_REQUEUE_DIR before it is published again and removed once it is, so that a run that stops
# (killed, the broker away) loses nothing: the next run publishes that batch first. Fix the cause first: a command put
# back while it still fails goes through its retries again and returns to QUEUE_error. A body that is not a message
# returns there at once; look at it (the dry run's list) and purge it by hand.
#
# Environment (defaults in brackets):
#   ARTGRID_RABBITMQ_API       [http://127.0.0.1:15672]  the management HTTP API
#   ARTGRID_RABBITMQ_USER      [guest]
#   ARTGRID_RABBITMQ_PASSWORD  [guest]
#   ARTGRID_RABBITMQ_VHOST     [/]
#   ARTGRID_REQUEUE_DIR        [.artgrid/requeue-errors]  batches in flight
# Needs curl and jq (Debian: apt-get install curl jq). Exit codes: 0 done (or nothing to do), 1 failed, 2 usage.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/lib.sh
. "$SCRIPT_DIR/lib.sh"

YES=0
QUEUE=score-images
while [ $# -gt 0 ]; do
  case $1 in
    --yes) YES=1 ;;
    -h|--help|-*) usage ;;
    *) QUEUE=$1 ;;
  esac
  shift
done
[[ $QUEUE =~ ^[A-Za-z0-9._-]{1,200}$ ]] || die "not a queue name ArtGrid uses: $QUEUE"
ERRORS="${QUEUE}_error"
BATCH=50
SHOWN=20

mgmt_init
mgmt_exists "overview" || die "the management API at $API does not answer (or refuses $USER_NAME): enable rabbitmq_management, or set ARTGRID_RABBITMQ_API"
mgmt_exists "queues/$V/$QUEUE" || die "there is no queue $QUEUE: start a silo once (it declares the queue), or name the queue"
if ! mgmt_exists "queues/$V/$ERRORS"; then
  say "$ERRORS does not exist: no command has failed on $QUEUE; nothing to do"
  exit 0
fi

if [ "$YES" = 0 ]; then
  # Taken and put back in place (reject, requeue): the list leaves the error queue as it was.
  listed=$(mgmt_api POST "queues/$V/$ERRORS/get" "{\"count\":$SHOWN,\"ackmode\":\"reject_requeue_true\",\"encoding\":\"auto\"}") \
    || die "could not read $ERRORS"
  n=$(jq 'length' <<<"$listed")
  if [ "$n" -lt "$SHOWN" ]; then
    say "$ERRORS holds $n message(s) (dry run: nothing moved; rerun with --yes to move them to $QUEUE)"
  else
    # More than the list: the broker's statistics say how many (a few seconds old at most).
    count=$(mgmt_api GET "queues/$V/$ERRORS" | jq -r '.messages // 0')
    say "$ERRORS holds $count message(s) by the broker's statistics, the first $SHOWN below (dry run: nothing moved; rerun with --yes to move them to $QUEUE)"
  fi
  jq -r '.[] | .properties as $p | "  \($p.message_id // "(no id)")  \($p.headers["MT-Fault-ExceptionType"] // $p.headers["MT-Reason"] // "?"): \(($p.headers["MT-Fault-Message"] // "") | tostring | .[0:200])"' <<<"$listed"
  exit 0
fi

DIR=${ARTGRID_REQUEUE_DIR:-.artgrid/requeue-errors}
mkdir -p "$DIR"
PENDING="$DIR/$ERRORS.batch.json"
mgmt_move "$ERRORS" "$QUEUE"
