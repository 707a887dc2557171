// The commented example that `edgevpn config init` writes: JSON with comments (JSONC), which
// NodeConfigParser reads as it is (a test parses it back and checks every value). Each section
// names the EdgeVPN config section it corresponds to. Defaults are written out so that a reader
// sees every knob; deleting a line gives the same value.
namespace EdgeVpn.RealNode.Config;

public static class ConfigExample
{
    public const string Text = """
        // edgevpn node configuration (JSON with comments; trailing commas are allowed).
        // Unknown fields are errors. Durations are in seconds; sizes in bytes.
        {
          // EdgeVPN: CFx.Overlays. The overlay's name; nodes of one overlay link to each other.
          "Overlay": { "Id": "overlay1" },

          // EdgeVPN: CFx.NodeId. 32 hex digits; leave out for a fresh random id at each start.
          "Node": {
            // "Id": "0123456789abcdef0123456789abcdef",
            // "Seed": 1,   // fixes link ids and jitter (tests and replay); random when left out
          },

          // EdgeVPN: Signal. The XMPP account this node logs in with; members of the overlay are
          // the members of the roster group (Prosody's mod_groups) named below.
          "Signaling": {
            "Host": "xmpp.example.org",
            "Port": 5222,
            "Account": "alice@xmpp.example.org",
            "Password": "change-me",
            "Resource": "edgevpn",          // one account (or resource) per node: a second login on the same
                                            // address takes it over, and the older node stops
            "Group": "overlay1",            // default: the overlay id
            // Trust: the system's CA store by default; or a private CA, or one pinned certificate:
            // "CaFile": "/etc/edgevpn/xmpp-ca.pem",
            // "CertificateSha256": "AB:CD:...",   // 64 hex digits, as `openssl x509 -fingerprint -sha256` prints
            "AllowPlain": true,              // SASL PLAIN (over TLS only) when the server lacks SCRAM-SHA-1
            "ReconnectDelayMaxSeconds": 60,
          },

          // EdgeVPN: LinkManager.Stun / LinkManager.Turn. Candidates for ICE. Names are looked up at
          // start and again while the node runs (a failed one retried, a changed address followed);
          // each new link uses them as resolved then. Of the TURN servers the first listed that
          // resolves is used; the later ones are fallbacks.
          "Ice": {
            "Stun": [ "stun.example.org:3478" ],
            "Turn": [
              { "Address": "turn.example.org:3478", "User": "edgevpn", "Password": "change-me-too" },
            ],
            // The largest link datagram (before TURN framing). The default fits a 1500-byte underlay
            // (IPv4 + UDP + TURN ChannelData); Tap.Mtu + 14 (Ethernet) + 25 (frame record) must fit in it.
            "DatagramBytesMax": 1460,
          },

          // EdgeVPN: LinkManager.Overlays.TapName and BridgeController. Leave the section out for
          // a node without a tap device (signaling only).
          "Tap": { "Name": "edgevpn0", "Address": "10.10.0.1/24", "Mtu": 1410 },

          // EdgeVPN: Topology. Symphony ring: successors plus harmonic long links.
          "Topology": {
            "SuccessorsMin": 2,
            // "LongLinksMax": 4,            // default: floor(log2 n), as in EdgeVPN
            "Sampler": "harmonic",           // or "edgevpn-log10" (EdgeVPN's own draw)
            "Membership": "presence",        // "presence" (the XMPP roster) or "lookup" (Symphony lookups)
            "LongLinkDrawTriesMax": 8,
            "RedrawRatio": 2.0,
            "LongLinkDelaySeconds": 10,
            "RedrawHoldoffSeconds": 30,
            "IncomingMax": 128,
            "OnDemandThresholdBytes": 1000000,
            "OnDemandWindowSeconds": 10,
            "OnDemandIdleTimeoutSeconds": 60,
            "OnDemandLinksMax": 8,
            "TrafficPeersMax": 32,
            "TickIntervalSeconds": 5,
          },

          // Link lifecycle (EdgeVPN: LinkManager timers).
          "Links": {
            "SetupTimeoutSeconds": 30,
            "KeepAliveIntervalSeconds": 15,
            "DeadLinkTimeoutSeconds": 45,
            "ProtectionWindowSeconds": 30,
            "BackoffBaseSeconds": 5,
            "BackoffMaxSeconds": 300,
            "BackoffJitter": 0.5,
            "LinksMax": 256,
          },

          // Flow learning (EdgeVPN: BridgeController's switch).
          "Flows": {
            "UnknownUnicast": "drop",        // or "flood"
            "FlowIdleTimeoutSeconds": 60,
            "MacAgeMaxSeconds": 300,
            "FlowsMax": 4096,
            "MacsMax": 4096,
          },

          // Used only with "Membership": "lookup".
          "Membership": {
            "SuccessorListLength": 4,
            "LookupTimeoutSeconds": 5,
            "StabilizeIntervalMinSeconds": 1,
            "StabilizeIntervalMaxSeconds": 30,
            "PredecessorTimeoutSeconds": 100,
          },

          // `edgevpn status` talks to this Unix socket. Default: $XDG_RUNTIME_DIR/edgevpn/OVERLAY.sock,
          // or /run/edgevpn/OVERLAY.sock when XDG_RUNTIME_DIR is not set.
          "Control": {
            // "Socket": "/run/edgevpn/overlay1.sock",
          },

          // Every (time, input) of the node's machines, for replay in a test. Off when Path is absent.
          "Trace": {
            // "Path": "/var/log/edgevpn/node.trace",
            "BytesMax": 268435456,
          },

          "Log": { "Level": "info" },        // "debug", "info", "warning" or "error"
        }

        """;
}
