namespace Multikernel.Model.Checking;

/// <summary>A design of a mechanism: the seed as posted, the project's reference, a mutant, or one of yours.</summary>
public interface IDesign
{
    /// <summary>Short stable name, unique within its mechanism: ipi-v2, reference, ref-no-mask, …</summary>
    string Name { get; }
    /// <summary>One line: what the design is and where it comes from.</summary>
    string Summary { get; }
    /// <summary>The defects this design has as posted, each tied to the property its audit violates (the seeds declare them; the reference and mutants none).</summary>
    IReadOnlyList<Finding> Findings => [];
}

/// <summary>Where a design comes from.</summary>
public enum DesignOrigin
{
    /// <summary>A seed's code as posted to the list: its audit must reproduce the seed's defects.</summary>
    Seed,
    /// <summary>The project's fixed design, which the implementation follows: it must hold every invariant.</summary>
    Reference,
    /// <summary>The reference with one deliberate defect: it shows a check able to fail.</summary>
    Mutant,
    /// <summary>A design loaded from a user's assembly (audit --load).</summary>
    User,
}

/// <summary>A mechanism's designs in one shape: seeds, the reference, mutants (and any a user loads).</summary>
public sealed class DesignCatalogue
{
    private readonly List<(IDesign Design, DesignOrigin Origin)> _all = new();

    /// <summary>Why the mechanism cannot explore a design at any bounds (null: it can); such a design is refused when added.</summary>
    private readonly Func<IDesign, string?>? _unusable;

    /// <param name="unusable">Why the mechanism cannot explore a design at any bounds, or null when it can.</param>
    public DesignCatalogue(IEnumerable<IDesign> seeds, IDesign reference, IEnumerable<IDesign> mutants, Func<IDesign, string?>? unusable = null)
    {
        _unusable = unusable;
        foreach (var d in seeds) Add(d, DesignOrigin.Seed);
        Reference = reference;
        Add(reference, DesignOrigin.Reference);
        foreach (var d in mutants) Add(d, DesignOrigin.Mutant);
    }

    public IDesign Reference { get; }
    public IReadOnlyList<IDesign> All { get { lock (_all) return _all.Select(x => x.Design).ToArray(); } }
    public IReadOnlyList<IDesign> Of(DesignOrigin origin) { lock (_all) return _all.Where(x => x.Origin == origin).Select(x => x.Design).ToArray(); }
    public DesignOrigin OriginOf(IDesign d) { lock (_all) return _all.First(x => ReferenceEquals(x.Design, d)).Origin; }

    public IDesign? Find(string name)
    {
        lock (_all) return _all.FirstOrDefault(x => string.Equals(x.Design.Name, name, StringComparison.OrdinalIgnoreCase)).Design;
    }

    /// <summary>Adds a design; its name must be new in this catalogue (designs loaded from users' assemblies too) and the mechanism able to explore it.</summary>
    public void Add(IDesign design, DesignOrigin origin)
    {
        if (string.IsNullOrWhiteSpace(design.Name) || design.Name.Contains('/', StringComparison.Ordinal) || design.Name.Any(char.IsWhiteSpace))
            throw new ArgumentException($"design name '{design.Name}' must be non-empty, without '/' or spaces");
        if (_unusable?.Invoke(design) is { } why) throw new ArgumentException(why);
        lock (_all)
        {
            if (Find(design.Name) is not null) throw new ArgumentException($"a design named '{design.Name}' already exists");
            _all.Add((design, origin));
        }
    }
}
