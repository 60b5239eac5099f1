using System.Diagnostics;
using System.Globalization;
using Multikernel.Cli.Registry;
using Multikernel.Properties.Explorer;
using Xunit;
using Xunit.Abstractions;

namespace Multikernel.Tests.Engine;

/// <summary>
/// --max-memory bounds what the process holds, not a count of candidate states: a bounded run stops
/// with the bound (exit 3) and its peak stays under the bound plus the runtime's own baseline; in a
/// 1 GiB memory cgroup the default bound (from the cgroup's limit) ends a large run with exit 3, never
/// an out-of-memory death. The peaks are the kernel's: the memory cgroup's peak where the test may make
/// one (root, a writable cgroup v2 or v1 memory hierarchy), else the child's VmHWM, sampled.
/// </summary>
public class MemoryBoundTests(ITestOutputHelper output)
{
    private const long MiB = 1 << 20;
    /// <summary>IPI at three senders: 1.48 M states, about 75 MB held at two threads (bench's configuration).</summary>
    private static readonly string[] Medium = ["explore", "ipi", "--senders", "3", "--safety-only", "--threads", "2"];

    [Fact]
    public void A_run_holds_no_more_than_its_memory_bound_by_its_own_count()
    {
        var (m, d) = Mechanisms.Resolve("ipi/reference", "test");
        var spec = m.Model.Specification(d, m.Model.ParseBounds("senders=3"))!;
        var free = Explorer.Run(spec, new ExploreOptions { Liveness = Liveness.None, Threads = 2, StopWhenAllViolated = false });
        Assert.Equal(Bound.None, free.Bound);
        // The check can fail: unbounded, the same search holds well over the bound used below.
        Assert.True(free.PeakHeldBytes > 40 * MiB, $"the unbounded run held only {free.PeakHeldBytes / MiB} MiB");
        foreach (long max in new[] { 8 * MiB, 24 * MiB, 40 * MiB })
        {
            var r = Explorer.Run(spec, new ExploreOptions { Liveness = Liveness.None, Threads = 2, StopWhenAllViolated = false, MaxMemory = max });
            Assert.Equal(Bound.Memory, r.Bound);
            Assert.True(r.PeakHeldBytes <= max, $"held {r.PeakHeldBytes / MiB} MiB under a bound of {max / MiB} MiB");
            Assert.True(r.States < free.States);
        }
    }

    [Fact]
    public void A_bounded_run_stops_with_the_bound_and_its_peak_stays_under_it_plus_the_baseline()
    {
        using var cgroup = MemoryCgroup.TryCreate(null, out string why);
        if (cgroup is null) output.WriteLine($"no memory cgroup ({why}): peaks are the child's VmHWM, sampled");
        var baseline = Run(cgroup, ["explore", "restore"]);
        Assert.Equal(0, baseline.Exit);
        const long bound = 32 * MiB;
        using var cgroup2 = cgroup is null ? null : MemoryCgroup.TryCreate(null, out _);
        var bounded = Run(cgroup2, [.. Medium, "--max-memory", "32"]);
        output.WriteLine($"baseline peak {baseline.Peak / MiB} MiB, bounded peak {bounded.Peak / MiB} MiB ({bounded.How})");
        Assert.True(bounded.Exit == 3, $"exit {bounded.Exit}: {bounded.Output}");
        Assert.Contains("BOUND HIT: memory", bounded.Output);
        // The runtime's baseline (code, JIT, stacks, the GC's allocation budget) plus the bound, and 25% of the bound for what
        // the search does not count (the spec's own scratch, the level's small arrays).
        Assert.True(bounded.Peak <= baseline.Peak + bound + bound / 4 + 16 * MiB,
            $"peak {bounded.Peak / MiB} MiB: over the bound {bound / MiB} MiB plus the baseline {baseline.Peak / MiB} MiB");
        // And the bound is what stopped it: the same run without it holds more than the bound allows.
        using var cgroup3 = cgroup is null ? null : MemoryCgroup.TryCreate(null, out _);
        var free = Run(cgroup3, Medium);
        Assert.DoesNotContain("BOUND HIT", free.Output); // exit 3 all the same: --safety-only leaves the cycles unchecked
        Assert.True(free.Peak > bounded.Peak, $"unbounded peak {free.Peak / MiB} MiB, bounded {bounded.Peak / MiB} MiB");
    }

    [Fact]
    public void In_a_1_GiB_cgroup_the_default_bound_ends_a_large_run_with_exit_3_not_out_of_memory()
    {
        using var cgroup = MemoryCgroup.TryCreate(1L << 30, out string why);
        if (cgroup is null)
        {
            output.WriteLine($"skipped: cannot make a memory cgroup here ({why})");
            return;
        }
        // S3 M3 R1 H2: 31.9 M states, about 2.5 GB at two threads: far more than the cgroup allows.
        var r = Run(cgroup, ["explore", "ipi", "--senders", "3", "--messages", "3", "--ring", "1", "--handlers", "2", "--threads", "2"]);
        output.WriteLine($"exit {r.Exit}, peak {r.Peak / MiB} MiB ({r.How})");
        Assert.True(r.Exit is not (134 or 137), $"killed for memory (exit {r.Exit}): {r.Output}");
        Assert.True(r.Exit == 3, $"exit {r.Exit}: {r.Output}");
        Assert.Contains("BOUND HIT: memory", r.Output);
        Assert.True(r.Peak < 1L << 30);
    }

    [Fact]
    public void The_default_bound_comes_from_the_tightest_cgroup_limit()
    {
        string root = Path.Combine(Path.GetTempPath(), $"mk-cgroup-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "a", "b"));
            File.WriteAllText(Path.Combine(root, "a", "memory.max"), "1073741824\n");
            File.WriteAllText(Path.Combine(root, "a", "b", "memory.max"), "max\n");
            File.WriteAllText(Path.Combine(root, "self-v2"), "0::/a/b\n");
            Assert.Equal(1L << 30, MemoryLimit.Container(Path.Combine(root, "self-v2"), root));
            Directory.CreateDirectory(Path.Combine(root, "memory", "x"));
            File.WriteAllText(Path.Combine(root, "memory", "x", "memory.limit_in_bytes"), "536870912\n");
            File.WriteAllText(Path.Combine(root, "memory", "memory.limit_in_bytes"), "9223372036854771712\n");
            File.WriteAllText(Path.Combine(root, "self-v1"), "5:cpu:/\n4:memory:/x\n");
            Assert.Equal(1L << 29, MemoryLimit.Container(Path.Combine(root, "self-v1"), root));
            File.WriteAllText(Path.Combine(root, "self-none"), "4:memory:/\n");
            Assert.Null(MemoryLimit.Container(Path.Combine(root, "self-none"), root));
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    private sealed record Child(int Exit, string Output, long Peak, string How);

    /// <summary>Runs the CLI as a child, inside <paramref name="cgroup"/> when given; its exit, output and peak memory.</summary>
    private static Child Run(MemoryCgroup? cgroup, string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "multikernel.dll");
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // The shell joins the cgroup, then becomes the CLI: every byte the CLI touches is charged there.
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(cgroup is null ? "exec dotnet \"$@\"" : "echo $$ > \"$0\" && exec dotnet \"$@\"");
        psi.ArgumentList.Add(cgroup?.Procs ?? "sh");
        psi.ArgumentList.Add(cli);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        long sampled = 0;
        if (cgroup is null)
            while (!p.WaitForExit(5))
                sampled = Math.Max(sampled, VmHwm(p.Id));
        p.WaitForExit();
        string text = stdout.Result + stderr.Result;
        return cgroup is null
            ? new Child(p.ExitCode, text, sampled, "VmHWM, sampled")
            : new Child(p.ExitCode, text, cgroup.Peak(), "the memory cgroup's peak");
    }

    private static long VmHwm(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // it exited between the two reads
        return 0;
    }
}

/// <summary>A memory cgroup of the test's own (v2, else v1 under this process's), removed on dispose.</summary>
internal sealed class MemoryCgroup : IDisposable
{
    private readonly string _dir;
    private readonly bool _v2;

    private MemoryCgroup(string dir, bool v2) { _dir = dir; _v2 = v2; }

    public string Procs => Path.Combine(_dir, "cgroup.procs");

    public static MemoryCgroup? TryCreate(long? limit, out string why)
    {
        why = "";
        string name = $"multikernel-test-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            if (File.Exists("/sys/fs/cgroup/cgroup.controllers") && File.ReadAllText("/sys/fs/cgroup/cgroup.controllers").Split(' ', '\n').Contains("memory")
                && File.ReadAllText("/sys/fs/cgroup/cgroup.subtree_control").Split(' ', '\n').Contains("memory"))
                return Make(Path.Combine("/sys/fs/cgroup", name), v2: true, limit);
            // v1: beside this process, under its own memory cgroup (its limits still hold above ours).
            string? own = File.ReadAllLines("/proc/self/cgroup").Select(l => l.Split(':', 3)).FirstOrDefault(p => p.Length == 3 && p[1].Split(',').Contains("memory"))?[2];
            if (own is not null && Directory.Exists("/sys/fs/cgroup/memory"))
                return Make(Path.Combine("/sys/fs/cgroup/memory", own.TrimStart('/'), name), v2: false, limit);
            why = "no cgroup v2 memory controller and no v1 memory hierarchy";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { why = e.Message; }
        return null;
    }

    private static MemoryCgroup Make(string dir, bool v2, long? limit)
    {
        Directory.CreateDirectory(dir);
        var g = new MemoryCgroup(dir, v2);
        try
        {
            if (limit is { } l) File.WriteAllText(Path.Combine(dir, v2 ? "memory.max" : "memory.limit_in_bytes"), l.ToString(CultureInfo.InvariantCulture));
            if (v2) File.WriteAllText(Path.Combine(dir, "memory.swap.max"), "0");
        }
        catch { g.Dispose(); throw; }
        return g;
    }

    /// <summary>The most the cgroup held at once.</summary>
    public long Peak() => long.Parse(File.ReadAllText(Path.Combine(_dir, _v2 ? "memory.peak" : "memory.max_usage_in_bytes")).Trim(), CultureInfo.InvariantCulture);

    public void Dispose()
    {
        try { Directory.Delete(_dir); }
        catch (IOException) { } // still has a process (it should not: the child exited): left for the system
    }
}
