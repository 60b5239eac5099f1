using Multikernel.Model.Checking;

namespace Multikernel.Model.Uffd;

/// <summary>
/// How much of the system the explorer covers: two VMAs of two pages each (one huge page
/// for hugetlbfs), the memory types of each layout explored, and how many userfaultfd contexts.
/// </summary>
public sealed record UffdBounds : IBounds
{
    public const int Pages = 4, MaxContexts = 2;

    /// <summary>
    /// The layouts (VMA A = pages 0-1, VMA B = pages 2-3) the exploration starts from: by
    /// default each memory type on its own, and two mixed ones for ranges that span both.
    /// </summary>
    public IReadOnlyList<(MemType A, MemType B)> Layouts { get; init; } =
    [
        (MemType.Anon, MemType.Anon), (MemType.ShmemShared, MemType.ShmemShared), (MemType.ShmemPrivate, MemType.ShmemPrivate),
        (MemType.HugetlbShared, MemType.HugetlbShared), (MemType.HugetlbPrivate, MemType.HugetlbPrivate),
        (MemType.Anon, MemType.HugetlbShared), (MemType.ShmemShared, MemType.HugetlbPrivate),
    ];

    /// <summary>Every pair of memory types (25 layouts): the thorough, slow setting.</summary>
    public static IReadOnlyList<(MemType, MemType)> AllPairs =>
        [.. MemTypes.All.SelectMany(a => MemTypes.All.Select(b => (a, b)))];

    public int Contexts { get; init; } = 1;

    public static readonly UffdBounds Default = new();

    public static readonly IReadOnlyList<BoundOption> Options =
    [
        new("contexts", $"userfaultfd contexts, 1..{MaxContexts}"),
        new("layouts", "pairs of memory types the two VMAs start as (anon+anon,…), or all", "--all-layouts", "all"),
    ];

    /// <summary>Reads what <see cref="ToString"/> writes ("contexts=1 layouts=anon+anon,…" or "layouts=all"); throws <see cref="BoundsException"/>.</summary>
    public static UffdBounds Parse(string text)
    {
        var b = new UffdBounds();
        foreach (var (key, value) in BoundsText.Pairs(text))
        {
            if (key == "contexts") b = b with { Contexts = BoundsText.Int(key, value, 1, MaxContexts) };
            else if (key == "layouts" && value == "all") b = b with { Layouts = AllPairs };
            else if (key == "layouts" && value == "default") b = b with { Layouts = Default.Layouts };
            else if (key == "layouts")
            {
                var layouts = new List<(MemType, MemType)>();
                foreach (var pair in value.Split(','))
                {
                    var ab = pair.Split('+');
                    var types = ab.Select(x => MemTypes.All.FirstOrDefault(t => MemTypes.Name(t) == x)).ToArray();
                    if (ab.Length != 2 || types.Contains(MemType.None)) throw new BoundsException($"'{BoundsText.Clip(pair)}' is not a layout (type+type)");
                    layouts.Add((types[0], types[1]));
                }
                b = b with { Layouts = layouts };
            }
            else throw BoundsText.Unknown(key, Options);
        }
        if (b.Validate() is { } problem) throw new BoundsException(problem);
        return b;
    }

    public string? Validate() =>
        Contexts is < 1 or > MaxContexts ? $"contexts must be 1..{MaxContexts}" :
        Layouts.Count == 0 || Layouts.Any(l => l.A == MemType.None || l.B == MemType.None) ? "layouts: pairs of anon, shmem-shared, shmem-private, hugetlb-shared, hugetlb-private" :
        null;

    public override string ToString() => $"contexts={Contexts} layouts={(Layouts.SequenceEqual(AllPairs) ? "all" : Layouts.SequenceEqual(Default.Layouts) ? "default" : string.Join(",", Layouts.Select(l => $"{MemTypes.Name(l.A)}+{MemTypes.Name(l.B)}")))}";
}
