using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit;

namespace Multikernel.Tests.Distributed;

/// <summary>
/// A design of the user's own, loaded with --load, audited on node processes: every node loads it too, and the
/// cluster host never reads the user's assembly (this one references packages the program does not have, which
/// once ended such a run with a stack trace). It is a design kept past the state's 16 bytes, in a frame.
/// </summary>
public sealed partial class LoadedDesignTests
{
    private static string Cli => Path.Combine(AppContext.BaseDirectory, "multikernel.dll");
    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    private static readonly string Dll = typeof(Designs.PaddedLazyInit).Assembly.Location;

    [Fact]
    public void A_loaded_design_on_node_processes_gives_the_report_of_one_process()
    {
        string[] audit = ["audit", "ipi/my-padded-lazy-init", "--load", Dll, "--senders", "2", "--messages", "1"];
        var (one, o1, _) = Run(audit);
        var (many, o2, e2) = Run([.. audit, "--nodes", "2"]);
        Assert.Equal(1, one);
        Assert.True(many == 1, e2);
        Assert.DoesNotContain("Unhandled exception", e2, StringComparison.Ordinal);
        Assert.Equal(Verdicts(o1), Verdicts(o2));
        Assert.Contains("VIOLATED", Verdicts(o1), StringComparison.Ordinal);
    }

    /// <summary>The counts and each property's verdict line, without the timing and the cluster's statistics.</summary>
    private static string Verdicts(string output) =>
        string.Join('\n', output.Split('\n').Select(l => Counts().Match(l) is { Success: true } m ? m.Value : l).Where(l => Counts().IsMatch(l) || VerdictLine().IsMatch(l)));

    [GeneratedRegex(@"explored [0-9,]+ distinct states, [0-9,]+ transitions, depth [0-9]+")]
    private static partial Regex Counts();
    [GeneratedRegex(@"^  [a-z-]+ +(holds|VIOLATED|not checked|bound)")]
    private static partial Regex VerdictLine();

    private static (int Code, string Out, string Err) Run(string[] args)
    {
        var psi = new ProcessStartInfo(Dotnet, [Cli, .. args]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o, err.Result);
    }
}
