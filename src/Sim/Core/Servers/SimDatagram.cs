// One UDP datagram on the simulator's virtual network: source and destination as the network
// sees them at the point where it is handed over, and the payload bytes.
using System.Net;

namespace EdgeVpn.Sim.Servers;

public readonly record struct SimDatagram(IPEndPoint From, IPEndPoint To, byte[] Bytes);
