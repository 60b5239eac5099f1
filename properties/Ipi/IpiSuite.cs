using FsCheck.Experimental;
using Multikernel.Impl.Ipi;
using Multikernel.Properties.Checking;

namespace Multikernel.Properties.Ipi;

/// <summary>The implementation's properties against the specification, in one list, each with its seed.</summary>
public static class IpiSuite
{
    public const int ModelRing = 4;

    /// <summary>The registry's entry point: the reference implementation's checks.</summary>
    public static IEnumerable<CheckResult> Checks(SuiteSize size, ulong seed) => Run(size, seed);

    public static IEnumerable<CheckResult> Run(SuiteSize size, ulong seed, MkIpiDefects defects = MkIpiDefects.None)
    {
        yield return FsRun.Run("model-based (FsCheck Machine)", new ApiMachine(ModelRing, defects, 40).ToProperty(), size.ModelCases, seed);
        yield return FsRun.Run("linearizability (2-3 threads)", Linearizability.Property(defects), size.LinearizabilityCases, seed);
        yield return FsRun.Run("hostile peer", HostilePeer.Property(defects), size.HostileCases, seed);
        foreach (int senders in new[] { 1, 2 })
        {
            var s = Stress.Run(senders, size.StressMessages, size.StressLimit, seed, defects);
            yield return new CheckResult($"stress {senders} -> 1", s.Holds && !s.HitTimeLimit, s.ToString(), seed, s.Time) { BoundHit = s.Holds && s.HitTimeLimit };
        }
        // The races of unregister and destroy with the drain and the senders: Coyote's schedules, not wall clocks.
        foreach (var c in Systematic.Checks("ipi", size, seed, (int)defects)) yield return c;
    }
}
