// The share of simulated nodes behind each NAT preset, e.g. "none=0.3,port-restricted=0.5,symmetric=0.2".
// Weights are relative (they need not sum to 1); each node draws its preset from the simulation's
// "nat" random stream. Parse never throws: a bad mix is a one-line error naming the entry.
using System.Globalization;
using EdgeVpn.Protocol.Core;

namespace EdgeVpn.Sim.Net;

public sealed record NatMixEntry(string Name, NatBehaviour Behaviour, double Weight);

public sealed class NatMix
{
    public const int TextLengthMax = 1024;

    public static readonly NatMix AllPublic = new([new NatMixEntry("none", NatPresets.None, 1)]);

    public IReadOnlyList<NatMixEntry> Entries { get; }
    private readonly double[] _cumulative;

    private NatMix(IReadOnlyList<NatMixEntry> entries)
    {
        Entries = entries;
        _cumulative = new double[entries.Count];
        // Weights whose sum overflows (near double.MaxValue) are scaled by the largest first: the
        // infinite total made every node draw the last preset. (Only then: other mixes keep the
        // arithmetic, and so the draws, they always had.)
        double scale = 1, total = entries.Sum(e => e.Weight), run = 0;
        if (double.IsInfinity(total))
        {
            scale = entries.Max(e => e.Weight);
            total = entries.Sum(e => e.Weight / scale);
        }
        for (int i = 0; i < entries.Count; i++) { run += entries[i].Weight / scale / total; _cumulative[i] = run; }
        _cumulative[^1] = 1;
    }

    public bool IsAllPublic => Entries.All(e => e.Behaviour.Public);

    /// <summary>Index into Entries of a node's preset.</summary>
    public int Draw(DeterministicRandom random)
    {
        double u = random.NextDouble();
        for (int i = 0; i < _cumulative.Length; i++) if (u < _cumulative[i]) return i;
        return _cumulative.Length - 1;
    }

    /// <summary>Whether every node draws the same preset under both mixes, whatever the random stream:
    /// the same presets in the same order at the same cumulative bounds (Draw reads nothing else).</summary>
    public bool DrawsLike(NatMix other) =>
        Entries.Select(e => e.Name).SequenceEqual(other.Entries.Select(e => e.Name)) && _cumulative.SequenceEqual(other._cumulative);

    public static ParseResult<NatMix> Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return ParseResult<NatMix>.Fail("the NAT mix is empty (e.g. none=0.3,port-restricted=0.5,symmetric=0.2)");
        if (text.Length > TextLengthMax) return ParseResult<NatMix>.Fail($"the NAT mix is longer than {TextLengthMax} characters");
        var entries = new List<NatMixEntry>();
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var parts = raw.Split('=', StringSplitOptions.TrimEntries);
            if (parts.Length != 2) return ParseResult<NatMix>.Fail($"'{raw}' is not preset=weight");
            var preset = NatPresets.Parse(parts[0]);
            if (!preset.Ok) return ParseResult<NatMix>.Fail(preset.Error!);
            if (!double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double w) || !(w >= 0) || double.IsInfinity(w))
                return ParseResult<NatMix>.Fail($"'{raw}': the weight must be a number >= 0");
            // Preset names are read without regard to case, so duplicates are found the same way.
            string name = parts[0].ToLowerInvariant();
            if (entries.Any(e => e.Name == name)) return ParseResult<NatMix>.Fail($"'{parts[0]}' appears twice");
            entries.Add(new NatMixEntry(name, preset.Value, w));
        }
        if (entries.All(e => e.Weight == 0)) return ParseResult<NatMix>.Fail("the weights of the NAT mix add up to 0");
        return new NatMix(entries);
    }

    /// <summary>The weights as given (names lower-cased): the text that parses back to this very mix.</summary>
    public override string ToString() => string.Join(",", Entries.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Name}={e.Weight}")));
}
