using System.Runtime.InteropServices;

namespace Multikernel.Properties.Explorer;

/// <summary>
/// A zeroed array of 64-bit slots outside the GC heap, for the visited set. On Linux it is its own
/// anonymous mapping, advised onto 2 MiB pages (MADV_HUGEPAGE): a resize writes the whole new table,
/// and 4 KiB first touches of fresh memory are what made resizes slow here (each is a fault); random
/// probes miss the TLB less too. It is unmapped the moment the set lets it go (<see cref="Free"/>),
/// so a resize leaves no garbage for the GC to hold on to. Elsewhere: the C heap, zeroed.
/// </summary>
internal sealed unsafe partial class HugeTable
{
    private const long Huge = 2 << 20;
    private const int ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymous = 0x20, MapNoReserve = 0x4000, MadvHugePage = 14, MadvDontNeed = 4;

    private void* _map;
    private nuint _mapBytes;

    public ulong* Slots { get; private set; }
    public long Length { get; }

    public HugeTable(long length)
    {
        Length = length;
        long bytes = Math.Max(length, 1) * sizeof(ulong);
        if (OperatingSystem.IsLinux())
        {
            // Room to align the start to 2 MiB: only the pages touched are ever resident.
            long rounded = (bytes + Huge - 1) & ~(Huge - 1);
            _mapBytes = (nuint)(rounded + Huge);
            void* map = Mmap(null, _mapBytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous | MapNoReserve, -1, 0);
            if (map == (void*)-1) throw new InsufficientMemoryException($"the visited set's table of {bytes >> 20:N0} MiB could not be mapped");
            _map = map;
            long aligned = ((long)map + Huge - 1) & ~(Huge - 1);
            // Advice (a refusal leaves 4 KiB pages); not for a small table, which one huge page would outgrow.
            if (bytes >= Huge) _ = Madvise((void*)aligned, (nuint)rounded, MadvHugePage);
            Slots = (ulong*)aligned;
        }
        else
        {
            _map = NativeMemory.AllocZeroed((nuint)bytes);
            Slots = (ulong*)_map;
        }
    }

    public ref ulong this[long i] => ref Slots[i];

    /// <summary>Slots per 2 MiB page: the unit <see cref="Release"/> returns.</summary>
    public const long PageSlots = Huge / sizeof(ulong);

    /// <summary>
    /// Returns the whole 2 MiB pages of slots [<paramref name="from"/>, <paramref name="to"/>) to the
    /// system (they read as zero after): a resize lets go of the old table as it moves it. Any thread,
    /// on ranges of its own.
    /// </summary>
    public void Release(long from, long to)
    {
        from = (from + PageSlots - 1) / PageSlots * PageSlots;
        to = to / PageSlots * PageSlots;
        if (to <= from || !OperatingSystem.IsLinux()) return;
        _ = Madvise(Slots + from, (nuint)((to - from) * sizeof(ulong)), MadvDontNeed);
    }

    /// <summary>Returns the memory to the system at once. No one may touch the table after.</summary>
    public void Free()
    {
        if (_map is null) return;
        if (OperatingSystem.IsLinux()) _ = Munmap(_map, _mapBytes);
        else NativeMemory.Free(_map);
        _map = null;
        Slots = null;
    }

    ~HugeTable() => Free();

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* Mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(void* addr, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(void* addr, nuint length, int advice);
}
