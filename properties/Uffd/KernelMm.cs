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
    private readonly ulong _reservation, _reservationLen;

    public ulong Base { get; }
    public ulong Unit { get; }
    public MemType A { get; }
    public MemType B { get; }

    public KernelMm(MemType a, MemType b, ulong hugePageSize)
    {
        A = a;
        B = b;
        bool huge = MemTypes.IsHugetlb(a) || MemTypes.IsHugetlb(b);
        Unit = huge ? hugePageSize / HugePages : PageSize;
        ulong span = UffdBounds.Pages * Unit, align = huge ? hugePageSize : PageSize;
        _reservationLen = span + align;
        long r = Libc.Mmap(0, _reservationLen, Libc.ProtNone, Libc.MapPrivate | Libc.MapAnonymous | Libc.MapNoreserve);
        if (r < 0) throw new InvalidOperationException($"mmap of the reservation: errno {-r}");
        _reservation = (ulong)r;
        Base = (_reservation + align - 1) & ~(align - 1);
        Map(a, 0);
        Map(b, 2);
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
            MemType.ShmemPrivate => MapMemfd(at, len, prot),
            _ => throw new ArgumentOutOfRangeException(nameof(t)),
        };
        if (r < 0) throw new InvalidOperationException($"mmap of a {MemTypes.Name(t)} VMA: errno {-r}");
    }

    /// <summary>A private mapping of a shmem file (memfd): MAP_PRIVATE of shmem, not anonymous memory.</summary>
    private long MapMemfd(ulong at, ulong len, int prot)
    {
        int fd = Libc.MemfdCreate("mk-differ", Libc.MfdCloexec);
        if (fd < 0) return fd;
        _memfds.Add(fd);
        int rc = Libc.Ftruncate(fd, (long)len);
        return rc < 0 ? rc : Libc.Mmap((nint)at, len, prot, Libc.MapFixed | Libc.MapPrivate, fd);
    }

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
