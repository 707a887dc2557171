#!/usr/bin/env bash
# Runs the simulator's command line: builds it (Release) when needed, then passes every argument
# to edgevpn-sim. Example: scripts/sim.sh flood --nodes 10000
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: 'dotnet' was not found on PATH. Install the .NET 10 SDK and run this again." >&2
  exit 127
fi
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# A large first GC generation: the simulator allocates small short-lived records at a high rate
# while it holds a large long-lived heap of nodes, and every young collection scans the old heap's
# cards. 256 MiB per GC heap measured ~15% faster at 30k nodes; from 200k nodes on, 1 GiB (at 100k:
# 108.2 -> 100.1 s wall, GC pauses 19.3 -> 8.0 s, peak +750 MB; at 1M the pauses were 21% of the
# run with 256 MiB). The runtime reads this knob only from the environment; set it to override.
gen0=0x10000000
prev=""
for arg in "$@"; do
  if [[ "$prev" == "--nodes" || "$prev" == "-n" ]] && [[ "$arg" =~ ^[0-9]+$ ]] && (( arg >= 200000 )); then gen0=0x40000000; fi
  if [[ "$arg" =~ ^--nodes[=:]([0-9]+)$ ]] && (( BASH_REMATCH[1] >= 200000 )); then gen0=0x40000000; fi
  prev="$arg"
done
# (`bench` runs each size in a child process and gives each its own, by the same threshold:
# BenchCommand.Gen0SizeFor; EDGEVPN_GEN0_DEFAULTED tells it the value below was not the user's.)
if [[ -z "${DOTNET_GCgen0size:-}" ]]; then
  export DOTNET_GCgen0size="$gen0" EDGEVPN_GEN0_DEFAULTED=1
fi
out=artifacts/sim
if ! dotnet build src/Sim/Cli/edgevpn-sim.csproj -c Release -o "$out" -nologo -v quiet -clp:NoSummary\;ErrorsOnly >&2; then
  echo "error: the build failed" >&2
  exit 1
fi
exec dotnet "$out/edgevpn-sim.dll" "$@"
