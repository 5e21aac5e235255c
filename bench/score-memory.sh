#!/usr/bin/env bash
# Peak resident memory of `artgrid score` (the host and its decode workers) as the number of files grows: makes N copies
# (hard links where the file system allows) of samples/ (default 20,000) in a temporary folder, scores them, and prints every quarter second the files scored so far
# and the resident memory of the process tree. Memory should be flat after the first thousand files.
#
#   bench/score-memory.sh [N] [ARTGRID_DLL]     (ARTGRID_DLL defaults to this checkout's Release build)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-20000}"
dll="${2:-src/Cli/bin/Release/net10.0/artgrid.dll}"
[ -f "$dll" ] || dotnet build src/Cli -c Release >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mapfile -t samples < <(find samples -type f \( -name '*.jpg' -o -name '*.png' \) | sort)
for ((i = 0; i < n; i++)); do
  s="${samples[i % ${#samples[@]}]}"
  ln "$s" "$work/img-$(printf '%06d' "$i").${s##*.}" 2>/dev/null || cp "$s" "$work/img-$(printf '%06d' "$i").${s##*.}"
done

tree_rss_kib() { # resident KiB of a process and its children (the decode workers)
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1"); do
    total=$((total + $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

dotnet "$dll" score "$work" >"$work.out" 2>"$work.err" &
pid=$!
peak=0 peak_after_1000=0 start=$(date +%s.%N)
echo "seconds | files scored | tree RSS (MiB)"
while kill -0 "$pid" 2>/dev/null; do
  rss=$(tree_rss_kib "$pid")
  lines=$(wc -l <"$work.out")
  [ "$rss" -gt "$peak" ] && peak=$rss
  [ "$lines" -ge 1000 ] && [ "$rss" -gt "$peak_after_1000" ] && peak_after_1000=$rss
  printf '%7.1f | %12d | %14d\n' "$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { print a - b }')" "$lines" "$((rss / 1024))"
  sleep 0.25
done
wait "$pid" || { echo "artgrid score failed:"; tail -5 "$work.err"; exit 1; }
echo "$(wc -l <"$work.out") lines; peak tree RSS $((peak / 1024)) MiB, $((peak_after_1000 / 1024)) MiB after the first 1,000 files; errors: $(grep -c '"error":{' "$work.out" || true)"
rm -f "$work.out" "$work.err"
