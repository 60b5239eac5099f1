namespace Multikernel.Model.Checking;

/// <summary>What the API models (the specification's design run one call at a time) share.</summary>
public static class ApiModels
{
    /// <summary>
    /// An API model runs the design's own steps, so it takes the reference design or one of its
    /// Defect mutants (exactly <paramref name="reference"/>'s type): a subclass overrides steps the
    /// model's choices around them (which pages, which slot) were not written for.
    /// </summary>
    public static void RequireReferenceOrMutant(IDesign design, Type reference, string mechanism)
    {
        if (design.GetType() != reference)
            throw new ArgumentException($"{mechanism}/{design.Name}: the API model runs the reference design or one of its Defect mutants (a {reference.Name}), not a {design.GetType().Name}", nameof(design));
    }
}
