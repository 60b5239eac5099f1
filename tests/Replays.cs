namespace Multikernel.Tests;

/// <summary>
/// Fixed replay seeds for the suite's [Property] tests, so CI runs the same cases every time. The gamma is
/// FsRun's (Properties/Checking), so a seed here draws what the CLI draws with that --seed; a failure prints
/// its own "Replay" pair, which pasted into the attribute reproduces it.
/// </summary>
internal static class Replays
{
    public const string Gamma = "11400714819323198485"; // 0x9E3779B97F4A7C15
}
