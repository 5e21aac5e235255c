#!/bin/bash
# The images' HEALTHCHECK: GET http://127.0.0.1:PORT/PATH, healthy when the answer is 200. Bash and /dev/tcp only, as
# the .NET runtime images carry no curl or wget.
#
#   healthcheck.sh PORT [PATH]     (PATH defaults to /health/ready)
set -uo pipefail
port=${1:?usage: healthcheck.sh PORT [PATH]}
path=${2:-/health/ready}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
read -r -t 5 _ status _ <&3 || exit 1
exec 3<&-
[[ $status == 200 ]]
