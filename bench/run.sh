#!/usr/bin/env bash
# beamgate's benchmark harness, in one command: builds beamgate, then measures, in the same run,
# erl->erl calls over plain and over TLS distribution, JInterface->erl, beamgate node->erl (and
# the gateway path once it exists), mTLS handshakes/s under 8 concurrent openssl s_time clients
# (gateway, HAProxy with 2 threads, openssl s_server), and writes docs/benchmarks.md with its
# charts.
#   bench/run.sh [--seconds N] [--rounds N] [--warmup-seconds N] [--only calls,bridge,fairness,handshakes,idle]
#                [--idle-connections N] [--contention] [--out FILE] [--sizes 100,65536,...]
#                [--clients erl-tls,gateway,bridge,...] [--profile cpu|wall]
#   bench/run.sh --only scale [--seconds N]  (1, 2, 3 gateways and a gateway lost under load;
#                                            replaces only the "Scale out" section of the report)
#   bench/run.sh --jmh [JMH arguments]     (the microbenchmarks only)
# Every call scenario reports each process's CPU-µs per call beside calls/s and latency;
# --contention runs the call scenarios a second time beside a CPU hog (one busy thread per core).
# Needs Erlang (erlang-nox, with its ssl application), Debian's erlang-jinterface, openssl and
# haproxy; installs them when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v erl >/dev/null 2>&1 || need+=(erlang-nox)
[ -f /usr/share/java/OtpErlang.jar ] || need+=(erlang-jinterface)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ -x /usr/sbin/haproxy ] || need+=(haproxy)
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
fi
# 10 000 idle connections need as many descriptors in the harness and in the gateway: ask for
# 65536, else take the hard limit (the harness lowers the count and says so when it is short).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# The reactor with the bench module (-Pbench), packaged in place: the harness runs from the
# modules' target/ jars, and nothing is installed into ~/.m2 (other checkouts' snapshots live
# there). bench/target/bench.classpath is written by the bench module's package phase.
mvn -B -q -Pbench package -DskipTests
cp="bench/target/classes:$(cat bench/target/bench.classpath):/usr/share/java/OtpErlang.jar"
if [ "${1:-}" = "--jmh" ]; then
  # The microbenchmarks of the hot pieces (bench/src/main/java/io/beamgate/bench/jmh); further
  # arguments go to JMH (e.g. a name filter, -f 1 -wi 3 -i 5).
  # The results go into docs/benchmarks.md's "Microbenchmarks (JMH)" section (a full run
  # keeps it); -rf/-rff given by the caller are left to JMH, and then nothing is written.
  shift
  [ "$#" -gt 0 ] || set -- -f 1 -wi 3 -w 1 -i 5 -r 1
  load="$(cut -d' ' -f1-3 /proc/loadavg)"
  case " $* " in
    *" -rf "*|*" -rff "*) exec java -cp "$cp" org.openjdk.jmh.Main "$@" ;;
  esac
  java -cp "$cp" org.openjdk.jmh.Main "$@" -rf csv -rff bench/target/jmh.csv
  exec java -cp "$cp" io.beamgate.bench.JmhReport bench/target/jmh.csv docs/benchmarks.md \
    "$load" "$@"
fi
exec java -Xmx2g ${BENCH_JAVA_OPTS:-} -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" \
  io.beamgate.bench.Harness --out docs/benchmarks.md "$@"
