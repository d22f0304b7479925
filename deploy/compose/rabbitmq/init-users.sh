#!/bin/bash
# The compose rabbitmq service's entrypoint: starts the broker as the image would, then loads
# Nephele's users and permissions with load-users.sh (passwords from the RABBITMQ_*_PASSWORD
# variables docker-compose.yml passes in). The healthcheck waits for the marker written at the end,
# so no service connects before its user can log in.
set -euo pipefail
marker=/tmp/nephele-users-ready
rm -f "$marker"

docker-entrypoint.sh rabbitmq-server &
server=$!
trap 'kill -TERM "$server" 2>/dev/null; wait "$server"; exit $?' TERM INT

until rabbitmqctl -q await_startup >/dev/null 2>&1; do
  kill -0 "$server" 2>/dev/null || { wait "$server"; exit $?; }
  sleep 2
done
if ! bash /etc/rabbitmq/nephele/load-users.sh; then
  kill -TERM "$server"
  wait "$server" || true
  exit 1
fi
touch "$marker"
wait "$server"
