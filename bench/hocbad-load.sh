#!/usr/bin/env bash
# hocbad under load: wrk against /healthz (anonymous) and /api/v1/me (an authenticated read, a session
# looked up in the store) at CONNECTIONS connections for SECONDS each, with hocbad's resident memory
# before, between and after. Prints the figures docs/bench.md records.
#   bench/hocbad-load.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
# wrk is one client address: the per-address connection cap is raised to CONNECTIONS for the run
# (the default, 64, would refuse the rest: that is what it is for).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
secs=${2:-60}
conns=${3:-200}
command -v wrk >/dev/null || { echo "wrk is needed (apt install wrk)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
cat > "$tmp/hocbad.toml" <<TOML
[server]
max_connections = $((conns + 64))
max_connections_per_address = $conns
[hsm]
demo_tokens = false
TOML
"$build/daemon/hocbad" --config "$tmp/hocbad.toml" --state-dir "$tmp/state" --listen 127.0.0.1:0 > "$tmp/out" 2> "$tmp/log" &
pid=$!
for _ in $(seq 1 300); do grep -q "listening on" "$tmp/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's|.*https://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/out" | head -1)
[ -n "$port" ] || { echo "hocbad did not start:" >&2; cat "$tmp/log" >&2; exit 1; }
printf 'password-admin\n' > "$tmp/pw"
"$build/cli/hocba" user add --state-dir "$tmp/state" --username admin --role admin --password-file "$tmp/pw" >/dev/null
token=$(curl -sk -H 'Content-Type: application/json' -d '{"username":"admin","password":"password-admin"}' \
  "https://127.0.0.1:$port/api/v1/auth/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "login failed" >&2; exit 1; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$pid/status"; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "hocbad $build/daemon/hocbad, $conns connections, ${secs} s each, wrk 2 threads"
r0=$(rss)
echo "RSS before: $r0 KiB"
echo "--- /healthz"
wrk -t2 -c"$conns" -d"${secs}s" --latency "https://127.0.0.1:$port/healthz" | grep -E "Requests/sec|Latency|50%|99%|requests in|Non-2xx|Socket errors"
r1=$(rss)
echo "RSS after /healthz: $r1 KiB"
echo "--- /api/v1/me (Bearer session)"
wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" "https://127.0.0.1:$port/api/v1/me" |
  grep -E "Requests/sec|Latency|50%|99%|requests in|Non-2xx|Socket errors"
sleep 2
r2=$(rss)
echo "RSS after /api/v1/me: $r2 KiB"
# Once more: memory that a leak would take keeps growing; arenas and connection buffers do not.
echo "--- /healthz again"
wrk -t2 -c"$conns" -d"${secs}s" --latency "https://127.0.0.1:$port/healthz" | grep -E "Requests/sec|requests in|Non-2xx|Socket errors"
sleep 2
r3=$(rss)
echo "RSS after /healthz again: $r3 KiB (peak $(hwm) KiB, the login's Argon2id included); growth over the second /healthz run: $((r3 - r2)) KiB"
echo "log lines during the run: $(wc -l < "$tmp/log")"
kill -TERM $pid
wait $pid && echo "SIGTERM: exit 0"
