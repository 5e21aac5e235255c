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
