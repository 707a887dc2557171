// edgevpn-bench records [--frame-bytes N] [--frames N] [--rounds N] [--json]
//   frame protection throughput, BouncyCastle record layer vs AesGcm records (see RecordBench)
// edgevpn-bench link [--frame-bytes N] [--frames N] [--json]
//   frames through two DtlsLinks over an in-memory pipe (see LinkBench)
// Exit 2 on bad arguments.
using System.Globalization;
using System.Text.Json;
using EdgeVpn.Bench;

int frameBytes = 1400, frames = 100_000, rounds = 5;
bool json = false;
if (args.Length == 0 || args[0] is not ("records" or "link"))
{
    Console.Error.WriteLine("usage: edgevpn-bench records|link [--frame-bytes N] [--frames N] [--rounds N] [--json]");
    return 2;
}
for (int i = 1; i < args.Length; i++)
{
    bool Int(out int value) => int.TryParse(i + 1 < args.Length ? args[++i] : "", NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;
    bool ok = args[i] switch
    {
        "--frame-bytes" => Int(out frameBytes) && frameBytes <= 1400,
        "--frames" => Int(out frames),
        "--rounds" => Int(out rounds),
        "--json" => json = true,
        _ => false,
    };
    if (!ok)
    {
        Console.Error.WriteLine($"edgevpn-bench: bad argument near '{args[i]}' (--frame-bytes 1..1400, --frames and --rounds positive integers)");
        return 2;
    }
}

if (args[0] == "link")
{
    var link = LinkBench.Run(frameBytes, frames);
    Console.WriteLine(json ? JsonSerializer.Serialize(link)
        : $"two DtlsLinks over an in-memory pipe, {link.FrameBytes}-byte frames: {link.FramesDelivered} of {link.FramesSent} delivered in {link.Seconds:F2} s = {link.DeliveredMBps:F1} MB/s, {link.FramesDropped} dropped by the full pipe queue");
    return 0;
}

var (bc, aes) = RecordBench.Run(frameBytes, frames, rounds);
if (json)
{
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        frameBytes, frames, rounds,
        bouncyCastleMBps = Math.Round(bc.MedianMBps, 1),
        aesGcmMBps = Math.Round(aes.MedianMBps, 1),
        ratio = Math.Round(aes.MedianMBps / bc.MedianMBps, 2),
        bouncyCastleRoundsMBps = bc.RoundsMBps.Select(x => Math.Round(x, 1)),
        aesGcmRoundsMBps = aes.RoundsMBps.Select(x => Math.Round(x, 1)),
    }));
}
else
{
    Console.WriteLine($"frame protection, {frameBytes}-byte frames, {frames} per round, {rounds} rounds, seal+open on one thread");
    foreach (var r in new[] { bc, aes })
        Console.WriteLine($"  {r.Name,-32} median {r.MedianMBps,8:F1} MB/s   rounds: {string.Join(" ", r.RoundsMBps.Select(x => x.ToString("F0", CultureInfo.InvariantCulture)))}");
    Console.WriteLine($"  AesGcm / BouncyCastle = {aes.MedianMBps / bc.MedianMBps:F2}");
}
return 0;
