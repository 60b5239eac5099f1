using Multikernel.Model.Checking;
using Multikernel.Model.Ipi.Designs;

namespace Multikernel.Cli.Ipi;

/// <summary>
/// audit --litmus FILE: a ring design's publish/consume path (payload-visible, MP), its slot-free path (S) and its
/// slot-reuse path (LB) as C litmus tests in herd7's dialect, ordered as the design orders them, so that a developer can
/// run herd7 with the kernel's model on what audit --memory-model lkmm explored. One file per test: FILE's stem + "." + test.
/// </summary>
internal static class IpiLitmusExport
{
    public const string Option = "--litmus";

    /// <summary>The files to write, checked before any work; a design without an ordering description is refused (exit 2).</summary>
    public static IReadOnlyList<(string Path, string Text)> Plan(IDesign design, string file, OutputPlan outputs)
    {
        if (design is not RingDesign ring)
            throw new UsageException($"audit: {Option}: {design.Name} declares no ring orderings to write (the seeds' plain stores and their IPI are outside LKMM); a ring design does (ipi/reference, ipi/ref-publish-once, …)");
        string stem = file.EndsWith(".litmus", StringComparison.Ordinal) ? file[..^".litmus".Length] : file;
        return [.. ring.Ordering.Exports().Select(p => (outputs.Add($"{Option} ({p.Name})", $"{stem}.{p.Name}.litmus", $"{ring.Name}.{p.Name}.litmus"), p.Litmus))];
    }
}
