using System.Diagnostics;
using Microsoft.Coyote;
using Microsoft.Coyote.Logging;
using Microsoft.Coyote.SystematicTesting;

namespace Multikernel.Coyote.Systematic;

/// <summary>
/// One systematic test run: how many iterations (schedules) Coyote explored, with which seed, and
/// the first failure with its schedule, both as Coyote's reproducible trace and as the steps each
/// CPU made (from a replay of that schedule).
/// </summary>
public sealed record SystematicResult(string Name, uint Iterations, uint Budget, uint Seed, string? Failure,
    IReadOnlyList<string> Steps, string Schedule, double Seconds)
{
    public bool Found => Failure is not null;
    public double IterationsPerSecond => Iterations / Math.Max(Seconds, 1e-9);

    /// <summary>The failure and the steps that led to it, numbered.</summary>
    public string TraceText()
    {
        if (Failure is null) return $"{Name}: no failure in {Iterations} iterations (seed {Seed})";
        var lines = new List<string> { $"{Name}: {Failure}", $"  found in iteration {Iterations} of {Budget} (seed {Seed}); the schedule:" };
        for (int i = 0; i < Steps.Count; i++) lines.Add($"  {i + 1,4}  {Steps[i]}");
        return string.Join('\n', lines);
    }
}

/// <summary>Runs a test under Coyote's TestingEngine (random strategy, fixed seed, bounded iterations) and replays schedules.</summary>
public static class SystematicRun
{
    /// <summary>Scheduling steps per iteration: far above what the scenarios take; a spin that hits it ends the iteration unjudged.</summary>
    public const uint MaxSteps = 5000;

    /// <summary>One engine at a time per process: the steps and the iteration count are the process's (test classes run in parallel).</summary>
    private static readonly Lock s_gate = new();

    public static SystematicResult Run(string name, Func<Task> test, uint iterations, uint seed)
    {
        lock (s_gate) return RunAlone(name, test, iterations, seed);
    }

    private static SystematicResult RunAlone(string name, Func<Task> test, uint iterations, uint seed)
    {
        var clock = Stopwatch.StartNew();
        var config = Quiet(Configuration.Create()
            .WithTestingIterations(iterations)
            .WithRandomGeneratorSeed(seed)
            .WithRandomStrategy());
        var engine = TestingEngine.Create(config, Wrap(test));
        Quietly(engine.Run);
        double seconds = clock.Elapsed.TotalSeconds;
        var report = engine.TestReport;
        uint explored = (uint)(report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths);
        if (report.NumOfFoundBugs == 0)
            return new SystematicResult(name, explored, iterations, seed, null, [], "", seconds);
        string schedule = engine.ReproducibleTrace;
        var (failure, steps) = ReplayAlone(test, schedule);
        return new SystematicResult(name, explored, iterations, seed, failure ?? Bug(report), steps, schedule, seconds);
    }

    /// <summary>The settings every run shares: the step bound, and nothing printed or sent (the result says what happened).</summary>
    private static Configuration Quiet(Configuration c) => c
        .WithMaxSchedulingSteps(MaxSteps)
        .WithVerbosityEnabled(VerbosityLevel.Error)
        .WithConsoleLoggingEnabled(false)
        .WithTelemetryEnabled(false);

    /// <summary>Runs exactly the schedule <paramref name="schedule"/>: the failure it ends in (null if none) and the steps on the way.</summary>
    public static (string? Failure, IReadOnlyList<string> Steps) Replay(Func<Task> test, string schedule)
    {
        lock (s_gate) return ReplayAlone(test, schedule);
    }

    private static (string? Failure, IReadOnlyList<string> Steps) ReplayAlone(Func<Task> test, string schedule)
    {
        var config = Quiet(Configuration.Create().WithReproducibleTrace(schedule));
        var engine = TestingEngine.Create(config, Wrap(test));
        Quietly(engine.Run);
        var steps = Multikernel.Coyote.Systematic.Steps.Lines();
        return (engine.TestReport.NumOfFoundBugs == 0 ? null : Bug(engine.TestReport), steps);
    }

    /// <summary>The engine prints its progress ("Iteration #10") to the console whatever the verbosity: not on check's screen.</summary>
    private static void Quietly(Action run)
    {
        var console = Console.Out;
        Console.SetOut(TextWriter.Null);
        try { run(); }
        finally { Console.SetOut(console); }
    }

    private static Func<Task> Wrap(Func<Task> test) => () =>
    {
        Multikernel.Coyote.Systematic.Steps.Begin();
        return test();
    };

    private static string Bug(TestReport report)
    {
        string text = report.BugReports.FirstOrDefault() ?? "a failure";
        return text.Split('\n')[0].Trim();
    }
}
