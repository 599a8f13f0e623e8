#!/usr/bin/env bash
# beamgate's fault run (issue 16): two erl backends, gateway A (its own JVM, audit file on a
# small tmpfs in its own mount namespace), gateway B bridging to A, Java clients; faults
# injected one after the other under load, then the checks. Takes about 5 minutes.
#   bench/faults.sh [--soak SECONDS] [--dir DIR]
# Needs root (unshare -m, mount, nsenter), Erlang (erl, erlc) and a JDK 17. Builds the gateway
# through the reactor (no mvn install) unless gateway/target/beamgate.jar exists and
# FAULTS_NO_BUILD=1 is set.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${FAULTS_NO_BUILD:-0}" != 1 ] || [ ! -f gateway/target/beamgate.jar ]; then
  mvn -B -q package -DskipTests
fi
classes="$(mktemp -d)"
trap 'rm -rf "$classes"' EXIT
javac -d "$classes" -cp gateway/target/beamgate.jar bench/src/main/java/io/beamgate/bench/Fault*.java
echo "uptime: $(uptime)"
java -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$classes:gateway/target/beamgate.jar" io.beamgate.bench.FaultRun \
  --jar gateway/target/beamgate.jar "$@"
