#!/usr/bin/env bash
# Starts hpsim with five simulated heat pumps and hpmanagerd on the example config (metrics file +
# SQLite path under .demo/, no external server), then prints live readings.
# DEMO_SECONDS=0 runs until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build --show-bin-path)
DEMO_DIR=.demo
mkdir -p "$DEMO_DIR"
METRICS="$DEMO_DIR/hpmanager.prom"
rm -f "$METRICS"
SECONDS_TO_RUN=${DEMO_SECONDS:-60}

cleanup() {
  [ -n "${DAEMON_PID:-}" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null || true
  [ -n "${SIM_PID:-}" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$BIN/hpsim" --tcp idm:15020 --tcp nibe:15021 --tcp luxtronik:15022:1,2 --tcp daikin:15023 \
  --stats-file "$DEMO_DIR/hpsim-stats.json" < /dev/null > "$DEMO_DIR/hpsim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 1 50); do grep -q '"ready"' "$DEMO_DIR/hpsim.log" 2>/dev/null && break; sleep 0.1; done
grep -q '"ready"' "$DEMO_DIR/hpsim.log" || { echo "hpsim did not start:"; cat "$DEMO_DIR/hpsim.log"; exit 1; }

HPMANAGER_METRICS_FILE="$METRICS" HPMANAGER_STATE_DIR="$DEMO_DIR" HPMANAGER_LOG_FILE="$DEMO_DIR/hpmanagerd.log" \
  HPMANAGER_SOCKET="$DEMO_DIR/hpmanager.sock" \
  "$BIN/hpmanagerd" --config-dir config &
DAEMON_PID=$!
echo "hpsim (pid $SIM_PID) serves 5 heat pumps on 127.0.0.1:15020-15023; hpmanagerd (pid $DAEMON_PID) polls them."
echo "Metrics file: $METRICS   Daemon log: $DEMO_DIR/hpmanagerd.log"
echo "Try: $BIN/hpmanagerctl --socket $DEMO_DIR/hpmanager.sock status"

show() {
  # One row per heat pump: up flag and a few well-known readings from the metrics file.
  awk '
    /^#/ { next }
    {
      name = $1; sub(/\{.*/, "", name)
      if (!match($0, /heatpump_id="[^"]*"/)) next
      id = substr($0, RSTART + 13, RLENGTH - 14)
      value = $NF
      if (name == "heatpump_up") up[id] = value
      if (name == "heatpump_outdoor_temp") out[id] = sprintf("%.1f", value)
      if (name ~ /^heatpump_(hp_flow_temp|supply_temp|flow_temp|leaving_water_temp)$/) flow[id] = sprintf("%.1f", value)
      if (name ~ /^heatpump_(hp_return_temp|return_temp|return_water_temp)$/) ret[id] = sprintf("%.1f", value)
      if (name == "heatpump_modbus_requests") req[id] = value
      if (name == "heatpump_poll_errors_total") err[id] = value
      ids[id] = 1
    }
    END {
      for (id in ids) printf "%-13s %-3s %9s %9s %9s %9s %7s\n", id, up[id], out[id], flow[id], ret[id], req[id], err[id]
    }' "$METRICS" | sort
}

start=$(date +%s)
while true; do
  sleep 5
  kill -0 "$DAEMON_PID" 2>/dev/null || { echo "hpmanagerd exited; see $DEMO_DIR/hpmanagerd.log"; exit 1; }
  if [ -s "$METRICS" ]; then
    echo; echo "--- $(date +%T) live readings (°C) from $METRICS"
    printf "%-13s %-3s %9s %9s %9s %9s %7s\n" "heat pump" "up" "outdoor" "flow" "return" "requests" "errors"
    show
  fi
  if [ "$SECONDS_TO_RUN" -gt 0 ] && [ $(( $(date +%s) - start )) -ge "$SECONDS_TO_RUN" ]; then break; fi
done
echo; echo "Demo finished (DEMO_SECONDS=$SECONDS_TO_RUN; run 'make demo DEMO_SECONDS=0' to keep it running)."
