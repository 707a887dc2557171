// How a run's parameter echo shows its NAT mix: natMix as the share of nodes behind each preset
// (the weights normalised, rounded to 3 decimals: "none=5,symmetric=1" is natMix=none=0.833,
// symmetric=0.167), since weights read as shares mislead; and natMixWeights with the weights as
// given, only when the printed shares, typed back as --nat-mix, would not draw the same presets.
// Used by flood/converge/route (SimParameters) and vopr (VoprScenario) alike.
using System.Globalization;

namespace EdgeVpn.Sim.Net;

public static class NatMixEcho
{
    private const int Decimals = 3;

    public static IEnumerable<(string Name, string Value)> Describe(NatMix mix)
    {
        string shares = Shares(mix);
        yield return ("natMix", shares);
        // Parse cannot fail here: the names are presets and the largest share is at least 1/5 > 0.
        if (!NatMix.Parse(shares).Value.DrawsLike(mix)) yield return ("natMixWeights", mix.ToString());
    }

    public static string Shares(NatMix mix)
    {
        // Normalised by the largest weight first, as NatMix does, so that weights near
        // double.MaxValue do not sum to infinity.
        double scale = mix.Entries.Max(e => e.Weight), total = mix.Entries.Sum(e => e.Weight / scale);
        return string.Join(",", mix.Entries.Select(e =>
            string.Create(CultureInfo.InvariantCulture, $"{e.Name}={Math.Round(e.Weight / scale / total, Decimals)}")));
    }
}
