using Multikernel.Model.Checking;

namespace Multikernel.Model.Balloon;

/// <summary>
/// What the explorer covers: how many guest pages, the host's first target, and how often the
/// host may answer RESET, refuse a page, and change its target. Batching applies to designs that
/// batch. Two environments are outside the protocol on a real machine and are off by default:
/// high-pfn (page 0's PFN is ≥ 2^32, which with 4 KiB pages needs ≥ 16 TiB of guest physical
/// memory) and huge-target (the host answers GET_TARGET with more pages than the limit the guest
/// sent, which a protocol-v2 host does not do: the limit is the guest's totalram, checked to fit
/// 32 bits before it is sent).
/// </summary>
public sealed record BalloonBounds : IBounds
{
    public const int MaxPages = 4, MaxBudget = 2;
    /// <summary>A target index standing for 2^32 + 1 pages: GET_TARGET's answer does not fit 32 bits.</summary>
    public const byte TargetHuge = 0xff;
    public const ulong HugeTargetValue = (1UL << 32) + 1;

    public int Pages { get; init; } = 3;
    public int Target { get; init; } = 2;
    public int Resets { get; init; } = 1;
    public int Refusals { get; init; } = 1;
    public int Changes { get; init; } = 1;
    /// <summary>Page 0's PFN is ≥ 2^32: a guest with ≥ 16 TiB of physical memory (off by default).</summary>
    public bool HighPfn { get; init; }
    /// <summary>A hostile host: GET_TARGET may answer 2^32 + 1, above any 32-bit limit the guest sent (off by default).</summary>
    public bool HugeTarget { get; init; }
    public bool Batch { get; init; } = true;

    public static BalloonBounds Default { get; } = new();

    /// <summary>Page i's PFN: 0x100 + i; page 0, with high-pfn, is 2^32 pages (16 TiB) above page 2 (so a PFN cut to 32 bits names page 2).</summary>
    public ulong Pfn(int page) => HighPfn && page == 0 ? (1UL << 32) + 0x100 + (ulong)Math.Min(2, Pages - 1) : 0x100 + (ulong)page;

    /// <summary>The guest page a PFN on the wire names, as a bit of the page set (<see cref="BalloonState.Alien"/> for none).</summary>
    public byte PageOf(ulong wirePfn)
    {
        for (int p = 0; p < Pages; p++) if (Pfn(p) == wirePfn) return (byte)(1 << p);
        return BalloonState.Alien;
    }

    public static ulong TargetValue(byte index) => index == TargetHuge ? HugeTargetValue : index;

    public static readonly IReadOnlyList<BoundOption> Options =
    [
        new("pages", $"guest pages, 2..{MaxPages}"),
        new("target", "the host's first target, in pages"),
        new("resets", $"RESETs the host may answer, 0..{MaxBudget}"),
        new("refusals", $"pages the host may refuse, 0..{MaxBudget}"),
        new("changes", $"times the host may change its target, 0..{MaxBudget}"),
        new("high-pfn", "page 0's PFN is ≥ 2^32: a guest with ≥ 16 TiB of physical memory (off by default)", "--high-pfn", "yes"),
        new("huge-target", "a hostile host: GET_TARGET answers more than the 32-bit limit the guest sent (off by default)", "--huge-target", "yes"),
        new("batch", "designs that can batch LOCK / UNLOCK do", "--no-batch", "no"),
    ];

    public static BalloonBounds Parse(string text)
    {
        var b = new BalloonBounds();
        foreach (var (key, value) in BoundsText.Pairs(text))
        {
            b = key switch
            {
                "pages" => b with { Pages = BoundsText.Int(key, value, 2, MaxPages) },
                "target" => b with { Target = BoundsText.Int(key, value, 0, MaxPages) },
                "resets" => b with { Resets = BoundsText.Int(key, value, 0, MaxBudget) },
                "refusals" => b with { Refusals = BoundsText.Int(key, value, 0, MaxBudget) },
                "changes" => b with { Changes = BoundsText.Int(key, value, 0, MaxBudget) },
                "high-pfn" => b with { HighPfn = BoundsText.YesNo(key, value) },
                "huge-target" => b with { HugeTarget = BoundsText.YesNo(key, value) },
                "batch" => b with { Batch = BoundsText.YesNo(key, value) },
                _ => throw BoundsText.Unknown(key, Options),
            };
        }
        if (b.Validate() is { } problem) throw new BoundsException(problem);
        return b;
    }

    public string? Validate() =>
        Pages is < 2 or > MaxPages ? $"pages must be 2..{MaxPages} (got {Pages})" :
        Target < 0 || Target > Pages ? $"target must be 0..pages ({Pages}) (got {Target})" :
        Resets is < 0 or > MaxBudget || Refusals is < 0 or > MaxBudget || Changes is < 0 or > MaxBudget ? $"resets, refusals and changes must be 0..{MaxBudget}" :
        null;

    private static string YesNo(bool b) => b ? "yes" : "no";

    public override string ToString() =>
        $"pages={Pages} target={Target} resets={Resets} refusals={Refusals} changes={Changes} high-pfn={YesNo(HighPfn)} huge-target={YesNo(HugeTarget)} batch={YesNo(Batch)}";
}
