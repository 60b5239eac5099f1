using Multikernel.Model.Uffd;

namespace Multikernel.Cli.Commands;

/// <summary>audit and explore over the userfaultfd specification.</summary>
internal static class UffdCommands
{
    public static readonly string[] Valued = ["--contexts", "--max-states", "--max-depth", "--time-limit", "--json", "--dot"];
    public static readonly string[] Flags = ["--all-layouts", "--safety-only"];

    /// <summary>uffd-v5, uffd-ref-…, or uffd/NAME for any uffd design (uffd/reference). A bare "reference" is the IPI one.</summary>
    public static bool Names(string? name) =>
        name != null && (name.StartsWith("uffd/", StringComparison.Ordinal) ||
                         (name.StartsWith("uffd-", StringComparison.OrdinalIgnoreCase) && UffdDesigns.Find(name) != null));

    public static UffdDesign Design(string? name, string command)
    {
        string all = string.Join(", ", UffdDesigns.All.Select(d => d.Name));
        if (string.IsNullOrEmpty(name)) throw new UsageException($"{command}: which design? one of: {all}");
        string bare = name.StartsWith("uffd/", StringComparison.Ordinal) ? name[5..] : name;
        return UffdDesigns.Find(bare) ?? throw new UsageException($"{command}: unknown uffd design '{name}'; one of: {all}");
    }

    public static UffdBounds Bounds(Args a) => new()
    {
        Contexts = a.Int("--contexts", UffdBounds.Default.Contexts, 1, UffdBounds.MaxContexts),
        Layouts = a.Flag("--all-layouts") ? UffdBounds.AllPairs : UffdBounds.Default.Layouts,
    };

    /// <summary>audit uffd-v5: every uffd invariant, each violation with its shortest trace.</summary>
    public static int Audit(IEnumerable<string> argv, TextWriter o)
    {
        var a = new Args("audit", argv, Valued, Flags);
        a.NoMorePositionals(1);
        var design = Design(a.Positionals.FirstOrDefault(), "audit");
        var bounds = Bounds(a);
        return Report.Audit(a, new UffdSpec(design, bounds), design.Name, design.Summary, bounds.ToString(), o);
    }

    /// <summary>explore uffd --design D: statistics and the verdict.</summary>
    public static int Explore(IEnumerable<string> argv, TextWriter o)
    {
        var a = new Args("explore", argv, [.. Valued, "--design"], Flags);
        a.NoMorePositionals(1);
        var design = Design(a.Value("--design") ?? "reference", "explore");
        var bounds = Bounds(a);
        return Report.Explore(a, new UffdSpec(design, bounds), design.Name, bounds.ToString(), o);
    }
}
