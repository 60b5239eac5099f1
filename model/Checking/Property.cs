namespace Multikernel.Model.Checking;

public enum PropertyKind
{
    /// <summary>A safety invariant, checked on every reachable state.</summary>
    Always,
    /// <summary>An obligation that must be discharged: no reachable terminal state or cycle keeps it pending.</summary>
    Eventually,
    /// <summary>
    /// Reachability: some reachable state satisfies it. It shows the other properties are
    /// not vacuous (a message is delivered, a fault reaches handle_userfault), so an edit
    /// that silently disables a behaviour cannot pass: "never reached" is a failure.
    /// </summary>
    Sometimes,
}

/// <summary>
/// A named property of a specification: what it says in words and the seed line
/// it protects, so that a counterexample can say why it matters.
/// </summary>
public sealed record Property(string Name, PropertyKind Kind, string Statement, string Source);

/// <summary>
/// A mechanism's property catalogue, declared once: one row per value of <typeparamref name="TId"/>,
/// whose numeric value is the property's bit in the spec's masks. Replaces a parallel
/// enum, name switch, statement switch and source switch that had to be kept in step.
/// </summary>
public sealed class PropertyTable<TId> where TId : struct, Enum
{
    private readonly (string Name, PropertyKind Kind, string Statement, string Source)[] _rows;

    public PropertyTable(params (TId Id, string Name, PropertyKind Kind, string Statement, string Source)[] rows)
    {
        var ids = Enum.GetValues<TId>();
        _rows = new (string, PropertyKind, string, string)[ids.Length];
        if (ids.Length > 64) throw new ArgumentException($"{typeof(TId).Name}: at most 64 properties");
        var seen = new bool[ids.Length];
        foreach (var r in rows)
        {
            int i = Convert.ToInt32(r.Id, System.Globalization.CultureInfo.InvariantCulture);
            if ((uint)i >= (uint)ids.Length || seen[i]) throw new ArgumentException($"{typeof(TId).Name}: row {r.Id} is out of order or repeated");
            seen[i] = true;
            _rows[i] = (r.Name, r.Kind, r.Statement, r.Source);
        }
        if (Array.IndexOf(seen, false) is int missing and >= 0) throw new ArgumentException($"{typeof(TId).Name}: no row for {ids[missing]}");
    }

    public IReadOnlyList<TId> All => Enum.GetValues<TId>();
    public string Name(TId id) => _rows[Index(id)].Name;
    public PropertyKind Kind(TId id) => _rows[Index(id)].Kind;
    public string Statement(TId id) => _rows[Index(id)].Statement;
    public static int Index(TId id) => Convert.ToInt32(id, System.Globalization.CultureInfo.InvariantCulture);
    public static ulong Bit(TId id) => 1UL << Index(id);

    /// <summary>The properties in bit order; <paramref name="cites"/> may replace the default source (a design citing its own seed line).</summary>
    public Property[] Properties(Func<TId, string?>? cites = null)
    {
        var ids = Enum.GetValues<TId>();
        var props = new Property[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            var r = _rows[i];
            props[i] = new Property(r.Name, r.Kind, r.Statement, cites?.Invoke(ids[i]) ?? r.Source);
        }
        return props;
    }
}
