#!/usr/bin/env bash
# The fault harness of issue 6 at full size: consumers (the streamtools runner with recording routes) and
# producers as separate JVMs against real brokers, with SIGTERM, kill -9, broker restarts, rebalances, a poison
# message, a slow handler and a bad-input battery; every message id counted. Prints the table, writes it to
# streamtools-faults/target/faults/report.md and into RELIABILITY.md (between its faults-table markers).
#
#   scripts/faults.sh                         full size, every scenario and transport (about 15 minutes)
#   FAULTS_SIZE=reduced scripts/faults.sh     the size .ci/run runs (mvn verify), here as a program
#   scripts/faults.sh --transports kafka --scenarios 2,3 --no-bad-input
#                                             a part (the other options: --help); RELIABILITY.md is
#                                             updated only by a full run of everything
#
# It builds what it runs (mvn package, tests skipped), then starts the brokers that are not running through
# scripts/brokers.sh run and stops only those afterwards. It restarts RabbitMQ and Kafka (brokers.sh
# restart-rabbitmq / restart-kafka): anything else using them on this machine sees the outages.
# Exit status: 0 when every row passed, 1 otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
SIZE=${FAULTS_SIZE:-full}

mvn -B -q -pl streamtools-faults -am package -DskipTests </dev/null
CP="$ROOT/streamtools-faults/target/classes:$(<"$ROOT/streamtools-faults/target/runtime-classpath.txt")"
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

ARGS=(--size "$SIZE" --dir "$ROOT/streamtools-faults/target/faults"
      --report "$ROOT/streamtools-faults/target/faults/report.md")
if [[ "$SIZE" == full && $# -eq 0 ]]; then
    ARGS+=(--update "$ROOT/RELIABILITY.md")
fi

exec scripts/brokers.sh run -- "$JAVA" -Xmx512m -Dfaults.root="$ROOT" -Dfaults.classpath="$CP" -cp "$CP" \
    dev.streamtools.faults.FaultSuite "${ARGS[@]}" "$@"
