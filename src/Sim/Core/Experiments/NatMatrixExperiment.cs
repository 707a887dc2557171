// nat-matrix: for every ordered pair of NAT presets (A controlling, B controlled), T link setups
// at packet level (IcePairExperiment) with seeds forked from one master seed; the share that
// connects, split into direct and relayed, the median setup time (ICE and the DTLS handshake: the
// link usable at both ends) and of ICE alone, and the RFC 4787 prediction (NatPrediction) next to
// the measured majority outcome.
using EdgeVpn.Protocol.Core;
using EdgeVpn.Protocol.Ice;
using EdgeVpn.Sim.Net;

namespace EdgeVpn.Sim.Experiments;

public sealed record NatMatrixCell(
    string A, string B, int Trials, int Connected, int Direct, int Relayed, double MedianSetupMs, double MedianIceMs,
    IcePath Predicted, IcePath Measured, string? FailureSample)
{
    public bool MatchesPrediction => Predicted == Measured;
}

public static class NatMatrixExperiment
{
    public const int TrialsMax = 10_000;

    public static List<NatMatrixCell> Run(int trials, ulong seed, bool turnServer, Action<int, int>? progress = null)
    {
        if (trials < 1 || trials > TrialsMax) throw new ArgumentOutOfRangeException(nameof(trials), trials, $"must be in 1..{TrialsMax}");
        var master = new DeterministicRandom(seed);
        var names = NatPresets.Names;
        var cells = new List<NatMatrixCell>();
        int done = 0, total = names.Count * names.Count;
        foreach (var a in names)
            foreach (var b in names)
            {
                var pairSeeds = master.Fork($"{a}|{b}");
                int connected = 0, direct = 0, relayed = 0;
                var setups = new List<double>();
                var ices = new List<double>();
                string? failure = null;
                for (int t = 0; t < trials; t++)
                {
                    var r = IcePairExperiment.Run(NatPresets.ByName(a), NatPresets.ByName(b), pairSeeds.Fork((ulong)t).NextUInt64(),
                        new IcePairOptions { TurnServer = turnServer });
                    if (!r.Connected) { failure ??= r.FailReason; continue; }
                    connected++;
                    if (r.Path == IcePathKind.Relayed) relayed++; else direct++;
                    setups.Add(r.SetupMs);
                    ices.Add(r.IceMs);
                }
                var measured = 2 * connected < trials ? IcePath.Fails : relayed > direct ? IcePath.Relayed : IcePath.Direct;
                cells.Add(new NatMatrixCell(a, b, trials, connected, direct, relayed, Median(setups), Median(ices),
                    NatPrediction.Predict(a, b, turnServer), measured, failure));
                progress?.Invoke(++done, total);
            }
        return cells;
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        values.Sort();
        int mid = values.Count / 2;
        return values.Count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }
}
