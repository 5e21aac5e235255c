#!/usr/bin/env bash
# Refreshes the console's screenshots under docs/screenshots/ (shown in the README): runs the console's browser tests
# (real silos, gateway, Redis, RabbitMQ and Debian's chromium, as ./test.sh does) with ARTGRID_SCREENSHOTS_DIR set, so
# that each page's test saves its picture there. A plain test run never writes them.
set -euo pipefail
cd "$(dirname "$0")/.."
export ARTGRID_SCREENSHOTS_DIR="$PWD/docs/screenshots"
mkdir -p "$ARTGRID_SCREENSHOTS_DIR"
./test.sh integration --filter "FullyQualifiedName~ArtGrid.Tests.WebConsole" "$@"
ls -l "$ARTGRID_SCREENSHOTS_DIR"
