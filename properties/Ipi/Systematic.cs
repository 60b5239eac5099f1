using System.Reflection;
using System.Runtime.Loader;
using Multikernel.Properties.Checking;

namespace Multikernel.Properties.Ipi;

/// <summary>
/// The Coyote systematic tests (tests.coyote) as implementation checks. That assembly compiles the
/// implementation with its scheduling points and is rewritten by Coyote after its build, so it is
/// loaded here, from where it was built, in a load context of its own (its copy of impl/ does not
/// meet ours); only plain values cross.
/// </summary>
public static class Systematic
{
    private static readonly string? Harness = typeof(Systematic).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "CoyoteHarness")?.Value;
    private static MethodInfo? s_run;

    /// <summary>Iterations per scenario for a suite size: check's quick size runs 100.</summary>
    public static uint Iterations(SuiteSize size) => (uint)Math.Max(50, size.ModelCases / 2);

    /// <summary>A 32-bit Coyote seed from the run's seed, so <c>--seed</c> replays the schedules too.</summary>
    public static uint Seed(ulong seed) => (uint)(seed ^ (seed >> 32));

    /// <summary>One check per scenario of <paramref name="mechanism"/>; a harness that cannot be loaded is no verdict, never a pass.</summary>
    public static IEnumerable<CheckResult> Checks(string mechanism, SuiteSize size, ulong seed, int defects = 0)
    {
        uint iterations = Iterations(size), coyoteSeed = Seed(seed);
        IReadOnlyList<(string Name, bool Holds, string Detail, double Seconds, uint Iterations)> rows;
        try
        {
            rows = Run(mechanism, iterations, coyoteSeed, defects);
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or InvalidOperationException)
        {
            return [new CheckResult("systematic (Coyote)", false, e.Message, seed, TimeSpan.Zero) { BoundHit = true }];
        }
        return rows.Select(r => new CheckResult(r.Name, r.Holds, r.Detail, seed, TimeSpan.FromSeconds(r.Seconds))).ToList();
    }

    /// <summary>bench's rows: iterations per second of each scenario, on the reference implementation.</summary>
    public static void Bench(TextWriter o, string mechanism, uint iterations = 200, uint seed = 1)
    {
        o.WriteLine($"  {mechanism} systematic tests (Coyote, random strategy, seed {seed}): iterations/s per scenario");
        try
        {
            foreach (var r in Run(mechanism, iterations, seed))
                o.WriteLine($"    {r.Name,-60} {r.Iterations,6} iterations {r.Seconds,7:F2} s {r.Iterations / Math.Max(r.Seconds, 1e-9),8:F0} iterations/s{(r.Holds ? "" : "  FAILS")}");
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or InvalidOperationException)
        {
            o.WriteLine($"    not run: {e.Message}");
        }
    }

    /// <summary>Runs the harness's scenarios: (name, holds, detail, seconds, iterations) per scenario.</summary>
    /// <param name="defects">The implementation's deliberate defects (MkIpiDefects, BalloonImplDefects as a number); 0 for the reference.</param>
    public static IReadOnlyList<(string Name, bool Holds, string Detail, double Seconds, uint Iterations)> Run(string mechanism, uint iterations, uint seed, int defects = 0)
    {
        var run = s_run ??= Load();
        try
        {
            return (IReadOnlyList<(string, bool, string, double, uint)>)run.Invoke(null, [mechanism, iterations, seed, defects])!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    private static MethodInfo Load()
    {
        if (Harness is null || !File.Exists(Harness))
            throw new FileNotFoundException($"the systematic tests' assembly is not built (expected {Harness ?? "its path in the build"}): build tests.coyote");
        var context = new HarnessContext(Harness);
        var assembly = context.LoadFromAssemblyPath(Harness);
        return assembly.GetType("Multikernel.Coyote.CheckEntry", throwOnError: true)!.GetMethod("Run")
            ?? throw new InvalidOperationException($"{Harness} has no CheckEntry.Run");
    }

    /// <summary>Resolves the harness's dependencies (Coyote, xunit) from its own deps.json.</summary>
    private sealed class HarnessContext(string path) : AssemblyLoadContext("coyote-harness")
    {
        private readonly AssemblyDependencyResolver _resolver = new(path);
        protected override Assembly? Load(AssemblyName name) =>
            _resolver.ResolveAssemblyToPath(name) is { } p ? LoadFromAssemblyPath(p) : null;
    }
}
