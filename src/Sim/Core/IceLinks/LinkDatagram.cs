// One UDP datagram of the packet-level link model in flight on the virtual fabric: the fabric
// host that receives it (a node's host or a server), the local endpoint it arrives at, the
// source it appears to come from (after NAT translation) and its bytes. Routing (mappings,
// filtering) was decided when it was sent; its latency is the time between the two events.
// Origin is the node whose sending caused it (a server's answers and relayed datagrams keep the
// origin of what they answer or relay), so that a partition between two nodes also cuts the
// path between them through a TURN relay. CarriesFrame marks a datagram that holds a link frame
// (or relays one): the simulation counts it among the frames in flight until it arrives or is lost.
using EdgeVpn.Sim.Net;

namespace EdgeVpn.Sim.IceLinks;

internal sealed record LinkDatagram(int Host, Ip4Endpoint Local, Ip4Endpoint Remote, byte[] Bytes, int Origin, bool CarriesFrame);
