namespace Multikernel.Impl.Restore;

/// <summary>How a VMA is backed, as the checkpoint image records it (cr_hdr_vma's vma_type).</summary>
public enum VmaKind : uint { Anon = 1, File = 2 }

/// <summary>One VMA of the simulated address space: [Start, End), its vm_flags, pgoff, and for a file mapping the file's name.</summary>
public sealed record VmaInfo(ulong Start, ulong End, ulong VmFlags, ulong PgOff, VmaKind Kind, string? File)
{
    public ulong Pages => (End - Start) / RestoreFormat.PageSize;
}

/// <summary>The mm's fields the image carries (cr_hdr_mm): code, data, brk, stack, arguments, environment.</summary>
public readonly record struct MmBounds(ulong StartCode, ulong EndCode, ulong StartData, ulong EndData, ulong StartBrk, ulong Brk,
    ulong StartStack, ulong ArgStart, ulong ArgEnd, ulong EnvStart, ulong EnvEnd);

/// <summary>
/// A simulated address space: its bounds, sorted non-overlapping VMAs, the pages written (4 KiB
/// each, by address) and the LDT entries of its mm context. Restore replaces all of it at once.
/// </summary>
public sealed class AddressSpace
{
    public MmBounds Bounds { get; private set; }
    public List<VmaInfo> Vmas { get; private set; } = new();
    public Dictionary<ulong, byte[]> Pages { get; private set; } = new();
    public List<ulong> Ldt { get; private set; } = new();

    /// <summary>The one moment a restore touches this address space: every part replaced together.</summary>
    internal void ReplaceWith(MmBounds bounds, List<VmaInfo> vmas, Dictionary<ulong, byte[]> pages, List<ulong> ldt)
    {
        Bounds = bounds;
        Vmas = vmas;
        Pages = pages;
        Ldt = ldt;
    }

    public void Set(MmBounds bounds, IEnumerable<VmaInfo> vmas, Dictionary<ulong, byte[]> pages, IEnumerable<ulong> ldt) =>
        ReplaceWith(bounds, vmas.OrderBy(v => v.Start).ToList(), pages, ldt.ToList());

    /// <summary>Equal bounds, VMAs, page contents and LDT: what a checkpoint then a restore must give back.</summary>
    public bool SameAs(AddressSpace o) =>
        Bounds == o.Bounds && Vmas.SequenceEqual(o.Vmas) && Ldt.SequenceEqual(o.Ldt) && Pages.Count == o.Pages.Count &&
        Pages.All(p => o.Pages.TryGetValue(p.Key, out var q) && p.Value.AsSpan().SequenceEqual(q));

    /// <summary>A fingerprint of everything, to show a failed restore left the address space as it was.</summary>
    public ulong Fingerprint()
    {
        ulong h = 1469598103934665603UL;
        void Mix(ulong v) { h ^= v; h *= 1099511628211UL; }
        Mix((ulong)Bounds.GetHashCode()); // string and record hashes vary between processes: a fingerprint is compared within one
        foreach (var v in Vmas) { Mix(v.Start); Mix(v.End); Mix(v.VmFlags); Mix(v.PgOff); Mix((ulong)v.Kind); Mix((ulong)(v.File?.GetHashCode() ?? 0)); }
        foreach (var (a, data) in Pages.OrderBy(p => p.Key)) { Mix(a); foreach (byte x in data) Mix(x); }
        foreach (var l in Ldt) Mix(l);
        return h;
    }
}

/// <summary>The files a file mapping may name: a simulated file table.</summary>
public sealed class FileTable
{
    private readonly HashSet<string> _files = new(StringComparer.Ordinal);
    public FileTable(IEnumerable<string>? files = null) { foreach (var f in files ?? []) _files.Add(f); }
    public void Add(string name) => _files.Add(name);
    public bool Exists(string name) => _files.Contains(name);
}
