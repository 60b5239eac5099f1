namespace Multikernel.Model.Checking;

/// <summary>What a finding costs on a real machine, worst first.</summary>
public enum Consequence
{
    /// <summary>A BUG_ON, oops or panic: the machine stops.</summary>
    KernelBug,
    /// <summary>Memory written that must not be: a use-after-free, a page mapped where it does not belong, a wrong flag bit.</summary>
    Corruption,
    /// <summary>A message, page or error lost, or wrong data delivered as if it were right.</summary>
    LostData,
    /// <summary>Memory, a page or a reference that is never given back.</summary>
    Leak,
    /// <summary>The mechanism does not work (a probe fails, a driver never binds): nothing is lost or corrupted.</summary>
    Unusable,
    /// <summary>The design differs from the specification, but no harm on a real machine follows from it (or none is shown).</summary>
    SpecOnly,
}

/// <summary>
/// Something a finding needs beyond a real machine, a conforming peer and the callers as posted:
/// a hostile peer, ≥ 16 TiB of RAM, a caller that does not exist yet, an architecture.
/// </summary>
/// <param name="Name">Short, stable, shown in the audit's group heading: "hostile-host", "no-caller-yet".</param>
/// <param name="Meaning">One sentence: what must be true for the finding to happen.</param>
/// <param name="Bound">The yes/no exploration bound that lets the model take the steps this needs (off by default), or null when nothing in the model gates it.</param>
public sealed record Precondition(string Name, string Meaning, string? Bound = null)
{
    /// <summary>
    /// True (the default) for an environment outside the protocol (a hostile peer or host, ≥ 16 TiB, a crafted image):
    /// its bound is off by default. False for a step of the protocol itself that the posted code never takes
    /// (a caller that does not exist yet), which the model may explore by default and still names as a need.
    /// </summary>
    public bool Environment { get; init; } = true;

    /// <summary>Whether the bound this precondition needs is on in <paramref name="bounds"/> (always true without a bound).</summary>
    public bool EnabledBy(string bounds)
    {
        if (Bound is null) return true;
        foreach (var (key, value) in BoundsText.Pairs(bounds))
            if (key == Bound) return value is not ("no" or "0");
        return false;
    }
}

/// <summary>
/// One defect of a seed as posted, tied to the property its audit violates: where it is in the
/// seed, what it costs, and what it needs. A design declares its findings, so an audit says of every
/// violation whether it breaks a real machine with a conforming peer or only under a precondition,
/// and a violation nobody declared is shown as unclassified rather than guessed at.
/// </summary>
/// <param name="Property">The property the audit reports violated (its table name: "no-overwrite").</param>
/// <param name="Function">The seed and function: "000 multikernel_send_ipi_data()".</param>
/// <param name="Line">The line of the seed, quoted (whitespace may be shortened, "…" marks a cut).</param>
/// <param name="Consequence">What it costs on a real machine.</param>
/// <param name="Effect">One or two sentences: what happens, in the kernel's terms.</param>
/// <param name="Needs">What it needs beyond a real machine with a conforming peer; empty when nothing.</param>
public sealed record Finding(string Property, string Function, string Line, Consequence Consequence, string Effect, params Precondition[] Needs)
{
    /// <summary>Whether every precondition's bound is on in <paramref name="bounds"/>: the exploration could have found it.</summary>
    public bool Applies(string bounds) => Needs.All(n => n.EnabledBy(bounds));

    /// <summary>"BUG", "corruption", "lost data", "leak", "spec-only".</summary>
    public static string Show(Consequence c) => c switch
    {
        Consequence.KernelBug => "BUG",
        Consequence.Corruption => "corruption",
        Consequence.LostData => "lost data",
        Consequence.Leak => "leak",
        Consequence.Unusable => "unusable",
        _ => "spec-only",
    };

    /// <summary>The group an audit files this finding under: its preconditions' names, or "none".</summary>
    public string NeedsText => Needs.Length == 0 ? "none" : string.Join(", ", Needs.Select(n => n.Name));
}

/// <summary>Reading a design's findings for an audit.</summary>
public static class Findings
{
    /// <summary>The findings of <paramref name="design"/> that explain a violation of <paramref name="property"/> under <paramref name="bounds"/>.</summary>
    public static IReadOnlyList<Finding> Of(IDesign design, string property, string bounds) =>
        design.Findings.Where(f => f.Property == property && f.Applies(bounds)).ToArray();
}
