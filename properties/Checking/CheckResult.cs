using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

namespace Multikernel.Properties.Checking;

/// <summary>The verdict of one property run: it held, or it failed with a message; with the seed that replays it.</summary>
public sealed record CheckResult(string Name, bool Holds, string Detail, ulong Seed, TimeSpan Time)
{
    /// <summary>The run stopped at a bound (a hang guard's time limit) before a verdict: not a pass, not a failure.</summary>
    public bool BoundHit { get; init; }

    /// <summary>Not run: the machine lacks the facility (the reason, one line). Neither a pass nor a failure; the exit code is untouched.</summary>
    public string? Skipped { get; init; }

    /// <summary>A check that this machine cannot run, with why.</summary>
    public static CheckResult Skip(string name, string reason) => new(name, true, "skipped: " + reason, 0, TimeSpan.Zero) { Skipped = reason };

    public Model.Checking.ExitCode Exit => Holds ? Model.Checking.ExitCode.Holds
        : BoundHit ? Model.Checking.ExitCode.NoVerdict : Model.Checking.ExitCode.Violated;

    public string VerdictText => Skipped != null ? "skipped" : Holds ? "holds" : BoundHit ? "no verdict" : "FAILS";

    public override string ToString() => $"{Name}: {VerdictText} ({Detail}; seed {Seed})";
}

/// <summary>Runs FsCheck properties with an explicit seed, so every random run can be replayed.</summary>
public static class FsRun
{
    // Rnd's gamma must be odd; a fixed one makes the seed alone the replay key.
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;

    public static Config Config(int maxTest, ulong seed) =>
        FsCheck.Config.QuickThrowOnFailure
            .WithMaxTest(maxTest)
            .WithQuietOnSuccess(true)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed, Gamma), FSharpOption<int>.None)));

    /// <summary>Check <paramref name="property"/> <paramref name="maxTest"/> times; a failure's shrunk counterexample is the detail.</summary>
    public static CheckResult Run(string name, Property property, int maxTest, ulong seed)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            Check.One(Config(maxTest, seed), property);
            return new CheckResult(name, true, $"{maxTest} cases", seed, clock.Elapsed);
        }
        catch (Exception e)
        {
            return new CheckResult(name, false, e.Message.Trim(), seed, clock.Elapsed);
        }
    }

    /// <summary>A seed for a run nobody asked to replay: from the clock, printed with the result.</summary>
    public static ulong FreshSeed() => ((ulong)DateTime.UtcNow.Ticks * 0x9E3779B97F4A7C15UL) >> 1; // 63 bits: fits --seed
}
