#!/usr/bin/env bash
# EdgeVpn NAT testbed on one Linux machine (root): network namespaces, NAT routers, Prosody and
# coturn in a "public" namespace, and edgevpn nodes behind the NATs. Recipes follow
# shared/testbed/TESTBED.md (verified on Debian 12); this script keeps its own state.
#
#   run.sh deps                      install the Debian packages it needs (apt-get)
#   run.sh up   --nat A,B            build namespaces and the two NAT routers, then stop
#   run.sh down                      tear down everything recorded in the state directory
#   run.sh pair --nat A,B [--membership presence|lookup] [--json]
#                                    up + Prosody + coturn + two nodes; report; down
#   run.sh throughput [--nat A,B] [--json]
#                                    pair's setup, then iperf3 TCP host 1 -> host 2 through the
#                                    overlay and through wireguard-go between the same hosts
#                                    (default port-restricted,port-restricted; with a symmetric
#                                    NAT only EdgeVpn is measured: wireguard-go has no relay)
#   run.sh selftest                  build and tear down every preset, check nothing is left
#
# NAT presets (A for host 1, B for host 2):
#   none             the host sits on the public bridge with a public address (no NAT)
#   port-restricted  MASQUERADE: endpoint-independent mapping, address+port-dependent filtering
#   symmetric        MASQUERADE --random-fully: a new port per destination (needs TURN)
#   full-cone        MASQUERADE plus DNAT of everything arriving on the WAN to the host
# Every router also drops NEW inbound connections to itself (TESTBED.md: otherwise a peer's
# first probe creates a conntrack entry that collides with the later SNAT mapping).
#
# Addresses: public bridge 203.0.113.1 and .2 (Prosody, coturn), router i WAN 203.0.113.1i,
# host i LAN 10.0.i.2 behind 10.0.i.1 (or 203.0.113.2i with "none").
# Names: every namespace is "${TESTBED_TAG}-<name>" (default tag "evtb"), so runs with other
# tags and other testbeds on the machine do not collide. State (configs, logs, PIDs, the list
# of namespaces made) lives in $TESTBED_STATE (default /tmp/edgevpn-testbed-$TESTBED_TAG).
# Teardown kills only the PIDs this script recorded and deletes only the namespaces it recorded,
# and runs on every exit of `pair`, `throughput` and `selftest` and on a failed `up` (trap), but
# only for a testbed that invocation itself started: a refused `up`/`pair` (tag already up, bad
# preset, not root) leaves an existing testbed untouched.
#
# `pair` starts two nodes (ICE with coturn as STUN and TURN server, DTLS, a tap each: 10.10.0.1
# and 10.10.0.2), waits until both show a connected link, pings 10.10.0.2 from host 1 through
# the taps, and prints {"connected", "path": "direct|relay", "setupMs" (the initiator's, from the
# link request to DTLS up), "pingLossPct", "rttMs" (ping's average), ...} truthfully: without a
# link within the bound it prints "connected": false and the nodes' last transport error.
# With --json every failure of `pair` still prints one JSON object ("connected": false and the
# reason) and exits 1. Bad arguments (an unknown command, option or NAT preset, a malformed
# --nat or --membership) or a bad TESTBED_* number exit 2 before anything is set up.
#
# Environment (numbers are whole seconds or counts, checked up front):
#   TESTBED_TAG                 namespace name prefix (default evtb)
#   TESTBED_STATE               state directory (default /tmp/edgevpn-testbed-$TESTBED_TAG); teardown
#                               keeps a copy of the last run in $TESTBED_STATE.last
#   TESTBED_WAIT_SECONDS        bound for Prosody, coturn, iperf3, WireGuard and the link (default 60, >= 1)
#   TESTBED_PING_COUNT          pings through the overlay (default 20, >= 1)
#   TESTBED_THROUGHPUT_SECONDS  iperf3 duration (default 10, >= 1)
#   TESTBED_NODE_TRACE          1: the nodes write a replayable trace; 0: not (pair 1, throughput 0)
#   TESTBED_REBUILD             non-empty: rebuild the node even when it is already built
#   TESTBED_FAIL_AFTER_UP       testing: make `up` fail right after building (selftest uses it)
set -euo pipefail

TESTBED_TAG="${TESTBED_TAG:-evtb}"
STATE="${TESTBED_STATE:-/tmp/edgevpn-testbed-$TESTBED_TAG}"
# Absolute, because Prosody, coturn and the nodes get paths under it and run elsewhere.
[[ "$STATE" == /* ]] || STATE="$PWD/$STATE"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PRESETS=(none port-restricted symmetric full-cone)
WAIT_SECONDS="${TESTBED_WAIT_SECONDS:-60}"
PING_COUNT="${TESTBED_PING_COUNT:-20}"
THROUGHPUT_SECONDS="${TESTBED_THROUGHPUT_SECONDS:-10}"
# The nodes write a replayable trace of every input (frames included) unless this is 0; throughput turns it off.
NODE_TRACE="${TESTBED_NODE_TRACE:-1}"
DOMAIN=xmpp.test
GROUP="overlay-$TESTBED_TAG"

log() { echo "testbed: $*" >&2; }
die() { FAIL_REASON="$*"; echo "testbed: error: $*" >&2; exit 1; }
# JSON string (with quotes) without jq, so a failure report works even when jq is what is missing.
json_str() {
  local s="$1"
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\n}; s=${s//$'\r'/\\r}; s=${s//$'\t'/\\t}
  printf '"%s"' "$(tr -d '\000-\010\013\014\016-\037' <<<"$s")"
}
ns() { echo "$TESTBED_TAG-$1"; }

need_root() { [[ "$(id -u)" -eq 0 ]] || die "must run as root (network namespaces, iptables)"; }

# Installs the Debian packages for the "command:package" pairs whose command is missing, then
# checks again: a package apt-get cannot install is a clear error, not a silent apt exit code.
install_missing() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; } || true
  local still=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || still+=("${pair%%:*} (package ${pair#*:})")
  done
  ((${#still[@]} == 0)) || die "cannot install what is missing: ${still[*]} (apt-get failed or did not provide it)"
}

deps() {
  need_root
  install_missing jq:jq ip:iproute2 iptables:iptables conntrack:conntrack prosody:prosody turnserver:coturn openssl:openssl ping:iputils-ping
}

need_dotnet() { command -v dotnet >/dev/null 2>&1 || die "dotnet is not on PATH: install the .NET 10 SDK (it builds and runs the edgevpn node)"; }

check_preset() {
  local p
  for p in "${PRESETS[@]}"; do [[ "$1" == "$p" ]] && return 0; done
  die "unknown NAT preset '$1' (one of: ${PRESETS[*]})"
}

# ---- state: what this run made, so teardown removes exactly that ----
record_ns() { echo "$1" >>"$STATE/namespaces"; }
# OWNED is 1 once this invocation has started building a testbed (after every refusal check):
# the exit traps tear down only then, so a refused `up`/`pair` leaves a running testbed alone.
OWNED=0
cleanup() { [[ "$OWNED" == 1 ]] && down; return 0; }
record_pid() { echo "$1 $2" >>"$STATE/pids"; }   # pid name

down() {
  [[ -d "$STATE" ]] || return 0
  if [[ -f "$STATE/pids" ]]; then
    local pid name
    while read -r pid name; do
      [[ -n "$pid" ]] || continue
      if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && { log "$name ($pid) ignored TERM; killing"; kill -KILL "$pid" 2>/dev/null || true; }
      fi
    done < <(tac "$STATE/pids")
    rm -f "$STATE/pids"
  fi
  if [[ -f "$STATE/namespaces" ]]; then
    local n
    # Deleting a namespace removes its interfaces; veth peers in other namespaces go with them.
    while read -r n; do
      [[ -n "$n" ]] || continue
      ip netns pids "$n" 2>/dev/null | while read -r stray; do kill -KILL "$stray" 2>/dev/null || true; done
      ip netns del "$n" 2>/dev/null || true
    done < <(tac "$STATE/namespaces")
    rm -f "$STATE/namespaces"
  fi
  # Keep the last run's configs and logs for a post-mortem (no secrets beyond the testbed's own),
  # always replacing an older one: a run that failed before its nodes started still leaves its
  # Prosody/coturn output there, and an older run's logs never pass for this one's.
  rm -rf "$STATE.last"; cp -r "$STATE" "$STATE.last" 2>/dev/null || true
  rm -rf "$STATE"
  OWNED=0
}

# ---- namespaces and NATs ----
up() {
  need_root
  local natA="$1" natB="$2"
  check_preset "$natA"; check_preset "$natB"
  [[ ! -f "$STATE/namespaces" ]] || die "a testbed with tag '$TESTBED_TAG' is up ($STATE); run '$0 down' first"
  OWNED=1
  mkdir -p "$STATE"
  echo "$natA $natB" >"$STATE/nat"
  local pub; pub="$(ns pub)"
  ip netns add "$pub"; record_ns "$pub"
  ip -n "$pub" link set lo up
  ip -n "$pub" link add br0 type bridge
  ip -n "$pub" addr add 203.0.113.1/24 dev br0
  ip -n "$pub" addr add 203.0.113.2/24 dev br0
  ip -n "$pub" link set br0 up
  # A default route in pub: coturn drops a whole allocation when one relayed send finds no route.
  ip -n "$pub" link add sink type veth peer name sink-peer
  ip -n "$pub" link set sink up; ip -n "$pub" link set sink-peer up
  ip -n "$pub" route add default dev sink
  local i preset
  for i in 1 2; do
    [[ $i -eq 1 ]] && preset="$natA" || preset="$natB"
    local h; h="$(ns h$i)"
    ip netns add "$h"; record_ns "$h"
    ip -n "$h" link set lo up
    if [[ "$preset" == none ]]; then
      ip link add eth0 netns "$h" type veth peer name pub-h$i netns "$pub"
      ip -n "$pub" link set pub-h$i master br0 up
      ip -n "$h" addr add 203.0.113.2$i/24 dev eth0
      ip -n "$h" link set eth0 up
      ip -n "$h" route add default via 203.0.113.1
      echo "203.0.113.2$i" >"$STATE/h$i.addr"
      continue
    fi
    local r; r="$(ns nat$i)"
    ip netns add "$r"; record_ns "$r"
    ip -n "$r" link set lo up
    ip link add wan$i netns "$r" type veth peer name pub-n$i netns "$pub"
    ip -n "$pub" link set pub-n$i master br0 up
    ip -n "$r" addr add 203.0.113.1$i/24 dev wan$i
    ip -n "$r" link set wan$i up
    ip link add lan$i netns "$r" type veth peer name eth0 netns "$h"
    ip -n "$r" addr add 10.0.$i.1/24 dev lan$i
    ip -n "$r" link set lan$i up
    ip -n "$h" addr add 10.0.$i.2/24 dev eth0
    ip -n "$h" link set eth0 up
    ip -n "$h" route add default via 10.0.$i.1
    ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
    ip -n "$r" route add default via 203.0.113.1
    case "$preset" in
      port-restricted) ip netns exec "$r" iptables -t nat -A POSTROUTING -o wan$i -j MASQUERADE ;;
      symmetric) ip netns exec "$r" iptables -t nat -A POSTROUTING -o wan$i -j MASQUERADE --random-fully ;;
      full-cone)
        ip netns exec "$r" iptables -t nat -A POSTROUTING -o wan$i -j MASQUERADE
        ip netns exec "$r" iptables -t nat -A PREROUTING -i wan$i -j DNAT --to-destination 10.0.$i.2 ;;
    esac
    ip netns exec "$r" iptables -A INPUT -i wan$i -m conntrack --ctstate NEW -j DROP
    echo "10.0.$i.2" >"$STATE/h$i.addr"
  done
  if [[ -n "${TESTBED_FAIL_AFTER_UP:-}" ]]; then die "failing on purpose after up (TESTBED_FAIL_AFTER_UP)"; fi
  log "up: $natA / $natB (tag $TESTBED_TAG, state $STATE)"
}

# ---- servers ----
start_prosody() {
  local dir="$STATE/prosody"
  mkdir -p "$dir/data"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$DOMAIN" \
    -keyout "$dir/$DOMAIN.key" -out "$dir/$DOMAIN.crt" >/dev/null 2>&1
  openssl x509 -in "$dir/$DOMAIN.crt" -noout -fingerprint -sha256 | sed 's/.*=//' >"$STATE/xmpp.sha256"
  printf '[%s]\nnode1@%s=node1\nnode2@%s=node2\n' "$GROUP" "$DOMAIN" "$DOMAIN" >"$dir/groups.txt"
  sed -e "s|@DIR@|$dir|g" -e "s|@LOG@|{ info = \"$dir/prosody.log\" }|" -e "s|@INTERFACE@|203.0.113.1|" \
      -e "s|@PORT@|5222|" -e "s|@DOMAIN@|$DOMAIN|g" -e "s|@CERT@|$dir/$DOMAIN.crt|" -e "s|@KEY@|$dir/$DOMAIN.key|" \
      "$HERE/prosody.cfg.lua.in" >"$dir/prosody.cfg.lua"
  for u in node1 node2; do
    prosodyctl --config "$dir/prosody.cfg.lua" register "$u" "$DOMAIN" "$u-pw-$TESTBED_TAG" >/dev/null
  done
  ip netns exec "$(ns pub)" prosody --config "$dir/prosody.cfg.lua" -F >"$dir/stdout.log" 2>&1 &
  record_pid $! prosody
  wait_for "Prosody on 203.0.113.1:5222" "ip netns exec $(ns pub) bash -c 'exec 3<>/dev/tcp/203.0.113.1/5222' 2>/dev/null"
}

start_coturn() {
  local dir="$STATE/turn"
  mkdir -p "$dir"
  cat >"$dir/turnserver.conf" <<EOF
listening-ip=203.0.113.1
listening-ip=203.0.113.2
listening-port=3478
relay-ip=203.0.113.1
min-port=49160
max-port=49200
realm=$DOMAIN
lt-cred-mech
user=turn-$TESTBED_TAG:turn-pw-$TESTBED_TAG
fingerprint
no-tls
no-dtls
no-cli
no-multicast-peers
userdb=$dir/turndb
pidfile=$dir/turnserver.pid
log-file=$dir/turn.log
simple-log
EOF
  ip netns exec "$(ns pub)" turnserver -c "$dir/turnserver.conf" >"$dir/stdout.log" 2>&1 &
  record_pid $! coturn
  wait_for "coturn on 203.0.113.1:3478" "ip netns exec $(ns pub) ss -lun | grep -q '203.0.113.1:3478'"
}

wait_for() {   # what, command
  local what="$1" cmd="$2" deadline=$(( $(date +%s%N) + WAIT_SECONDS * 1000000000 ))
  # A wall-clock deadline (not a count of passes: each check itself takes time).
  while :; do
    if eval "$cmd"; then return 0; fi
    (( $(date +%s%N) < deadline )) || break
    sleep 0.2
  done
  die "$what did not come up within ${WAIT_SECONDS}s (its output stays in $STATE.last after the teardown)"
}

# ---- nodes ----
EDGEVPN_DLL="$REPO/src/RealNode/bin/Release/net10.0/edgevpn.dll"

build_node() {
  need_dotnet
  if [[ ! -f "$EDGEVPN_DLL" || -n "${TESTBED_REBUILD:-}" ]]; then
    log "building edgevpn (Release)"
    dotnet build "$REPO/src/RealNode" -c Release -nologo -v quiet >/dev/null || die "build failed"
  fi
}

node_config() {   # i
  local i="$1"
  cat >"$STATE/h$i.json" <<EOF
// generated by experiments/testbed/run.sh
{
  "Overlay": { "Id": "$GROUP" },
  "Node": { "Id": "$(printf '%032x' "$i")", "Seed": $i },
  "Signaling": {
    "Host": "203.0.113.1", "Port": 5222,
    "Account": "node$i@$DOMAIN", "Password": "node$i-pw-$TESTBED_TAG",
    "Group": "$GROUP",
    "CertificateSha256": "$(cat "$STATE/xmpp.sha256")",
    "ReconnectDelayMaxSeconds": 5,
  },
  "Ice": {
    "Stun": [ "203.0.113.1:3478" ],
    "Turn": [ { "Address": "203.0.113.1:3478", "User": "turn-$TESTBED_TAG", "Password": "turn-pw-$TESTBED_TAG" } ],
  },
  "Tap": { "Name": "edgevpn0", "Address": "10.10.0.$i/24", "Mtu": 1410 },
  "Topology": { "LongLinkDelaySeconds": 1, "TickIntervalSeconds": 1, "Membership": "$MEMBERSHIP" },
  "Links": { "BackoffBaseSeconds": 1, "BackoffMaxSeconds": 5 },
  "Control": { "Socket": "$STATE/h$i.sock" },
$( [[ "$NODE_TRACE" == 1 ]] && echo "  \"Trace\": { \"Path\": \"$STATE/h$i.trace\" },")
  "Log": { "Level": "info" },
}
EOF
}

start_node() {   # i
  local i="$1"
  node_config "$i"
  ip netns exec "$(ns h$i)" dotnet "$EDGEVPN_DLL" node --config "$STATE/h$i.json" >"$STATE/h$i.log" 2>&1 &
  record_pid $! "node$i"
}

status_json() { dotnet "$EDGEVPN_DLL" status --socket "$STATE/h$1.sock" --json 2>/dev/null || true; }
json_field() { jq -r "$2" <<<"$1" 2>/dev/null || echo null; }

# Brings up namespaces, Prosody, coturn and two nodes, then waits (at most WAIT_SECONDS) until
# both nodes show a connected link. Sets S1, S2 (status JSON), OUTCOME (connected | none) and
# WAITED_MS (from starting the nodes). A transport error alone does not end the wait: the node
# retries after its back-off, and the last error is the reason when the bound passes.
run_pair() {
  local natA="$1" natB="$2"
  build_node
  up "$natA" "$natB"
  start_prosody
  start_coturn
  start_node 1
  start_node 2
  local started; started=$(date +%s%N)
  local deadline=$(( started + WAIT_SECONDS * 1000000000 )) polled
  S1=""; S2=""; OUTCOME=none
  # A wall-clock deadline: a pass (two status calls) takes much longer than its 0.2 s sleep. A
  # link counts only if the status poll that saw it began before the deadline.
  while :; do
    polled=$(date +%s%N)
    (( polled < deadline )) || break
    S1="$(status_json 1)"; S2="$(status_json 2)"
    local c1 c2
    c1=$(json_field "$S1" '[.links[] | select(.state=="connected")] | length')
    c2=$(json_field "$S2" '[.links[] | select(.state=="connected")] | length')
    if [[ "$c1" =~ ^[1-9] && "$c2" =~ ^[1-9] ]]; then OUTCOME=connected; break; fi
    for i in 1 2; do
      local pidline; pidline=$(grep " node$i\$" "$STATE/pids" | cut -d' ' -f1)
      kill -0 "$pidline" 2>/dev/null || { tail -5 "$STATE/h$i.log" >&2; die "node $i exited: $(grep . "$STATE/h$i.log" | tail -1)"; }
    done
    sleep 0.2
  done
  WAITED_MS=$(( ($(date +%s%N) - started) / 1000000 ))
}

# ping from host 1 to host 2's overlay address (through both taps and the link). Sets PING_LOSS
# (percent) and PING_RTT (average ms; null when nothing came back).
ping_overlay() {
  local out
  out=$(ip netns exec "$(ns h1)" ping -q -n -c "$PING_COUNT" -i 0.2 -W 2 10.10.0.2 2>&1) || true
  PING_LOSS=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' <<<"$out" | head -1)
  PING_RTT=$(sed -n 's#^rtt min/avg/max/mdev = [0-9.]*/\([0-9.]*\)/.*#\1#p' <<<"$out" | head -1)
  [[ -n "$PING_LOSS" ]] || { log "ping printed no summary: $out"; PING_LOSS=100; }
  [[ -n "$PING_RTT" ]] || PING_RTT=null
}

connected_links() { jq -c '[.links[] | select(.state=="connected")]' <<<"$1" 2>/dev/null || echo '[]'; }

# With --json, every failed `pair` or `throughput` still prints one JSON object on stdout
# (`pair`: {"connected": false, ..., "reason"}; `throughput`: {"edgevpnMbps": null, ..., "reason"}),
# so a sweep can record it; the exit code stays non-zero.
json_exit() {   # rc command natA natB json
  if [[ "$1" != 0 && "$5" == 1 && "${PAIR_PRINTED:-0}" != 1 ]]; then
    local reason; reason=$(json_str "${FAIL_REASON:-run.sh $2 exited with code $1 (see stderr)}")
    if [[ "$2" == pair ]]; then
      printf '{"connected": false, "membership": %s, "nat": [%s, %s], "waitedMs": %s, "reason": %s}\n' \
        "$(json_str "$MEMBERSHIP")" "$(json_str "$3")" "$(json_str "$4")" "${WAITED_MS:-null}" "$reason"
    else
      printf '{"edgevpnMbps": null, "wireguardGoMbps": null, "nat": [%s, %s], "reason": %s}\n' "$(json_str "$3")" "$(json_str "$4")" "$reason"
    fi
  fi
  cleanup
}

# The node's control socket ($STATE/hN.sock) must fit in a Unix socket path (107 bytes).
check_state_path() {
  local sock="$STATE/h1.sock"
  (( ${#sock} <= 107 )) || die "TESTBED_STATE is too long: the node's control socket $sock would be ${#sock} bytes, at most 107 (use a shorter TESTBED_STATE)"
}

pair() {
  local natA="$1" natB="$2" json="$3"
  trap 'json_exit $? pair "'"$natA"'" "'"$natB"'" '"$json" EXIT
  need_root
  check_state_path
  deps
  run_pair "$natA" "$natB"
  local m1 m2 sig1 sig2 reason connected=false candidate=null path=null setup=null iceRtt=null
  m1=$(json_field "$S1" '.members'); m2=$(json_field "$S2" '.members')
  sig1=$(json_field "$S1" '.signaling'); sig2=$(json_field "$S2" '.signaling')
  PING_LOSS=null; PING_RTT=null
  if [[ "$OUTCOME" == connected ]]; then
    connected=true
    local l1 l2; l1=$(connected_links "$S1"); l2=$(connected_links "$S2")
    candidate=$(jq -r '.[0].path' <<<"$l1")
    case "$candidate" in relay) path=relay ;; host|srflx|prflx) path=direct ;; *) path=null ;; esac
    # The initiator's setup time is the longer one: request, both gatherings, ICE checks, DTLS.
    setup=$(jq -n --argjson a "$l1" --argjson b "$l2" '[$a[0].setupMs, $b[0].setupMs] | map(select(. != null)) | max // null')
    iceRtt=$(jq -r '.[0].rttMs // "null"' <<<"$l1")
    ping_overlay
    reason="link up over $candidate; ping $PING_COUNT x 10.10.0.1 -> 10.10.0.2 through the taps"
  else
    reason=$(json_field "$S1" '.lastTransportError // .lastLinkFailure // empty')
    [[ -n "$reason" && "$reason" != null ]] || reason=$(json_field "$S2" '.lastTransportError // .lastLinkFailure // empty')
    [[ -n "$reason" && "$reason" != null ]] || reason="no link within ${WAIT_SECONDS}s (members $m1/$m2, signaling $sig1/$sig2)"
    reason="no connected link within ${WAIT_SECONDS}s: $reason"
  fi
  local negotiated=false
  [[ $(json_field "$S1" '.signalsReceived') =~ ^[1-9] && $(json_field "$S2" '.signalsReceived') =~ ^[1-9] ]] && negotiated=true
  local out
  out=$(jq -n --argjson connected "$connected" --arg path "$path" --arg candidate "$candidate" \
    --argjson setup "$setup" --argjson loss "$PING_LOSS" --argjson rtt "$PING_RTT" --argjson iceRtt "$iceRtt" \
    --arg natA "$natA" --arg natB "$natB" --arg sig1 "$sig1" --arg sig2 "$sig2" \
    --argjson m1 "${m1:-null}" --argjson m2 "${m2:-null}" --argjson negotiated "$negotiated" \
    --argjson waited "$WAITED_MS" --arg reason "$reason" --arg membership "$MEMBERSHIP" \
    'def n: if . == "null" then null else . end;
     {connected: $connected, membership: $membership, path: ($path | n), setupMs: $setup, pingLossPct: $loss, rttMs: $rtt,
      candidatePath: ($candidate | n), iceRttMs: $iceRtt,
      nat: [$natA, $natB], signaling: [$sig1, $sig2], members: [$m1, $m2], negotiatedOverXmpp: $negotiated,
      waitedMs: $waited, reason: $reason}')
  if [[ "$json" == 1 ]]; then echo "$out"; else jq -r 'to_entries[] | "\(.key): \(.value)"' <<<"$out"; fi
  PAIR_PRINTED=1
  grep -h -i "password\|-pw-" "$STATE"/h*.log >/dev/null 2>&1 && log "warning: a node log mentions a password" || true
}

# ---- throughput: iperf3 TCP through the overlay and, in the same run, through wireguard-go ----
deps_throughput() {
  install_missing iperf3:iperf3 wireguard-go:wireguard-go wg:wireguard-tools unshare:util-linux
}

public_addr() {   # i -> the address the other host reaches host i at (its router's WAN, or its own)
  [[ "$(cut -d' ' -f"$1" "$STATE/nat")" == none ]] && echo "203.0.113.2$1" || echo "203.0.113.1$1"
}

# CPU use during a transfer, from /proc (no profiler needed): per namespace (h1, h2, and pub for
# coturn), per process and thread name (pool threads summed), in percent of one CPU, plus the
# whole machine's busy share. Kernel names are cut at 15 characters: an IceLink's threads show
# as "ice_loop_link" (its loop) and "link" (its UDP receive thread). Snapshots are "host process thread ticks" lines and a "machine busy total" line.
cpu_snapshot() {
  local n p t
  for n in h1 h2 pub; do
    for p in $(ip netns pids "$(ns $n)" 2>/dev/null); do
      local pcomm; pcomm=$(tr ' ' _ <"/proc/$p/comm" 2>/dev/null) || continue
      for t in /proc/"$p"/task/*; do
        # Fields after "(comm) ": state is 1, utime 12, stime 13.
        echo "$n $pcomm $(tr ' ' _ <"$t/comm" 2>/dev/null | sed 's/_[0-9a-f]*$//; s/_[0-9.:]*$//') $(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{print $12 + $13}')"
      done
    done
  done
  awk '/^cpu /{print "machine busy", $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat
}

# Prints a JSON object: {"machineBusyPct": N, "threads": [{"host", "process", "thread", "cpuPct"}, ...]} (top 12).
cpu_profile() {   # before-file after-file seconds
  local hz; hz=$(getconf CLK_TCK)
  awk -v hz="$hz" -v secs="$3" '
    FNR == NR { if ($1 == "machine") { b0 = $3; t0 = $4 } else before[$1 " " $2 " " $3] += $4; next }
    $1 == "machine" { busy = ($3 - b0) / ($4 - t0) * 100; next }
    { after[$1 " " $2 " " $3] += $4 }
    END {
      printf "{\"machineBusyPct\": %.0f, \"threads\": [", busy
      n = 0
      for (k in after) { d = (after[k] - before[k]) / hz / secs * 100; if (d >= 1) { split(k, f, " "); line[n++] = sprintf("%09.3f {\"host\": \"%s\", \"process\": \"%s\", \"thread\": \"%s\", \"cpuPct\": %.0f}", d, f[1], f[2], f[3], d) } }
      printf "%s", ""
      for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (line[j] > line[i]) { x = line[i]; line[i] = line[j]; line[j] = x }
      for (i = 0; i < n && i < 12; i++) { s = line[i]; sub(/^[0-9.]+ /, "", s); printf "%s%s", (i ? ", " : ""), s }
      printf "]}"
    }' "$1" "$2"
}

# iperf3 TCP from host 1 to host 2's address $1 for THROUGHPUT_SECONDS; prints Mbit/s received (or null).
iperf_mbps() {
  local target="$1" name="$2"
  ip netns exec "$(ns h2)" iperf3 -s -1 -B "$target" -p 5201 >"$STATE/iperf-$name-server.log" 2>&1 &
  record_pid $! "iperf3-$name"
  wait_for "iperf3 server on $target" "ip netns exec $(ns h2) ss -ltn | grep -q '$target:5201'"
  ip netns exec "$(ns h1)" iperf3 -c "$target" -p 5201 -t "$THROUGHPUT_SECONDS" -J >"$STATE/iperf-$name.json" 2>"$STATE/iperf-$name-client.err" &
  local client=$! window=$(( THROUGHPUT_SECONDS / 2 ))
  (( window >= 1 )) || window=1   # a 1 s transfer: profile its whole second (no division by zero)
  # The CPU profile covers the middle of the transfer (a quarter in, for half its length).
  sleep $(( THROUGHPUT_SECONDS / 4 )); cpu_snapshot >"$STATE/cpu-$name.0"
  sleep "$window"; cpu_snapshot >"$STATE/cpu-$name.1"
  cpu_profile "$STATE/cpu-$name.0" "$STATE/cpu-$name.1" "$window" >"$STATE/cpu-$name.json" 2>/dev/null || echo null >"$STATE/cpu-$name.json"
  # mawk writes -nan instead of failing: keep the profile only if it is valid JSON.
  jq -e . "$STATE/cpu-$name.json" >/dev/null 2>&1 || { log "CPU profile for $name is not valid JSON; reporting null"; echo null >"$STATE/cpu-$name.json"; }
  wait "$client" || true
  local out; out=$(cat "$STATE/iperf-$name.json")
  jq -r '(.end.sum_received.bits_per_second // empty) / 1e6 | . * 10 | round / 10' <<<"$out" 2>/dev/null | grep . || echo null
}

# wireguard-go in host i's namespace with its own /run (its control socket is at /run/wireguard),
# listening on 51820, peer = the other host's public address; tunnel address 10.20.0.i/24.
start_wireguard() {   # i
  local i="$1" peer=$((3 - $1)) dir="$STATE/wg"
  mkdir -p "$dir"
  [[ -f "$dir/h1.key" ]] || for k in 1 2; do (umask 077; wg genkey >"$dir/h$k.key"); wg pubkey <"$dir/h$k.key" >"$dir/h$k.pub"; done
  cat >"$dir/h$i.sh" <<EOF
set -e
mount -t tmpfs tmpfs /run
wireguard-go -f wg0 >"$dir/h$i.log" 2>&1 &
pid=\$!
for _ in \$(seq 1 100); do [ -S /run/wireguard/wg0.sock ] && break; sleep 0.05; done
wg set wg0 private-key "$dir/h$i.key" listen-port 51820 peer "\$(cat "$dir/h$peer.pub")" allowed-ips 10.20.0.$peer/32 endpoint $(public_addr "$peer"):51820 persistent-keepalive 1
ip addr add 10.20.0.$i/24 dev wg0
ip link set wg0 up
wait \$pid
EOF
  ip netns exec "$(ns h$i)" unshare -m --propagation private sh "$dir/h$i.sh" >"$dir/h$i.out" 2>&1 &
  record_pid $! "wireguard$i"
}

throughput() {
  local natA="$1" natB="$2" json="$3"
  trap 'json_exit $? throughput "'"$natA"'" "'"$natB"'" '"$json" EXIT
  need_root
  check_state_path
  deps
  deps_throughput
  NODE_TRACE="${TESTBED_NODE_TRACE:-0}"   # a trace of every frame would measure the trace writer
  local wgSkip=""
  case "$natA,$natB" in *symmetric*) wgSkip="wireguard-go has no relay: it cannot cross a symmetric NAT, so only EdgeVpn (through TURN) is measured" ;; esac
  run_pair "$natA" "$natB"
  [[ "$OUTCOME" == connected ]] || die "no EdgeVpn link within ${WAIT_SECONDS}s: $(json_field "$S1" '.lastTransportError')"
  local candidate; candidate=$(jq -r '.[0].path' <<<"$(connected_links "$S1")")
  ping_overlay   # also resolves ARP through the overlay before iperf3 starts
  local edgevpn; edgevpn=$(iperf_mbps 10.10.0.2 edgevpn)
  local wireguard=null
  if [[ -z "$wgSkip" ]]; then
    start_wireguard 1
    start_wireguard 2
    wait_for "a WireGuard handshake (ping 10.20.0.2 from host 1)" "ip netns exec $(ns h1) ping -c 1 -W 1 10.20.0.2 >/dev/null 2>&1"
    wireguard=$(iperf_mbps 10.20.0.2 wireguard)
  fi
  local out retrans_e retrans_w
  retrans_e=$(jq '.end.sum_sent.retransmits // null' "$STATE/iperf-edgevpn.json" 2>/dev/null || echo null)
  retrans_w=$(jq '.end.sum_sent.retransmits // null' "$STATE/iperf-wireguard.json" 2>/dev/null || echo null)
  out=$(jq -n --argjson e "$edgevpn" --argjson w "$wireguard" --arg natA "$natA" --arg natB "$natB" --arg path "$candidate" \
    --argjson seconds "$THROUGHPUT_SECONDS" --argjson cpus "$(nproc)" --argjson re "${retrans_e:-null}" --argjson rw "${retrans_w:-null}" \
    --arg load "$(cut -d' ' -f1 /proc/loadavg)" --arg wgSkip "$wgSkip" \
    --argjson cpuE "$(cat "$STATE/cpu-edgevpn.json" 2>/dev/null || echo null)" --argjson cpuW "$(cat "$STATE/cpu-wireguard.json" 2>/dev/null || echo null)" \
    '{edgevpnMbps: $e, wireguardGoMbps: $w, ratio: (if $e != null and $w != null and $w > 0 then ($e / $w * 100 | round / 100) else null end),
      nat: [$natA, $natB], edgevpnPath: $path, wireguardGoSkipped: (if $wgSkip == "" then null else $wgSkip end), seconds: $seconds, cpus: $cpus, loadAverage1m: ($load | tonumber),
      tcpRetransmits: {edgevpn: $re, wireguardGo: $rw}, cpuDuringTransfer: {edgevpn: $cpuE, wireguardGo: $cpuW},
      test: "iperf3 TCP, one stream, host 1 -> host 2 (EdgeVpn over its taps, MTU 1410; wireguard-go over wg0, MTU 1420)"}')
  if [[ "$json" == 1 ]]; then echo "$out"; else jq -r 'to_entries[] | "\(.key): \(.value)"' <<<"$out"; fi
}

# ---- selftest: every preset builds, routes and tears down without leftovers ----
leftovers() {
  local left=""
  # Exactly this tag's names (fixed strings): tag "x" must not claim tag "x-2"'s namespaces.
  left+=$(ip netns list | awk '{print $1}' | grep -xF -e "$(ns pub)" -e "$(ns h1)" -e "$(ns h2)" -e "$(ns nat1)" -e "$(ns nat2)" || true)
  [[ -d "$STATE" ]] && left+=" state:$STATE"
  echo "$left"
}

selftest() {
  need_root
  deps
  trap cleanup EXIT
  [[ -z "$(leftovers)" ]] || die "leftovers before the selftest: $(leftovers)"
  local combos=("port-restricted,symmetric" "full-cone,none" "symmetric,full-cone" "none,port-restricted")
  local combo ok=0
  for combo in "${combos[@]}"; do
    up "${combo%,*}" "${combo#*,}"
    local i
    for i in 1 2; do
      ip netns exec "$(ns h$i)" ping -c 1 -W 2 203.0.113.1 >/dev/null || die "$combo: host $i cannot reach the public bridge"
    done
    for i in 1 2; do
      local preset; preset=$(cut -d' ' -f$i "$STATE/nat")
      [[ "$preset" == none ]] && continue
      local rules; rules=$(ip netns exec "$(ns nat$i)" iptables -t nat -S)
      grep -q -- "-j MASQUERADE" <<<"$rules" || die "$combo: router $i has no MASQUERADE"
      [[ "$preset" != symmetric ]] || grep -q -- "--random-fully" <<<"$rules" || die "$combo: router $i is not symmetric"
      [[ "$preset" != full-cone ]] || grep -q -- "-j DNAT" <<<"$rules" || die "$combo: router $i has no DNAT"
    done
    # The public side must not reach a NATed host's private address.
    if [[ $(cut -d' ' -f1 "$STATE/nat") != none ]] && ip netns exec "$(ns pub)" ping -c 1 -W 1 10.0.1.2 >/dev/null 2>&1; then
      die "$combo: the public namespace reaches a private address"
    fi
    down
    [[ -z "$(leftovers)" ]] || die "$combo: left behind: $(leftovers)"
    ok=$((ok + 1))
  done
  # A failure in the middle of `up` must still leave nothing behind.
  if TESTBED_FAIL_AFTER_UP=1 "$0" up --nat symmetric,symmetric 2>/dev/null; then die "the injected failure did not fail"; fi
  [[ -z "$(leftovers)" ]] || die "a failed up left behind: $(leftovers)"
  echo "selftest: ok ($ok preset combinations built, routed and torn down; failed up cleaned up)"
}

# ---- command line ----
# The usage text is the header comment: every line from line 2 up to `set -euo pipefail`.
usage() { sed -n '2,/^set -euo pipefail/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

# Bad arguments: exit 2 (as an unknown command), before anything is set up or torn down.
bad_args() { echo "testbed: error: $*" >&2; exit 2; }

parse_nat() {
  [[ "$1" == *,* ]] || bad_args "--nat wants two presets, e.g. --nat port-restricted,symmetric"
  NAT_A="${1%,*}"; NAT_B="${1#*,}"
  local p q ok
  for p in "$NAT_A" "$NAT_B"; do
    ok=0
    for q in "${PRESETS[@]}"; do [[ "$p" == "$q" ]] && ok=1; done
    ((ok)) || bad_args "unknown NAT preset '$p' (one of: ${PRESETS[*]})"
  done
}

cmd="${1:-}"; shift || true
case "$cmd" in
  ""|help|-h|--help) usage; exit 0 ;;
  deps|up|down|pair|throughput|selftest) ;;
  *) echo "testbed: error: unknown command '$cmd'" >&2; usage >&2; exit 2 ;;
esac
NAT_A=port-restricted; NAT_B=port-restricted; JSON=0; MEMBERSHIP=presence
while [[ $# -gt 0 ]]; do
  case "$1" in
    --nat) parse_nat "${2:-}"; shift 2 ;;
    --json) JSON=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --membership)
      [[ "${2:-}" == presence || "${2:-}" == lookup ]] || bad_args "--membership wants presence or lookup"
      MEMBERSHIP="$2"; shift 2 ;;
    *) bad_args "unknown argument '$1'" ;;
  esac
done
# Numbers from the environment, checked before anything runs (bash arithmetic would read "abc"
# as a variable name and a wait loop would silently run zero times).
check_count() {   # name value
  [[ "$2" =~ ^[0-9]+$ && "$2" =~ [1-9] ]] || { echo "testbed: error: $1 must be a whole number >= 1, got '$2'" >&2; exit 2; }
  (( 10#$2 <= 100000 )) || { echo "testbed: error: $1 must be at most 100000, got '$2'" >&2; exit 2; }
}
if [[ "$cmd" != down ]]; then   # `down` uses none of them and must always be able to clean up
  check_count TESTBED_WAIT_SECONDS "$WAIT_SECONDS"
  check_count TESTBED_PING_COUNT "$PING_COUNT"
  check_count TESTBED_THROUGHPUT_SECONDS "$THROUGHPUT_SECONDS"
  WAIT_SECONDS=$((10#$WAIT_SECONDS)); PING_COUNT=$((10#$PING_COUNT)); THROUGHPUT_SECONDS=$((10#$THROUGHPUT_SECONDS))
  if [[ -n "${TESTBED_NODE_TRACE:-}" && "$TESTBED_NODE_TRACE" != 0 && "$TESTBED_NODE_TRACE" != 1 ]]; then
    echo "testbed: error: TESTBED_NODE_TRACE must be 0 or 1, got '$TESTBED_NODE_TRACE'" >&2; exit 2
  fi
fi
case "$cmd" in
  deps) deps ;;
  up) trap 'rc=$?; [[ $rc -eq 0 ]] || cleanup' EXIT; up "$NAT_A" "$NAT_B" ;;
  down) need_root; down ;;
  pair) pair "$NAT_A" "$NAT_B" "$JSON" ;;
  throughput) throughput "$NAT_A" "$NAT_B" "$JSON" ;;
  selftest) selftest ;;
esac
