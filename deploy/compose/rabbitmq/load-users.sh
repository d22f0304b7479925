#!/bin/bash
# Loads Nephele's RabbitMQ users and vhost permissions (definitions.json beside this script) into a
# running broker, then sets each user's password from the environment. The definitions hold no
# password (an empty hash: such a user cannot log in until this sets one).
#
# compose: init-users.sh runs it inside the rabbitmq container at every start.
# Kubernetes (RabbitMQ is yours): run it wherever `rabbitmqctl` reaches the broker, e.g. copy this
# directory into the RabbitMQ pod and run it there, with the same passwords as in the Secrets:
#   RABBITMQ_CONFIG_API_PASSWORD=… … RABBITMQ_CLIENT_PASSWORD=… ./load-users.sh
# Every variable below must be set (RABBITMQ_PASSWORD is the admin `nephele`). Passwords go into
# URLs: keep them URL-safe. DEFINITIONS overrides the file; RABBITMQCTL the command.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ctl="${RABBITMQCTL:-rabbitmqctl}"
definitions="${DEFINITIONS:-$here/definitions.json}"

missing=0
while read -r user var; do
  if [ -z "${!var:-}" ]; then echo "nephele: set $var (password of RabbitMQ user $user)" >&2; missing=1; fi
done < "$here/users.txt"
[ "$missing" = 0 ] || exit 1

$ctl -q import_definitions "$definitions"
while read -r user var; do
  $ctl -q change_password "$user" "${!var}"
done < "$here/users.txt"
echo "nephele: RabbitMQ users and permissions loaded"
