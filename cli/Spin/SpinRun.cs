using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Multikernel.Model.Ipi;

namespace Multikernel.Cli.Spin;

/// <summary>What one exhaustive run of pan reported: states stored, errors, depth, wall and CPU time (user + system), peak RSS.</summary>
internal sealed record SpinResult(long States, long Transitions, int Errors, int Depth, int VectorBytes, double Seconds, double CpuSeconds, long PeakRss, string Output);

/// <summary>
/// Spin on the twin (<see cref="SpinTwin"/>): spin -a, gcc, then pan's exhaustive search, each a child
/// process. pan runs under /usr/bin/time for its wall time and peak RSS (the child's own, from wait4()).
/// </summary>
internal sealed partial class SpinRun
{
    /// <summary>How pan is compiled: exhaustive safety search, no bound checks (the twin's indices are masked), memory limit in MiB.</summary>
    public const string CompileFlags = "-O2 -DSAFETY -DNOBOUNDCHECK -DMEMLIM=8192";
    /// <summary>How pan is run: depth bound far above the twin's (about 100), 2^25 hash slots (chained: exact at any count).</summary>
    public const string PanFlags = "-m100000 -w25";

    private readonly string _dir;
    public double CompileSeconds { get; }

    private SpinRun(string dir, double compileSeconds) => (_dir, CompileSeconds) = (dir, compileSeconds);

    /// <summary>Why Spin cannot run here (spin, gcc or /usr/bin/time missing), or null.</summary>
    public static string? Missing()
    {
        foreach (var (tool, package) in new[] { ("spin", "spin"), ("gcc", "gcc"), ("time", "time") })
            if (Which(tool) is null && !(tool == "time" && File.Exists("/usr/bin/time")))
                return $"{tool} is not installed here: the CLI's build installs it with apt-get where it can (cli/Spin/ensure-spin.sh); install it with 'sudo apt-get install {package}'";
        return null;
    }

    private static string? Which(string tool)
    {
        foreach (var d in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':'))
            if (d.Length > 0 && File.Exists(Path.Combine(d, tool))) return Path.Combine(d, tool);
        return null;
    }

    /// <summary>Writes the twin for <paramref name="b"/> into <paramref name="dir"/> and compiles pan there. <paramref name="defines"/>: the twin's knobs (-DNO_FULL_CHECK).</summary>
    public static SpinRun Compile(string dir, IpiBounds b, string defines = "")
    {
        SpinTwin.Write(dir, b);
        var sw = Stopwatch.StartNew();
        Exec(dir, "spin", $"{defines} -a {SpinTwin.ModelFile}".Trim());
        Exec(dir, "gcc", $"{CompileFlags} -o pan pan.c");
        return new SpinRun(dir, sw.Elapsed.TotalSeconds);
    }

    /// <summary>One exhaustive search; throws when pan's output lacks its statistics.</summary>
    public SpinResult Search()
    {
        string timeFile = Path.Combine(_dir, "time.out");
        string output = Exec(_dir, "/usr/bin/time", $"-f \"%e %M %U %S\" -o time.out ./pan {PanFlags}", allowExit: [0, 1]);
        var t = File.ReadAllText(timeFile).Trim().Split('\n')[^1].Split(' ');
        double seconds = double.Parse(t[0], CultureInfo.InvariantCulture);
        long rss = long.Parse(t[1], CultureInfo.InvariantCulture) * 1024;
        double cpu = double.Parse(t[2], CultureInfo.InvariantCulture) + double.Parse(t[3], CultureInfo.InvariantCulture);
        long Number(Regex r) => r.Match(output) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"pan's output has no '{r}':\n{output}");
        var v = Vector().Match(output);
        if (!v.Success) throw new InvalidOperationException($"pan's output has no state-vector line:\n{output}");
        return new SpinResult(Number(Stored()), Number(Transitions()), int.Parse(v.Groups[3].Value, CultureInfo.InvariantCulture),
            int.Parse(v.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(v.Groups[1].Value, CultureInfo.InvariantCulture), seconds, cpu, rss, output);
    }

    private static string Exec(string dir, string file, string args, int[]? allowExit = null)
    {
        var psi = new ProcessStartInfo(file, args) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{file} did not start");
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (Array.IndexOf(allowExit ?? [0], p.ExitCode) < 0)
            throw new InvalidOperationException($"{file} {args} exited {p.ExitCode} in {dir}:\n{output}{err.Result}");
        return output;
    }

    [GeneratedRegex(@"State-vector (\d+) byte, depth reached (\d+), errors: (\d+)")] private static partial Regex Vector();
    [GeneratedRegex(@"(\d+) states, stored")] private static partial Regex Stored();
    [GeneratedRegex(@"(\d+) transitions")] private static partial Regex Transitions();
}
