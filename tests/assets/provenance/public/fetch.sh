#!/usr/bin/env bash
# Downloads the public fixture files that are not kept in this repository (too large to vendor) into fetched/,
# each from raw.githubusercontent.com at the commit expected.csv pins, and checks its SHA-256. The provenance tests
# that need them skip, saying so, until this has run.
#
#   tests/assets/provenance/public/fetch.sh
set -euo pipefail
cd "$(dirname "$0")"

failed=0
while IFS=, read -r file source _tool _container _evidence _detail repo commit path _licence sha256 _verification; do
  [ "$source" = fetched ] || continue
  target="fetched/$file"
  if [ -f "$target" ] && echo "$sha256  $target" | sha256sum --check --status; then
    continue
  fi

  mkdir -p "$(dirname "$target")"
  echo "fetch.sh: $repo@${commit:0:8} $path" >&2
  if ! curl --fail --silent --show-error --location --retry 3 -o "$target.part" "https://raw.githubusercontent.com/$repo/$commit/$path"; then
    rm -f "$target.part"; failed=1; continue
  fi

  if ! echo "$sha256  $target.part" | sha256sum --check --status; then
    echo "fetch.sh: $file does not have the SHA-256 expected.csv gives; not kept" >&2
    rm -f "$target.part"; failed=1; continue
  fi

  mv "$target.part" "$target"
done < <(tail -n +2 expected.csv)

[ "$failed" = 0 ] && echo "fetch.sh: every fetched fixture is in $(pwd)/fetched" >&2
exit "$failed"
