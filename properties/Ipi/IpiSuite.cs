using FsCheck.Experimental;
using Multikernel.Impl.Ipi;
using Multikernel.Properties.Checking;

namespace Multikernel.Properties.Ipi;

/// <summary>How much of each IPI property to run: <see cref="Quick"/> for check, <see cref="Full"/> for the test suite.</summary>
public sealed record SuiteSize(int ModelCases, int LinearizabilityCases, int HostileCases, int StressMessages, TimeSpan StressLimit)
{
    public static readonly SuiteSize Quick = new(200, 100, 200, 20_000, TimeSpan.FromSeconds(5));
    public static readonly SuiteSize Full = new(1000, 300, 500, 100_000, TimeSpan.FromSeconds(20));
}

/// <summary>The implementation's properties against the specification, in one list, each with its seed.</summary>
public static class IpiSuite
{
    public const int ModelRing = 4;

    public static IEnumerable<CheckResult> Run(SuiteSize size, ulong seed, MkIpiFaults faults = MkIpiFaults.None)
    {
        yield return FsRun.Run("model-based (FsCheck Machine)", new ApiMachine(ModelRing, faults, 40).ToProperty(), size.ModelCases, seed);
        yield return FsRun.Run("linearizability (2-3 threads)", Linearizability.Property(faults), size.LinearizabilityCases, seed);
        yield return FsRun.Run("hostile peer", HostilePeer.Property(faults), size.HostileCases, seed);
        foreach (int senders in new[] { 1, 2 })
        {
            var s = Stress.Run(senders, size.StressMessages, size.StressLimit, seed, faults);
            yield return new CheckResult($"stress {senders} -> 1", s.Holds && !s.HitTimeLimit, s.ToString(), seed, s.Time);
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string? race = UnregisterRace.Run(faults);
        yield return new CheckResult("unregister waits for the drain", race == null, race ?? "callback never ran after the return", seed, clock.Elapsed);
        clock.Restart();
        string? reuse = DestroyRace.Run(faults);
        yield return new CheckResult("destroy waits for senders", reuse == null, reuse ?? "the held sender finished before destroy returned", seed, clock.Elapsed);
    }
}
