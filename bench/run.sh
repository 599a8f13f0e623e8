#!/usr/bin/env bash
# beamgate's benchmark harness, in one command: builds beamgate, then measures, in the same run,
# erl->erl calls over plain and over TLS distribution, JInterface->erl, beamgate node->erl (and
# the gateway path once it exists), mTLS handshakes/s under openssl s_time, and writes
# docs/benchmarks.md with its charts.
#   bench/run.sh [--seconds N] [--only calls,fairness,handshakes,idle] [--idle-connections N]
# Needs Erlang (erlang-nox, with its ssl application), Debian's erlang-jinterface and openssl;
# installs them when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v erl >/dev/null 2>&1 || need+=(erlang-nox)
[ -f /usr/share/java/OtpErlang.jar ] || need+=(erlang-jinterface)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
fi
# 10 000 idle connections need as many descriptors in the harness and in the gateway: ask for
# 65536, else take the hard limit (the harness lowers the count and says so when it is short).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
mvn -B -q install -DskipTests
mvn -B -q -f bench/pom.xml package dependency:build-classpath \
  -Dmdep.outputFile="$PWD/bench/target/bench.classpath" -Dmdep.includeScope=runtime
cp="bench/target/classes:$(cat bench/target/bench.classpath):/usr/share/java/OtpErlang.jar"
exec java -Xmx2g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" \
  io.beamgate.bench.Harness --out docs/benchmarks.md "$@"
