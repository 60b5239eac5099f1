using System.Globalization;
using Multikernel.Impl.Uffd.Linux;
using Multikernel.Model.Uffd;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Properties.Uffd;

/// <summary>
/// The model's mm on the running kernel: two VMAs of two model pages each, side by side, and two
/// userfaultfds. A model page is <see cref="Unit"/> bytes here: 4 KiB, or half a huge page when a
/// VMA is hugetlbfs (the model's huge page is two of its pages). Calls take the model's
/// addresses and return what the kernel returns (0 or a negative errno).
/// </summary>
public sealed class KernelMm : IDisposable
{
    private readonly int[] _uffd = [-1, -1];
    private readonly List<int> _memfds = [];
    private readonly int[] _vmaMemfd = [-1, -1];
    private static readonly Lazy<nint> Source = new(() => (nint)Libc.Mmap(0, PageSize, Libc.ProtRead | Libc.ProtWrite, Libc.MapPrivate | Libc.MapAnonymous));
    private readonly ulong _reservation, _reservationLen;

    /// <summary>
    /// A model page on small pages: fault_around_bytes (64 KiB by default). A read fault on a file
    /// VMA maps the cached pages around it (do_fault_around()), which the model does not model; a
    /// model page this large keeps that within the model page (found by `differ uffd`: a read fault
    /// at page 3 mapped page 2, whose later fault the model took for a minor one).
    /// </summary>
    public const ulong FaultAroundBytes = 0x10000;

    public ulong Base { get; }
    public ulong Unit { get; }
    public MemType A { get; }
    public MemType B { get; }

    public KernelMm(MemType a, MemType b, ulong hugePageSize)
    {
        A = a;
        B = b;
        bool huge = MemTypes.IsHugetlb(a) || MemTypes.IsHugetlb(b);
        Unit = huge ? hugePageSize / HugePages : FaultAroundBytes;
        ulong span = UffdBounds.Pages * Unit, align = huge ? hugePageSize : PageSize;
        _reservationLen = span + align;
        long r = Libc.Mmap(0, _reservationLen, Libc.ProtNone, Libc.MapPrivate | Libc.MapAnonymous | Libc.MapNoreserve);
        if (r < 0) throw new InvalidOperationException($"mmap of the reservation: errno {-r}");
        _reservation = (ulong)r;
        Base = (_reservation + align - 1) & ~(align - 1);
        Map(a, 0);
        Map(b, 2);
        PrimeCache(a, 0);
        PrimeCache(b, 2);
        for (int c = 0; c < 2; c++)
        {
            _uffd[c] = Userfaultfd.Create();
            if (_uffd[c] < 0) throw new InvalidOperationException($"userfaultfd: errno {-_uffd[c]}");
        }
    }

    private void Map(MemType t, int firstPage)
    {
        ulong len = 2 * Unit, at = Base + (ulong)firstPage * Unit;
        int prot = Libc.ProtRead | Libc.ProtWrite, fixedFlag = Libc.MapFixed;
        long r = t switch
        {
            MemType.Anon => Libc.Mmap((nint)at, len, prot, fixedFlag | Libc.MapPrivate | Libc.MapAnonymous),
            MemType.ShmemShared => Libc.Mmap((nint)at, len, prot, fixedFlag | Libc.MapShared | Libc.MapAnonymous),
            MemType.HugetlbShared => Libc.Mmap((nint)at, len, prot, fixedFlag | Libc.MapShared | Libc.MapAnonymous | Libc.MapHugetlb),
            MemType.HugetlbPrivate => Libc.Mmap((nint)at, len, prot, fixedFlag | Libc.MapPrivate | Libc.MapAnonymous | Libc.MapHugetlb),
            MemType.ShmemPrivate => MapMemfd(at, len, prot, firstPage / 2),
            _ => throw new ArgumentOutOfRangeException(nameof(t)),
        };
        if (r < 0) throw new InvalidOperationException($"mmap of a {MemTypes.Name(t)} VMA: errno {-r}");
        // No transparent huge page may map a neighbouring model page (THP is "madvise" or "always" on some machines).
        if (!MemTypes.IsHugetlb(t)) Libc.Madvise((nint)at, len, 15 /* MADV_NOHUGEPAGE */);
    }

    /// <summary>A private mapping of a shmem file (memfd): MAP_PRIVATE of shmem, not anonymous memory.</summary>
    private long MapMemfd(ulong at, ulong len, int prot, int vma)
    {
        int fd = Libc.MemfdCreate("mk-differ", Libc.MfdCloexec);
        if (fd < 0) return fd;
        _memfds.Add(fd);
        _vmaMemfd[vma] = fd;
        int rc = Libc.Ftruncate(fd, (long)len);
        return rc < 0 ? rc : Libc.Mmap((nint)at, len, prot, Libc.MapFixed | Libc.MapPrivate, fd);
    }

    /// <summary>
    /// The model's first page of each shmem VMA starts in the page cache with no PTE (a fault there
    /// is a minor fault): written and zapped (MADV_DONTNEED) for a shared mapping, written through
    /// the memfd for a private one. hugetlbfs is left alone (no fault is generated there: a huge page
    /// is two model pages).
    /// </summary>
    private void PrimeCache(MemType t, int page)
    {
        nint at = (nint)(Base + (ulong)page * Unit);
        if (t == MemType.ShmemShared)
        {
            Libc.Touch(at, write: true);
            Libc.Madvise(at, Unit, 4 /* MADV_DONTNEED */);
        }
        else if (t == MemType.ShmemPrivate) Libc.PwriteByte(_vmaMemfd[page / 2], 0x5a, 0);
    }

    /// <summary>What a fault did: it finished without a message, or it sent one (and was resolved, or not).</summary>
    public sealed record FaultSeen(bool Blocked, ulong Flags, ulong Address, bool Finished, string Resolution)
    {
        public override string ToString() => Blocked
            ? $"blocked, message flags 0x{Flags:x} at 0x{Address:x}, {Resolution}{(Finished ? "" : ", thread still blocked")}"
            : Finished ? "normal fault" : "no message, thread still blocked";
    }

    /// <summary>
    /// A read or write of model page <paramref name="page"/> on a thread of its own; the message of
    /// a fault that blocks is read from the userfaultfd <paramref name="ctx"/> (the model's owner of
    /// the page, or 0) and resolved with UFFDIO_COPY (missing) or UFFDIO_CONTINUE (minor).
    /// </summary>
    /// <summary>Faults taken on the kernel since the last reset: normal, resolved with UFFDIO_COPY, with UFFDIO_CONTINUE.</summary>
    public static (long Normal, long Copied, long Continued) FaultCounts => (_normal, _copied, _continued);
    private static long _normal, _copied, _continued;
    public static void ResetFaultCounts() => _normal = _copied = _continued = 0;

    public FaultSeen Fault(int page, bool write, int ctx)
    {
        var seen = FaultOnce(page, write, ctx);
        if (!seen.Blocked) Interlocked.Increment(ref _normal);
        else if ((seen.Flags & UffdPagefaultFlagMinor) != 0) Interlocked.Increment(ref _continued);
        else Interlocked.Increment(ref _copied);
        return seen;
    }

    private FaultSeen FaultOnce(int page, bool write, int ctx)
    {
        ulong addr = Base + (ulong)page * Unit;
        var thread = new Thread(() => Libc.Touch((nint)addr, write)) { IsBackground = true };
        thread.Start();
        int fd = ctx > 0 && IsOpen(ctx) ? _uffd[ctx - 1] : -1;
        for (int c = 1; c <= 2 && fd < 0; c++) if (IsOpen(c)) fd = _uffd[c - 1];
        // Whichever comes first: the thread finishes (a normal fault), or a message (it blocked). The
        // bound is a hang guard for a loaded machine (about a minute), not what tells the two apart.
        bool message = false;
        for (int waited = 0; waited < 60_000 && !message; waited++)
        {
            if (thread.Join(0)) return new FaultSeen(false, 0, 0, true, "");
            message = fd >= 0 ? Libc.PollIn(fd, 1) > 0 : !thread.Join(1);
        }
        if (fd < 0 || !message) return new FaultSeen(false, 0, 0, thread.Join(30_000), ""); // no context to block on: a normal fault, however slow
        var msg = default(UffdMsg);
        long n = Libc.Read(fd, ref msg);
        if (n != 32 || msg.Event != UffdMsg.EventPagefault) return new FaultSeen(false, 0, 0, thread.Join(1000), $"read {n}, event 0x{msg.Event:x}");
        // The thread touched the model page's first base page: that one page is resolved.
        string how;
        if ((msg.PagefaultFlags & UffdPagefaultFlagMinor) != 0) how = $"UFFDIO_CONTINUE {Errno(Userfaultfd.Continue(fd, addr, PageSize))}";
        else how = $"UFFDIO_COPY {Errno(Userfaultfd.Copy(fd, addr, (ulong)Source.Value, PageSize))}";
        bool done = thread.Join(30_000); // resolved: the thread returns at once; the bound is a hang guard
        // Not resolved (a divergence, reported): unblock the thread before its VMA goes away.
        if (!done) { Userfaultfd.Copy(fd, addr, (ulong)Source.Value, PageSize); Userfaultfd.Continue(fd, addr, PageSize); Userfaultfd.Wake(fd, addr, PageSize); done = thread.Join(1000); }
        return new FaultSeen(true, msg.PagefaultFlags, msg.PagefaultAddress, done, how);
    }

    private static string Errno(int rc) => rc == 0 ? "0" : $"errno {-rc}";

    /// <summary>A model address (page × PAGE_SIZE + byte offset) as an address here.</summary>
    public ulong Address(ulong modelAddress) => Base + modelAddress / PageSize * Unit + modelAddress % PageSize;
    /// <summary>A model length (a multiple of PAGE_SIZE in the generated steps) as a length here.</summary>
    public ulong Length(ulong modelLength) => modelLength / PageSize * Unit + modelLength % PageSize;

    public bool IsOpen(int ctx) => _uffd[ctx - 1] >= 0;

    public int Api(int ctx, ulong features) => Userfaultfd.Api(_uffd[ctx - 1], UffdApi, features, out _);
    public int Register(int ctx, ulong start, ulong len, ulong mode) => Userfaultfd.Register(_uffd[ctx - 1], Address(start), Length(len), mode);
    public int Unregister(int ctx, ulong start, ulong len) => Userfaultfd.Unregister(_uffd[ctx - 1], Address(start), Length(len));
    /// <summary>What a populating call returns here instead of blocking in handle_userfault(): the VMA is registered.</summary>
    public const int WouldBlock = -100_000;

    /// <summary>
    /// mlock2(MLOCK_ONFAULT). On hugetlbfs it populates (no VM_LOCKONFAULT there), so a registered
    /// VMA is not touched (<see cref="WouldBlock"/>): the model said it was not registered, the kernel disagrees.
    /// </summary>
    public int Mlock2OnFault(int vma) =>
        MemTypes.IsHugetlb(vma == 0 ? A : B) && Registered(vma) ? WouldBlock : Libc.Mlock2((nint)(Base + (ulong)vma * 2 * Unit), 2 * Unit, Libc.MlockOnfault);

    /// <summary>mlock(): populates, so not on a registered VMA (<see cref="WouldBlock"/>).</summary>
    public int Mlock(int vma) => Registered(vma) ? WouldBlock : Libc.Mlock((nint)(Base + (ulong)vma * 2 * Unit), 2 * Unit);

    private bool Registered(int vma)
    {
        var f = PageFlags();
        return Enumerable.Range(vma * 2, 2).Any(p => f[p].Contains(Smaps.UffdMissing) || f[p].Contains(Smaps.UffdWp) || f[p].Contains(Smaps.UffdMinor));
    }
    public int Munlock(int vma) => Libc.Munlock((nint)(Base + (ulong)vma * 2 * Unit), 2 * Unit);

    public int Close(int ctx)
    {
        int rc = Libc.Close(_uffd[ctx - 1]);
        _uffd[ctx - 1] = -1;
        return rc;
    }

    /// <summary>The VmFlags mnemonics of the VMA holding each model page (empty when none holds it).</summary>
    public IReadOnlySet<string>[] PageFlags()
    {
        var vmas = Smaps.Read(Base, Base + UffdBounds.Pages * Unit);
        var result = new IReadOnlySet<string>[UffdBounds.Pages];
        for (int p = 0; p < UffdBounds.Pages; p++)
            result[p] = Smaps.FlagsAt(vmas, Base + (ulong)p * Unit) ?? new HashSet<string>();
        return result;
    }

    public override string ToString() => $"0x{Base.ToString("x", CultureInfo.InvariantCulture)}, page = 0x{Unit.ToString("x", CultureInfo.InvariantCulture)} bytes";

    public void Dispose()
    {
        for (int c = 1; c <= 2; c++) if (IsOpen(c)) Close(c);
        Libc.Munmap((nint)_reservation, _reservationLen);
        foreach (int fd in _memfds) Libc.Close(fd);
        _memfds.Clear();
    }
}
