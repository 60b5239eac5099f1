using System.Globalization;

namespace Multikernel.Properties.Uffd;

/// <summary>
/// vm.nr_hugepages raised, while this lives, so that <see cref="UffdDiff.HugePagesNeeded"/> huge pages
/// are free, and put back as it was on dispose, Ctrl-C or process exit. Used by `differ uffd` and by the
/// tests that compare hugetlbfs with the kernel, so that both run where the process may raise it.
/// </summary>
public sealed class HugePageReservation : IDisposable
{
    private const string NrHugepages = "/proc/sys/vm/nr_hugepages";
    private readonly string? _restore;
    private readonly ConsoleCancelEventHandler? _onCancel;
    private readonly EventHandler? _onExit;

    /// <summary>What was done, one line: "vm.nr_hugepages 0 -> 2 for this run (restored after)", or why nothing was.</summary>
    public string? Note { get; }

    /// <summary>Whether this process has the huge pages it needs, or may raise vm.nr_hugepages to get them.</summary>
    public static bool CanProvide => UffdDiff.HugePages().Free >= UffdDiff.HugePagesNeeded || Environment.IsPrivilegedProcess;

    private HugePageReservation(string? restore, string? note)
    {
        _restore = restore;
        Note = note;
        if (restore is null) return;
        _onCancel = (_, _) => Put(restore);
        _onExit = (_, _) => Put(restore);
        Console.CancelKeyPress += _onCancel;
        AppDomain.CurrentDomain.ProcessExit += _onExit;
    }

    /// <summary>Raises vm.nr_hugepages when fewer huge pages are free than needed and it may; otherwise changes nothing.</summary>
    public static HugePageReservation Ensure()
    {
        var (free, _) = UffdDiff.HugePages();
        if (free >= UffdDiff.HugePagesNeeded) return new(null, null);
        try
        {
            // Twice what a case maps: a long run on 6.18 once found one huge page fewer free than
            // its cases had released (2,000 cases of seed 7, with mremap and fork of hugetlbfs
            // VMAs), and a case that cannot map its VMAs gives no verdict.
            string before = File.ReadAllText(NrHugepages).Trim();
            long want = long.Parse(before, CultureInfo.InvariantCulture) + 2 * UffdDiff.HugePagesNeeded - free;
            File.WriteAllText(NrHugepages, want.ToString(CultureInfo.InvariantCulture));
            return new(before, $"vm.nr_hugepages {before} -> {want} for this run (restored after)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return new(null, $"vm.nr_hugepages not raised ({e.GetType().Name}): hugetlbfs cases will be skipped");
        }
    }

    public void Dispose()
    {
        if (_restore is null) return;
        Put(_restore);
        Console.CancelKeyPress -= _onCancel;
        AppDomain.CurrentDomain.ProcessExit -= _onExit;
    }

    private static void Put(string value)
    {
        try { File.WriteAllText(NrHugepages, value); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* nothing more can be done; the value left shows it */ }
    }
}
