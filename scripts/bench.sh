#!/usr/bin/env bash
# Benchmarks of every streamtools transport against its raw client (issue 5; results in BENCHMARKS.md).
#
#   scripts/bench.sh [OPTIONS]        build streamtools-bench, start the brokers it needs through
#                                     scripts/brokers.sh (and stop only those it started), run every
#                                     comparison and stall scenario, print the tables
#   scripts/bench.sh --help           the benchmark's options (--only, --rounds, --round-seconds ...)
#
# Results: stdout, and target/bench/results.md. Environment:
#   BENCH_JVM_OPTS   JVM flags of the benchmark JVM (default: -Xms1g -Xmx1g)
#   BENCH_JFR=1      record a JFR profile (settings=profile) to target/bench/bench.jfr; summarise it with
#                    java -cp ... dev.streamtools.bench.JfrTop target/bench/bench.jfr (printed at the end)
#   BENCH_EXTRA_CP   classpath entries put first (e.g. a transport module's target/classes under development)
#   BENCH_NO_BUILD=1 skip the Maven build (use the jars of the previous run)
# wrk (Debian package) is installed with apt-get when missing. Measurements mean something only on a quiet
# machine: the load average before and after the run is part of the report.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$ROOT/target/bench"
MODULE="$ROOT/streamtools-bench"
mkdir -p "$OUT"
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi
MVN=${MVN:-mvn}

for a in "$@"; do
    if [[ "$a" == -h || "$a" == --help ]]; then
        sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        [[ -f "$MODULE/target/bench-classpath.txt" ]] || exit 0
        exec "$JAVA" -cp "$MODULE/target/streamtools-bench-0.1.0-SNAPSHOT.jar:$(<"$MODULE/target/bench-classpath.txt")" \
            dev.streamtools.bench.BenchMain --help
    fi
done

if ! command -v wrk >/dev/null 2>&1; then
    (( EUID == 0 )) || { echo "bench.sh: wrk is missing and we are not root: apt-get install -y wrk" >&2; exit 1; }
    echo "bench.sh: installing wrk (Debian package)" >&2
    timeout 600 apt-get update -q </dev/null >"$OUT/apt.out" 2>&1 || { tail -n 20 "$OUT/apt.out" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends wrk </dev/null \
        >>"$OUT/apt.out" 2>&1 || { tail -n 20 "$OUT/apt.out" >&2; exit 1; }
fi

if [[ "${BENCH_NO_BUILD:-0}" != 1 ]]; then
    echo "bench.sh: building streamtools-bench and what it needs" >&2
    (cd "$ROOT" && "$MVN" -B -q -pl streamtools-bench -am package -DskipTests </dev/null >"$OUT/build.out" 2>&1) \
        || { tail -n 40 "$OUT/build.out" >&2; echo "bench.sh: build failed (log: $OUT/build.out)" >&2; exit 1; }
fi
CP="$MODULE/target/streamtools-bench-0.1.0-SNAPSHOT.jar:$(<"$MODULE/target/bench-classpath.txt")"
[[ -n "${BENCH_EXTRA_CP:-}" ]] && CP="$BENCH_EXTRA_CP:$CP"

KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/scripts/kafka/pom.xml" | head -n 1)
read -r -a JVM <<<"${BENCH_JVM_OPTS:--Xms1g -Xmx1g}"
if [[ "${BENCH_JFR:-0}" == 1 ]]; then
    rm -f "$OUT/bench.jfr"
    JVM+=("-XX:StartFlightRecording=filename=$OUT/bench.jfr,settings=profile,dumponexit=true")
fi

# A Kafka broker this run starts keeps its data on tmpfs, removed afterwards: a 1 KB produce comparison writes some
# 10 GB, and on disk the kernel's dirty-page writeback throttled the broker partway through a comparison (375 k to
# 170 k records/s of 1 KB in one), a drift the pairs' ratios picked up. The produce topics keep their last segments
# only (KafkaBench.WRITTEN_TOPIC_RETENTION_BYTES). A broker already running is used as it is.
if [[ -z "${KAFKA_DATA_DIR:-}" && -d /dev/shm && -w /dev/shm ]]; then
    export KAFKA_DATA_DIR="/dev/shm/streamtools-bench-kafka.$$"
    trap 'rm -rf "$KAFKA_DATA_DIR"' EXIT
fi

echo "bench.sh: load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)" >&2
rc=0
"$ROOT/scripts/brokers.sh" run -- "$JAVA" "${JVM[@]}" -Dbench.kafka.version="$KAFKA_VERSION" \
    -Dbench.kafka.dataDir="${KAFKA_DATA_DIR:-}" -cp "$CP" \
    dev.streamtools.bench.BenchMain --out "$OUT/results.md" "$@" || rc=$?
if [[ "${BENCH_JFR:-0}" == 1 && -f "$OUT/bench.jfr" ]]; then
    "$JAVA" -cp "$CP" dev.streamtools.bench.JfrTop "$OUT/bench.jfr" | tee "$OUT/profile.txt"
fi
exit "$rc"
