using Multikernel.Model.Checking;

namespace Multikernel.Model.Restore;

/// <summary>
/// A design of mm restore from a checkpoint image: the choices the seed (003) and the project's
/// reference make differently, which <see cref="RestoreSpec"/> explores with the image as the adversary.
/// </summary>
public sealed record RestoreDesign(string Name, string Summary, bool ValidatesBeforeReplacing, bool ChecksPagesInVmas,
    bool VmFlagsNamespace, bool ReportsReadErrors) : IDesign
{
    /// <summary>The checks of the image's fields the design makes (<see cref="RestoreValidation"/>), which proofs/Restore encodes.</summary>
    public RestoreCheck Checks { get; init; }

    /// <summary>vm_flags bits the design does not carry into mmap (a mutant's defect; none in the catalogue).</summary>
    public ulong Untranslated { get; init; }

    /// <summary>The defects this design has as posted, each tied to the property its audit violates.</summary>
    public IReadOnlyList<Finding> Findings { get; init; } = [];
}

public static class RestoreDesigns
{
    /// <summary>The seed as posted (003, v6): nukes the mm first, reads pages anywhere, tests VM_SHARED on MAP_* bits, swallows read errors.</summary>
    public static readonly RestoreDesign V6 = new("restore-v6",
        "in-kernel checkpoint/restart v6 as posted (003): cr_read_mm() nukes the mm, then reads and maps",
        ValidatesBeforeReplacing: false, ChecksPagesInVmas: false, VmFlagsNamespace: false, ReportsReadErrors: false) { Checks = RestoreCheck.SeedV6 };

    /// <summary>The reference, which impl/Restore implements: atomic, validated, CRIU's checks.</summary>
    public static readonly RestoreDesign Reference = new("reference",
        "atomic, validated restore: the whole image checked into a staging mm, pages only inside private VMAs of the image",
        ValidatesBeforeReplacing: true, ChecksPagesInVmas: true, VmFlagsNamespace: true, ReportsReadErrors: true) { Checks = RestoreCheck.Reference };
}

/// <summary>The restore mechanism in the registry: designs, the specification (no bounds: the image length is bounded by the spec), implementation checks.</summary>
public sealed class RestoreMechanism : Mechanism
{
    public static readonly RestoreMechanism Instance = new();

    public override string Name => "restore";
    public override string Summary => "mm restore from a checkpoint image (seed 003): the image is the adversary";
    public override DesignCatalogue Designs { get; } = new([RestoreDesigns.V6], RestoreDesigns.Reference, []);
    public override bool Accepts(IDesign design) => design is RestoreDesign;
    public override bool Explorable => true;
    public override IBounds ParseBounds(string text) =>
        string.IsNullOrWhiteSpace(text) ? RestoreBounds.Instance : throw new BoundsException($"restore takes no bounds (images of up to {RestoreSpec.MaxRecords} records are explored)");
    public override ISpecHandle Specification(IDesign design, IBounds bounds) => new RestoreSpec((RestoreDesign)design);
}

/// <summary>Restore's exploration has no knobs: images of up to <see cref="RestoreSpec.MaxRecords"/> records.</summary>
public sealed class RestoreBounds : IBounds
{
    public static readonly RestoreBounds Instance = new();
    public override string ToString() => "";
}
