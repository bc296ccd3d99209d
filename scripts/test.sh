#!/usr/bin/env bash
# Runs every streamtools test against real brokers (design.md section 6): starts RabbitMQ and Kafka
# where they are not running (scripts/brokers.sh up), runs `mvn -B verify` (unit tests, the
# conformance suite of every transport, and the runnable jar's integration tests), and on exit -
# success, failure or Ctrl-C - stops only the brokers it started. Extra arguments go to Maven, e.g.
#   ./scripts/test.sh -pl streamtools-kafka -am
# A broker that cannot be brought up is a failure, never a skip.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

trap './scripts/brokers.sh down' EXIT
./scripts/brokers.sh up
mvn -B verify "$@"
