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
# while it holds a large long-lived heap of nodes (measured ~15% faster at 30k nodes). The runtime
# reads this knob only from the environment.
export DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x10000000}"
out=artifacts/sim
if ! dotnet build src/Sim/Cli/edgevpn-sim.csproj -c Release -o "$out" -nologo -v quiet -clp:NoSummary\;ErrorsOnly >&2; then
  echo "error: the build failed" >&2
  exit 1
fi
exec dotnet "$out/edgevpn-sim.dll" "$@"
