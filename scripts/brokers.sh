#!/usr/bin/env bash
# Real brokers for streamtools' transport tests (design.md section 6): RabbitMQ on 127.0.0.1:5672
# and a single-node Kafka 4.1.1 KRaft broker on 127.0.0.1:9092, run from Maven Central jars.
#
#   scripts/brokers.sh up                  start what is not running, wait until usable
#   scripts/brokers.sh down                stop only what `up` started
#   scripts/brokers.sh status              reachability of each (exit 1 if one is not reachable)
#   scripts/brokers.sh restart-rabbitmq    stop + start the local RabbitMQ node (fault tests)
#   scripts/brokers.sh restart-kafka [--hard]
#                                          stop (SIGTERM, or SIGKILL with --hard) the Kafka broker
#                                          this script started, start it again on the same data
#   scripts/brokers.sh run -- CMD ARGS...  up, run CMD, then stop what this run started (also on
#                                          failure or SIGTERM); exits with CMD's status. For CI.
#   scripts/brokers.sh kafka-run CLASS ARGS...
#                                          run a Kafka tool class on the broker's classpath, e.g.
#                                          org.apache.kafka.tools.TopicCommand --bootstrap-server ...
#
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1), KAFKA_JVM_OPTS (-Xmx256m),
# KAFKA_TOOL_JVM_OPTS (-Xmx512m, for kafka-run), KAFKA_START_TIMEOUT (90 s), KAFKA_STOP_TIMEOUT
# (30 s), RMQ_START_TIMEOUT (60 s), KAFKA_DATA_DIR (target/brokers/kafka/data: where a broker this
# script starts keeps its logs; scripts/bench.sh puts them on tmpfs), JAVA_HOME, MVN.
#
# Everything is idempotent and every wait is bounded: CI runs this as root with no stdin and must
# get a clear failure, never a hang. State (who started what, pids, Kafka data and logs) lives in
# target/brokers/ so `mvn clean`-style wipes reset it and nothing outside the repo is touched
# except the system RabbitMQ node.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE="$ROOT/target/brokers"
KAFKA_POM="$ROOT/scripts/kafka/pom.xml"
KDIR="$STATE/kafka"
KAFKA_DATA_DIR=${KAFKA_DATA_DIR:-$KDIR/data}

RMQ_HOST=127.0.0.1
RMQ_PORT=5672 # the system node's port; a private node on another port is the testkit's business
RMQ_START_TIMEOUT=${RMQ_START_TIMEOUT:-60}
RMQ_OWNED="$STATE/rabbitmq.started-by-us"

KAFKA_HOST=127.0.0.1
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
KAFKA_STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
# 256 MB is enough only because log.cleaner.dedupe.buffer.size is lowered below (design.md s.6).
KAFKA_JVM_OPTS=${KAFKA_JVM_OPTS:--Xmx256m}
KAFKA_PID="$KDIR/kafka.pid"
KAFKA_CP_FILE="$STATE/kafka-classpath.txt"

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi
MVN=${MVN:-mvn}

log() { printf '%s\n' "$*"; }
die() { printf 'brokers.sh: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }
secs_since() { local d=$(( $(now_ms) - $1 )); printf '%d.%01d' $((d / 1000)) $(((d % 1000) / 100)); }

# A TCP connect through bash's /dev/tcp: no nc/curl needed on a fresh machine. `timeout` because
# a connect to a filtered port would otherwise block for the kernel's SYN timeout.
# shellcheck disable=SC2016 # $0/$1 are expanded by the inner bash, on purpose
port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }

# An open 5672 is not enough (the socket may belong to a node still booting, or something else):
# send the AMQP 0-9-1 protocol header and expect a METHOD frame (type 1, connection.start) back.
amqp_ready() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 3 bash -c '
        exec 3<>"/dev/tcp/$0/$1" || exit 1
        printf "AMQP\x00\x00\x09\x01" >&3
        [[ "$(head -c 1 <&3 | od -An -tu1 | tr -d " ")" == 1 ]]' "$RMQ_HOST" "$RMQ_PORT" 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# RabbitMQ (the system node, run by the Debian package's wrappers as the rabbitmq user)
# ---------------------------------------------------------------------------------------------

rmq_wait_ready() {
    local deadline=$(( $(date +%s) + RMQ_START_TIMEOUT ))
    while (( $(date +%s) < deadline )); do
        amqp_ready && return 0
        sleep 0.5
    done
    log "rabbitmq: not accepting AMQP on $RMQ_HOST:$RMQ_PORT after ${RMQ_START_TIMEOUT}s" >&2
    tail -n 30 "$STATE/rabbitmq.out" >&2 2>/dev/null || true
    tail -n 30 /var/log/rabbitmq/rabbit@*.log >&2 2>/dev/null || true
    return 1
}

rmq_install() {
    (( EUID == 0 )) || die "rabbitmq: not installed and not root, cannot apt-get install rabbitmq-server"
    log "rabbitmq: not installed, installing Debian's rabbitmq-server"
    # noninteractive + </dev/null: CI has no stdin and a debconf prompt would hang the job.
    timeout 600 apt-get update -q </dev/null >"$STATE/apt.out" 2>&1 \
        || { tail -n 20 "$STATE/apt.out" >&2; die "apt-get update failed"; }
    DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends \
        rabbitmq-server </dev/null >>"$STATE/apt.out" 2>&1 \
        || { tail -n 20 "$STATE/apt.out" >&2; die "apt-get install rabbitmq-server failed"; }
}

# Start the node and wait until it speaks AMQP. Ownership is decided by the caller.
rmq_start() {
    local t0; t0=$(now_ms)
    if timeout 15 rabbitmqctl -q ping >/dev/null 2>&1; then
        # The Erlang node is up but AMQP is closed: booting, or its app was stopped (stop_app).
        # `rabbitmq-server -detached` would fail with "node already running", so start the app.
        timeout "$RMQ_START_TIMEOUT" rabbitmqctl -q start_app >>"$STATE/rabbitmq.out" 2>&1 || true
    else
        # -detached daemonises (erl -detached), so nothing is left attached to our stdout or
        # process group; its early output still goes to a file for diagnosis.
        # 9>&-: the daemon must not inherit our lock fd, or it would hold the lock forever.
        rabbitmq-server -detached </dev/null >>"$STATE/rabbitmq.out" 2>&1 9>&- \
            || { tail -n 20 "$STATE/rabbitmq.out" >&2; die "rabbitmq: rabbitmq-server -detached failed"; }
    fi
    rmq_wait_ready || die "rabbitmq: did not come up"
    RMQ_STARTED_IN=$(secs_since "$t0")
}

rmq_stop() {
    # `rabbitmqctl stop` returns once the node has acknowledged; wait until the node name is gone
    # from epmd too, or an immediate `rabbitmq-server -detached` finds it "already running".
    timeout 60 rabbitmqctl -q stop >>"$STATE/rabbitmq.out" 2>&1 || true
    local i
    for ((i = 0; i < 60; i++)); do
        if ! port_open "$RMQ_HOST" "$RMQ_PORT" && ! epmd -names 2>/dev/null | grep -q '^name rabbit '; then
            return 0
        fi
        sleep 0.5
    done
    die "rabbitmq: node still up 30 s after rabbitmqctl stop"
}

rmq_up() {
    if amqp_ready; then
        if [[ -f "$RMQ_OWNED" ]]; then
            log "rabbitmq: already running on $RMQ_HOST:$RMQ_PORT (started by brokers.sh)"
        else
            log "rabbitmq: already running on $RMQ_HOST:$RMQ_PORT"
        fi
        return 0
    fi
    if port_open "$RMQ_HOST" "$RMQ_PORT"; then
        # Something holds the port but does not answer AMQP (a node still booting answers soon).
        rmq_wait_ready || die "rabbitmq: $RMQ_HOST:$RMQ_PORT is open but does not speak AMQP"
        log "rabbitmq: already running on $RMQ_HOST:$RMQ_PORT (was still booting)"
        return 0
    fi
    [[ -x /usr/sbin/rabbitmq-server ]] || rmq_install
    # Record ownership before starting: if the start half-succeeds and we die, `down` still
    # cleans up the node we launched.
    date -u +%FT%TZ >"$RMQ_OWNED"
    if amqp_ready; then # some packagings start the service on install
        log "rabbitmq: started by its package install on $RMQ_HOST:$RMQ_PORT"
        return 0
    fi
    rmq_start
    log "rabbitmq: started on $RMQ_HOST:$RMQ_PORT in ${RMQ_STARTED_IN} s"
}

rmq_down() {
    if [[ ! -f "$RMQ_OWNED" ]]; then
        if port_open "$RMQ_HOST" "$RMQ_PORT"; then
            log "rabbitmq: not started by brokers.sh, leaving it running"
        else
            log "rabbitmq: not running"
        fi
        return 0
    fi
    if port_open "$RMQ_HOST" "$RMQ_PORT" || timeout 15 rabbitmqctl -q ping >/dev/null 2>&1; then
        rmq_stop
        log "rabbitmq: stopped"
    else
        log "rabbitmq: already stopped"
    fi
    rm -f "$RMQ_OWNED"
}

rmq_restart() {
    [[ -x /usr/sbin/rabbitmq-server ]] || die "rabbitmq: not installed (run: scripts/brokers.sh up)"
    # Ownership is deliberately left as it was: a restart for a fault test does not make a node
    # that was running before `up` ours to stop.
    if port_open "$RMQ_HOST" "$RMQ_PORT" || timeout 15 rabbitmqctl -q ping >/dev/null 2>&1; then
        rmq_stop
    fi
    rmq_start
    log "rabbitmq: restarted on $RMQ_HOST:$RMQ_PORT, accepting AMQP after ${RMQ_STARTED_IN} s"
}

# ---------------------------------------------------------------------------------------------
# Kafka (single-node KRaft, combined broker+controller, from Maven Central jars)
# ---------------------------------------------------------------------------------------------

# The classpath is resolved by Maven once and cached; re-resolved when the pom changes or a jar
# disappeared from the local repository (a cleaned ~/.m2 would otherwise give ClassNotFound).
cp_cache_valid() {
    [[ -s "$KAFKA_CP_FILE" && "$KAFKA_CP_FILE" -nt "$KAFKA_POM" ]] || return 1
    local jar jars
    IFS=: read -r -a jars <"$KAFKA_CP_FILE"
    for jar in "${jars[@]}"; do [[ -f "$jar" ]] || return 1; done
}

kafka_classpath() {
    if ! cp_cache_valid; then
        log "kafka: resolving broker classpath with Maven (scripts/kafka/pom.xml)"
        # -B: no colour/progress codes in CI logs; </dev/null: never wait for input.
        "$MVN" -B -q -f "$KAFKA_POM" dependency:build-classpath \
            -Dmdep.outputFile="$KAFKA_CP_FILE.tmp" </dev/null >"$STATE/mvn-kafka.out" 2>&1 \
            || { tail -n 30 "$STATE/mvn-kafka.out" >&2; die "kafka: Maven could not resolve the broker classpath"; }
        mv "$KAFKA_CP_FILE.tmp" "$KAFKA_CP_FILE"
    fi
    KAFKA_CP=$(<"$KAFKA_CP_FILE")
}

# Run a Kafka tool class (TopicCommand, ConsoleProducer, ProducerPerformance, ...) on the broker's
# classpath, logging to stderr at WARN so tool output stays parseable. $1 = quick | full:
# `quick` (our own one-shot probes) trades peak speed for ~0.2 s less JVM start-up; `full` keeps
# the normal JIT so the perf tools run through `kafka-run` measure the broker, not a crippled client.
kafka_tool() {
    local mode=$1 opts
    shift
    kafka_classpath
    [[ -f "$KDIR/log4j2-tools.properties" ]] || write_tools_log_config
    if [[ "$mode" == quick ]]; then
        opts=(-Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC)
    else
        read -r -a opts <<<"${KAFKA_TOOL_JVM_OPTS:--Xmx512m}"
    fi
    "$JAVA" "${opts[@]}" -Dlog4j2.configurationFile="$KDIR/log4j2-tools.properties" \
        -cp "$KAFKA_CP" "$@"
}

kafka_write_config() {
    mkdir -p "$KAFKA_DATA_DIR" "$KDIR/logs"
    # Rewritten on every start so a changed KAFKA_PORT takes effect; the data dir survives.
    cat >"$KDIR/server.properties" <<EOF
# Generated by scripts/brokers.sh -- edits are overwritten on the next start.
process.roles=broker,controller
node.id=1
# A static voter set: one controller, this node. With it, StorageTool format needs no
# --standalone / --initial-controllers (those are for the dynamic controller.quorum.bootstrap.servers).
controller.quorum.voters=1@${KAFKA_HOST}:${KAFKA_CONTROLLER_PORT}
listeners=PLAINTEXT://${KAFKA_HOST}:${KAFKA_PORT},CONTROLLER://${KAFKA_HOST}:${KAFKA_CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://${KAFKA_HOST}:${KAFKA_PORT}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${KAFKA_DATA_DIR}
num.partitions=3
auto.create.topics.enable=true
# One broker: every internal topic must be creatable with a single replica, or the first
# consumer group / transaction / share group waits forever for replicas that never come.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests join a group and expect partitions at once, not after the default 3 s.
group.initial.rebalance.delay.ms=0
# After a crash (restart-kafka --hard) the restarted controller still holds the dead incarnation's
# registration and rejects the new one (DUPLICATE_BROKER_REGISTRATION) until the session expires:
# 9 s by default, 3 s here. The heartbeat must stay well below the session timeout.
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
# Kafka's default 128 MB dedupe buffer is most of the broker's live heap; 8 MB lets it run in 256 MB.
log.cleaner.dedupe.buffer.size=8388608
# A deleted topic's files go at once, not a minute later: the benchmark deletes the gigabytes it wrote just
# before the broker stops, and with Kafka's default delay they stayed on disk.
log.segment.delete.delay.ms=0
# A topic's retention.bytes is enforced within a second, not five minutes: the benchmark's produce topics keep
# their last few segments while they are written at hundreds of MB/s.
log.retention.check.interval.ms=1000
EOF
    cat >"$KDIR/log4j2.properties" <<EOF
# Broker logging (log4j-core 2.x via log4j-slf4j-impl); size-bounded so long runs cannot fill the disk.
status = warn
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = ${KDIR}/logs/server.log
appender.file.filePattern = ${KDIR}/logs/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = info
rootLogger.appenderRef.file.ref = FILE
logger.statechange.name = state.change.logger
logger.statechange.level = warn
logger.request.name = kafka.request.logger
logger.request.level = warn
EOF
    write_tools_log_config
    cat >"$KDIR/admin.properties" <<EOF
# Short client timeouts so a readiness probe against a not-yet-ready broker fails fast and is retried.
request.timeout.ms=5000
default.api.timeout.ms=10000
EOF
}

write_tools_log_config() {
    cat >"$KDIR/log4j2-tools.properties" <<EOF
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.err.ref = STDERR
EOF
}

kafka_format() {
    # Only a fresh data dir is formatted: formatting mints the cluster id, and topics, offsets
    # and the id must survive restarts. --ignore-formatted covers a dir formatted by an older run.
    [[ -f "$KAFKA_DATA_DIR/meta.properties" ]] && return 0
    local uuid
    uuid=$(kafka_tool quick kafka.tools.StorageTool random-uuid 2>>"$KDIR/format.out") \
        || { cat "$KDIR/format.out" >&2; die "kafka: StorageTool random-uuid failed"; }
    kafka_tool quick kafka.tools.StorageTool format --ignore-formatted -t "$uuid" \
        -c "$KDIR/server.properties" >>"$KDIR/format.out" 2>&1 \
        || { cat "$KDIR/format.out" >&2; die "kafka: StorageTool format failed"; }
}

# Our broker = the pid in our pid file, still alive, and really our kafka.Kafka (pids get reused).
kafka_our_pid() {
    [[ -f "$KAFKA_PID" ]] || return 1
    local pid; pid=$(<"$KAFKA_PID")
    [[ "$pid" =~ ^[0-9]+$ ]] && [[ -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "kafka.Kafka $KDIR/server.properties" || return 1
    printf '%s\n' "$pid"
}

kafka_fail() {
    rm -f "$KAFKA_PID"
    log "kafka: $1" >&2
    log "---- tail of $KDIR/kafka.out" >&2
    tail -n 40 "$KDIR/kafka.out" >&2 2>/dev/null || true
    # server.log is appended across runs: show only what this start wrote.
    log "---- tail of $KDIR/logs/server.log (this start)" >&2
    tail -n "+$((KAFKA_LOG_MARK + 1))" "$KDIR/logs/server.log" 2>/dev/null | tail -n 40 >&2 || true
    exit 1
}

kafka_start() {
    local t0; t0=$(now_ms)
    if port_open "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT"; then
        die "kafka: controller port $KAFKA_HOST:$KAFKA_CONTROLLER_PORT is taken by another process (set KAFKA_CONTROLLER_PORT)"
    fi
    kafka_classpath
    kafka_write_config
    kafka_format
    : >"$KDIR/probe.out"
    KAFKA_LOG_MARK=0
    [[ -f "$KDIR/logs/server.log" ]] && KAFKA_LOG_MARK=$(wc -l <"$KDIR/logs/server.log")
    # setsid: own session, so a Ctrl-C in the caller's terminal or CI killing the step's process
    # group does not take the broker with it, and nothing waits on our stdout. Output to a file.
    # 9>&-: the broker must not inherit our lock fd, or it would hold the lock for its lifetime.
    # shellcheck disable=SC2086 # KAFKA_JVM_OPTS is a list of flags
    setsid nohup "$JAVA" $KAFKA_JVM_OPTS -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$KDIR/log4j2.properties" \
        -cp "$KAFKA_CP" kafka.Kafka "$KDIR/server.properties" \
        </dev/null >"$KDIR/kafka.out" 2>&1 9>&- &
    local pid=$!
    echo "$pid" >"$KAFKA_PID"

    local deadline=$(( $(date +%s) + KAFKA_START_TIMEOUT ))
    # 1) the port opens (~3 s): KRaft opens the client listener only after the broker has caught
    #    up with the metadata log and is unfenced.
    while ! port_open "$KAFKA_HOST" "$KAFKA_PORT"; do
        kill -0 "$pid" 2>/dev/null || kafka_fail "broker exited during startup"
        (( $(date +%s) < deadline )) || { kill -9 "$pid" 2>/dev/null || true; kafka_fail "port $KAFKA_PORT not open after ${KAFKA_START_TIMEOUT}s"; }
        sleep 0.3
    done
    # 2) it answers a real metadata request, as a client would send.
    while ! kafka_tool quick org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" \
            --command-config "$KDIR/admin.properties" --list >/dev/null 2>>"$KDIR/probe.out"; do
        kill -0 "$pid" 2>/dev/null || kafka_fail "broker exited during startup"
        (( $(date +%s) < deadline )) || { kill -9 "$pid" 2>/dev/null || true; kafka_fail "no metadata answer after ${KAFKA_START_TIMEOUT}s"; }
        sleep 1
    done
    KAFKA_STARTED_PID=$pid
    KAFKA_STARTED_IN=$(secs_since "$t0")
}

kafka_stop() { # $1 = TERM | KILL
    local pid sig=${1:-TERM}
    pid=$(kafka_our_pid) || { rm -f "$KAFKA_PID"; return 1; }
    kill "-$sig" "$pid" 2>/dev/null || true
    # A controlled shutdown of a combined node takes a few seconds; bounded, then SIGKILL.
    local i
    for ((i = 0; i < KAFKA_STOP_TIMEOUT * 5; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "kafka: pid $pid still alive after ${KAFKA_STOP_TIMEOUT}s, sending SIGKILL" >&2
        kill -9 "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    fi
    rm -f "$KAFKA_PID"
    # The kernel may keep the listening socket a moment after the process is gone.
    for ((i = 0; i < 50; i++)); do port_open "$KAFKA_HOST" "$KAFKA_PORT" || break; sleep 0.2; done
    KAFKA_STOPPED_PID=$pid
}

kafka_up() {
    local pid
    if pid=$(kafka_our_pid); then
        log "kafka: already running pid $pid on $KAFKA_HOST:$KAFKA_PORT (started by brokers.sh)"
        return 0
    fi
    rm -f "$KAFKA_PID"
    if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
        log "kafka: already running on $KAFKA_HOST:$KAFKA_PORT (not started by brokers.sh, leaving it)"
        return 0
    fi
    kafka_start
    log "kafka: started pid $KAFKA_STARTED_PID on $KAFKA_HOST:$KAFKA_PORT in ${KAFKA_STARTED_IN} s"
}

kafka_down() {
    if kafka_stop TERM; then
        log "kafka: stopped pid $KAFKA_STOPPED_PID"
    elif port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
        log "kafka: not started by brokers.sh, leaving it running"
    else
        log "kafka: not running"
    fi
}

kafka_restart() { # $1 = --hard for SIGKILL (a crash), default a clean SIGTERM shutdown
    local sig=TERM
    [[ "${1:-}" == --hard ]] && sig=KILL
    if kafka_stop "$sig"; then
        log "kafka: stopped pid $KAFKA_STOPPED_PID (SIG$sig)"
    elif port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
        die "kafka: the broker on $KAFKA_HOST:$KAFKA_PORT was not started by brokers.sh, cannot restart it"
    fi
    kafka_start
    log "kafka: restarted pid $KAFKA_STARTED_PID on $KAFKA_HOST:$KAFKA_PORT in ${KAFKA_STARTED_IN} s"
}

# ---------------------------------------------------------------------------------------------

status() {
    local rc=0 who
    if amqp_ready; then
        who=; [[ -f "$RMQ_OWNED" ]] && who=" (started by brokers.sh)"
        log "rabbitmq: reachable on $RMQ_HOST:$RMQ_PORT$who"
    else
        log "rabbitmq: NOT reachable on $RMQ_HOST:$RMQ_PORT"; rc=1
    fi
    local pid
    if pid=$(kafka_our_pid); then who=" (pid $pid, started by brokers.sh)"; else who=; fi
    if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
        log "kafka: reachable on $KAFKA_HOST:$KAFKA_PORT$who"
    else
        log "kafka: NOT reachable on $KAFKA_HOST:$KAFKA_PORT$who"; rc=1
    fi
    return $rc
}

# `up`, the command, then `down` of only what THIS invocation started: a broker that was running
# before (the system RabbitMQ, or one a developer started with `up`) is left running.
run_with_brokers() {
    [[ "${1:-}" == -- ]] && shift
    [[ $# -ge 1 ]] || usage
    local had_kafka=0 had_rmq=0
    port_open "$KAFKA_HOST" "$KAFKA_PORT" && had_kafka=1
    port_open "$RMQ_HOST" "$RMQ_PORT" && had_rmq=1
    # Armed before `up` so a half-finished start is cleaned up too. TERM/INT/HUP are turned into
    # an exit, because bash skips the EXIT trap when killed by an untrapped signal (CI cancel).
    # shellcheck disable=SC2064 # expand now: the locals are gone when the trap fires
    trap "run_cleanup $had_kafka $had_rmq" EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT
    trap 'exit 129' HUP
    rmq_up
    kafka_up
    exec 9>&- # the command must not hold our lock, or its own brokers.sh calls would deadlock
    local rc=0
    "$@" || rc=$?
    exit "$rc"
}

run_cleanup() { # $1 = kafka was running before, $2 = rabbitmq was running before
    exec 9>"$STATE/.lock"
    flock -w 120 9 || log "brokers.sh: lock busy, stopping brokers anyway" >&2
    if (( ! $1 )); then kafka_down; fi
    if (( ! $2 )); then rmq_down; fi
}

usage() {
    sed -n '5,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

main() {
    local cmd=${1:-}
    [[ -n "$cmd" ]] || usage
    shift
    mkdir -p "$STATE" "$KDIR"
    # One brokers.sh at a time per checkout: two parallel `up`s (CI steps, test forks) would
    # otherwise both find 9092 closed and start two brokers on one data dir.
    exec 9>"$STATE/.lock"
    flock -w 300 9 || die "another brokers.sh has held $STATE/.lock for 300 s"
    case "$cmd" in
        up) rmq_up; kafka_up ;;
        down) kafka_down; rmq_down ;;
        status) status ;;
        restart-rabbitmq) rmq_restart ;;
        restart-kafka) kafka_restart "${1:-}" ;;
        run) run_with_brokers "$@" ;;
        kafka-run) [[ $# -ge 1 ]] || usage; kafka_classpath; exec 9>&-; kafka_tool full "$@" ;;
        *) usage ;;
    esac
}

main "$@"
