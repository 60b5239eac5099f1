using Multikernel.Model.Ipi.Designs;
using M = Multikernel.Model.Ipi.Designs.RingDesign.Mutation;

namespace Multikernel.Model.Ipi;

/// <summary>The designs that ship with the project, by name.</summary>
public static class IpiDesigns
{
    public static readonly IReadOnlyList<IpiDesign> Seeds = [new IpiV1(), new IpiV2()];
    public static readonly IpiDesign Reference = new RingDesign();

    /// <summary>The reference with one safeguard removed each; the tests show each one caught.</summary>
    public static readonly IReadOnlyList<IpiDesign> Mutants =
    [
        new RingDesign("ref-no-full-check", M.NoFullCheck),
        new RingDesign("ref-no-mask", M.NoMask),
        new RingDesign("ref-no-sync", M.NoSync),
        new RingDesign("ref-no-clear", M.NoClear),
        new RingDesign("ref-early-publish", M.EarlyPublish),
        new RingDesign("ref-no-rcu", M.NoRcu),
    ];

    public static IEnumerable<IpiDesign> All => Seeds.Append(Reference).Concat(Mutants);

    public static IpiDesign? Find(string name) =>
        All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));
}
