#!/usr/bin/env bash
# Measures the CPU `shmbal top` uses while nothing changes: a seeded segment, the dashboard at
# 10 Hz in a 120x35 tmux terminal, utime+stime from /proc/PID/stat over SECONDS seconds.
#
#   scripts/idle-cpu.sh [SECONDS] [extra top options]     (default 15 s; builds release first)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
shift || true
swift build -c release --product shmbal >/dev/null
bin=$(swift build -c release --show-bin-path)/shmbal

dir=$(mktemp -d /tmp/shmbal-idle-XXXXXX)
server=shmbal-idle-$$
cleanup() {
  local socket
  socket=$(tmux -L "$server" display-message -p '#{socket_path}' 2>/dev/null || true)
  tmux -L "$server" kill-server 2>/dev/null || true
  [ -n "$socket" ] && rm -f "$socket"
  rm -rf "$dir"
}
trap cleanup EXIT
seg=$dir/segment
"$bin" reset USDC 10000 --strategies 5 --exchange KRAKEN --segment "$seg" >/dev/null
"$bin" credit USDC 5000 --segment "$seg" >/dev/null
"$bin" allocate USDC 2 2000 --segment "$seg" >/dev/null
"$bin" allocate USDC 3 3000 --segment "$seg" >/dev/null
"$bin" reset USD 5000 --exchange KRAKEN --segment "$seg" >/dev/null
"$bin" quote write KRAKEN BALANCE USDC 10000 --segment "$seg" >/dev/null

tmux -L "$server" -f /dev/null new-session -d -x 120 -y 35 \
  "exec env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=tmux-256color '$bin' top --segment '$seg' --refresh-ms 100 $*"
sleep 2
pid=$(tmux -L "$server" display-message -p '#{pane_pid}')
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks); s0=$(date +%s.%N)
sleep "$seconds"
t1=$(ticks); s1=$(date +%s.%N)
awk -v t="$((t1 - t0))" -v hz="$hz" -v s0="$s0" -v s1="$s1" \
  'BEGIN { wall = s1 - s0; printf "shmbal top, idle, 10 Hz, 120x35: %d ticks (1/%d s) of CPU in %.1f s = %.2f%% of one core\n", t, hz, wall, 100 * t / hz / wall }'
