#!/bin/bash
# picket-healthz PORT: exits 0 when http://127.0.0.1:PORT/healthz answers 200, else 1.
# The container's health check, with bash alone (the image has no curl): one HTTP/1.0 request,
# the status line read back, at most 5 seconds in all.
set -euo pipefail
port=${1:?usage: picket-healthz PORT}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
IFS= read -r -t 5 status <&3
[[ $status == "HTTP/1."[01]" 200 "* ]]
