using System.Globalization;

namespace Multikernel.Properties.Explorer;

/// <summary>
/// The memory this process may use: the smallest limit of its memory cgroup and the cgroups above it
/// (v2 <c>memory.max</c>, else v1 <c>memory.limit_in_bytes</c>), and the machine's memory as the GC
/// sees it. In a container the cgroup's limit is what the kernel's OOM killer enforces, not the host's RAM.
/// </summary>
public static class MemoryLimit
{
    /// <summary>The default --max-memory: half of the limit, the rest for the runtime, the GC's slack and the cycle search.</summary>
    public static long DefaultBound => Available / 2;

    public static long Available
    {
        get
        {
            long gc = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            return Container() is { } cgroup ? Math.Min(gc, cgroup) : gc;
        }
    }

    /// <summary>The tightest cgroup memory limit on this process, or null where there is none or it cannot be read.</summary>
    public static long? Container(string procSelfCgroup = "/proc/self/cgroup", string root = "/sys/fs/cgroup")
    {
        string[] lines;
        try { lines = File.ReadAllLines(procSelfCgroup); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        long? best = null;
        foreach (var line in lines)
        {
            // "0::/path" (v2) or "4:memory:/path" (v1)
            var parts = line.Split(':', 3);
            if (parts.Length != 3) continue;
            string? dir = parts[1] == "" ? root : parts[1].Split(',').Contains("memory") ? Path.Combine(root, "memory") : null;
            string file = parts[1] == "" ? "memory.max" : "memory.limit_in_bytes";
            if (dir is null) continue;
            // The cgroup's own limit and every ancestor's: the tightest holds.
            for (string rel = parts[2].TrimEnd('/'); ; rel = rel[..rel.LastIndexOf('/')])
            {
                if (Read(Path.Combine(dir, rel.TrimStart('/'), file)) is { } limit) best = Math.Min(best ?? long.MaxValue, limit);
                if (rel.Length == 0) break;
            }
        }
        return best;
    }

    private static long? Read(string path)
    {
        try
        {
            string text = File.ReadAllText(path).Trim();
            // "max" (v2) or a figure near 2^63 (v1, rounded to the page) means no limit.
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n < 1L << 62 ? n : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
