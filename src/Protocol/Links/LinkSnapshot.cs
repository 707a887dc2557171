// A read-only copy of one link record, for the topology, checkers and traces. Taking one does not
// change the machine; ConnectedAt is null until the transport came up.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ring;

namespace EdgeVpn.Protocol.Links;

public sealed record LinkSnapshot(
    LinkId Link,
    NodeId Peer,
    LinkKind Kind,
    LinkState State,
    bool Initiator,
    Instant CreatedAt,
    Instant? ConnectedAt);
