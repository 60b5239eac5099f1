namespace Multikernel.Model.Uffd;

/// <summary>
/// How much of the system the explorer covers: two VMAs of two pages each (one huge page
/// for hugetlbfs), the memory types of each layout explored, and how many userfaultfd contexts.
/// </summary>
public sealed record UffdBounds
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

    /// <summary>Reads what <see cref="ToString"/> writes ("contexts=1 layouts=anon+anon,…" or "layouts=all"); null with a reason if it cannot.</summary>
    public static UffdBounds? Parse(string text, out string? problem)
    {
        var b = new UffdBounds();
        problem = null;
        foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=');
            if (kv.Length != 2) { problem = $"'{part}' is not name=value"; return null; }
            if (kv[0] == "contexts" && int.TryParse(kv[1], out int n)) b = b with { Contexts = n };
            else if (kv[0] == "layouts" && kv[1] == "all") b = b with { Layouts = AllPairs };
            else if (kv[0] == "layouts")
            {
                var layouts = new List<(MemType, MemType)>();
                foreach (var pair in kv[1].Split(','))
                {
                    var ab = pair.Split('+');
                    var types = ab.Select(x => MemTypes.All.FirstOrDefault(t => MemTypes.Name(t) == x)).ToArray();
                    if (ab.Length != 2 || types.Contains(MemType.None)) { problem = $"'{pair}' is not a layout (type+type)"; return null; }
                    layouts.Add((types[0], types[1]));
                }
                b = b with { Layouts = layouts };
            }
            else { problem = $"unknown bound '{part}'"; return null; }
        }
        problem = b.Validate();
        return problem == null ? b : null;
    }

    public string? Validate() =>
        Contexts is < 1 or > MaxContexts ? $"contexts must be 1..{MaxContexts}" :
        Layouts.Count == 0 || Layouts.Any(l => l.A == MemType.None || l.B == MemType.None) ? "layouts: pairs of anon, shmem-shared, shmem-private, hugetlb-shared, hugetlb-private" :
        null;

    public override string ToString() => $"contexts={Contexts} layouts={(Layouts.SequenceEqual(AllPairs) ? "all" : string.Join(",", Layouts.Select(l => $"{MemTypes.Name(l.A)}+{MemTypes.Name(l.B)}")))}";
}
