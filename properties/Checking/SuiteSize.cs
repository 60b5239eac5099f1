namespace Multikernel.Properties.Checking;

/// <summary>
/// How much of each property to run: <see cref="Quick"/> for check, <see cref="Full"/> for the test suite.
/// Every run is bounded by work (cases, messages); <see cref="StressLimit"/> is only a hang guard,
/// and a run that reaches it is reported as a bound (no verdict), never as a pass or a failure.
/// </summary>
public sealed record SuiteSize(int ModelCases, int LinearizabilityCases, int HostileCases, int StressMessages, TimeSpan StressLimit)
{
    public static readonly SuiteSize Quick = new(200, 100, 200, 20_000, TimeSpan.FromMinutes(2));
    public static readonly SuiteSize Full = new(1000, 300, 500, 100_000, TimeSpan.FromMinutes(5));
}


/// <summary>A mechanism's implementation checks against its specification, each with its seed (the registry's shape).</summary>
public delegate IEnumerable<CheckResult> ImplementationChecks(SuiteSize size, ulong seed);
