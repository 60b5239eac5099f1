using Multikernel.Model.Checking;
using Multikernel.Model.Ipi.Designs;
using D = Multikernel.Model.Ipi.Designs.RingDesign.Defect;

namespace Multikernel.Model.Ipi;

/// <summary>The designs that ship with the project, by name.</summary>
public static class IpiDesigns
{
    public static readonly IReadOnlyList<IpiDesign> Seeds = [new IpiV1(), new IpiV2()];
    public static readonly IpiDesign Reference = new RingDesign();

    /// <summary>The reference with one safeguard removed each; the tests show each one caught.</summary>
    public static readonly IReadOnlyList<IpiDesign> Mutants =
    [
        new RingDesign("ref-no-full-check", D.NoFullCheck),
        new RingDesign("ref-no-mask", D.NoMask),
        new RingDesign("ref-no-sync", D.NoSync),
        new RingDesign("ref-no-clear", D.NoClear),
        new RingDesign("ref-early-publish", D.EarlyPublish),
        new RingDesign("ref-no-rcu", D.NoRcu),
        .. IpiOrdering.Mutants.Select(o => new RingDesign(o.Name, ordering: o)),
    ];

    /// <summary>The mutants whose defect is an ordering: each holds under sc and tso and fails under lkmm.</summary>
    public static IEnumerable<RingDesign> OrderingMutants => Mutants.OfType<RingDesign>().Where(d => d.Ordering != IpiOrdering.Reference);

    public static IEnumerable<IpiDesign> All => Seeds.Append(Reference).Concat(Mutants);

    public static IpiDesign? Find(string name) =>
        All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>The IPI mechanism in the registry: its designs, bounds and specification.</summary>
public sealed class IpiMechanism : Mechanism<IpiDesign, IpiBounds>
{
    public static readonly IpiMechanism Instance = new();

    public override string Name => "ipi";
    public override string Summary => "multikernel IPI: instances, mailboxes, handler lists (seeds 000, 001)";
    public override DesignCatalogue Designs { get; } = new(IpiDesigns.Seeds, IpiDesigns.Reference, IpiDesigns.Mutants, FitsNoBounds);

    /// <summary>
    /// Why a design's variables fit no bounds (not even one sender), or null. A design whose lists throw is
    /// let in: exploring it reports the throw as one line, as any other step or getter that throws.
    /// </summary>
    private static string? FitsNoBounds(IDesign d)
    {
        try { return IpiSpec.VariablesOverflow((IpiDesign)d, senders: 1) is { } why ? why + ", so it fits no bounds" : null; }
        catch (Exception e) when (e is not OutOfMemoryException) { return null; }
    }
    public override IReadOnlyList<BoundOption> BoundOptions => IpiBounds.Options;
    public override IBounds ParseBounds(string text) => IpiBounds.Parse(text);
    protected override ISpecHandle Spec(IpiDesign design, IpiBounds bounds) => IpiSpecs.For(design, bounds);
}
