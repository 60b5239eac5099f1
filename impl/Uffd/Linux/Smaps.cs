using System.Globalization;

namespace Multikernel.Impl.Uffd.Linux;

/// <summary>One VMA of /proc/self/smaps: its range and its VmFlags mnemonics.</summary>
public sealed record SmapsVma(ulong Start, ulong End, IReadOnlySet<string> Flags)
{
    public bool Has(string mnemonic) => Flags.Contains(mnemonic);
    public override string ToString() => $"[{Start:x},{End:x}) {string.Join(' ', Flags.Order(StringComparer.Ordinal))}";
}

/// <summary>
/// /proc/self/smaps, read for an address range: each VMA overlapping it with its VmFlags line
/// (fs/proc/task_mmu.c's two-letter mnemonics: rd wr sh mr mw ms lo um uw ui ht …).
/// </summary>
public static class Smaps
{
    public const string Path = "/proc/self/smaps";

    /// <summary>The mnemonics of the flags the differential tests compare.</summary>
    public const string UffdMissing = "um", UffdWp = "uw", UffdMinor = "ui", Locked = "lo", Hugetlb = "ht", Shared = "sh";

    public static List<SmapsVma> Read(ulong start, ulong end) => Read(Path, start, end);

    /// <summary>Another process's smaps (/proc/PID/smaps), read the same way.</summary>
    public static List<SmapsVma> Read(string path, ulong start, ulong end)
    {
        var result = new List<SmapsVma>();
        using var reader = new StreamReader(path);
        ulong vs = 0, ve = 0;
        bool inRange = false;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && IsHex(line[0]) && line.IndexOf('-', StringComparison.Ordinal) is var dash and > 0 && LooksLikeHeader(line, dash))
            {
                int space = line.IndexOf(' ', StringComparison.Ordinal);
                vs = ulong.Parse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                ve = ulong.Parse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (vs >= end) break; // sorted by address: nothing further overlaps
                inRange = vs < end && ve > start;
            }
            else if (inRange && line.StartsWith("VmFlags:", StringComparison.Ordinal))
            {
                var flags = new HashSet<string>(line[8..].Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
                result.Add(new SmapsVma(vs, ve, flags));
                inRange = false;
            }
        }
        return result;
    }

    private static bool IsHex(char c) => c is (>= '0' and <= '9') or (>= 'a' and <= 'f');

    /// <summary>A VMA header: "start-end perms offset dev inode [path]" (the path may hold ':').</summary>
    private static bool LooksLikeHeader(string line, int dash)
    {
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        if (space <= dash + 1) return false;
        for (int i = 0; i < space; i++) if (i != dash && !IsHex(line[i])) return false;
        return true;
    }

    /// <summary>The VmFlags of the VMA holding <paramref name="address"/>, or null when no VMA of <paramref name="vmas"/> does.</summary>
    public static IReadOnlySet<string>? FlagsAt(IEnumerable<SmapsVma> vmas, ulong address) =>
        vmas.FirstOrDefault(v => v.Start <= address && address < v.End)?.Flags;
}
