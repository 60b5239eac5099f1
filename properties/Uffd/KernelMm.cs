using System.Globalization;
using System.Runtime.CompilerServices;
using Multikernel.Impl.Uffd.Linux;
using Multikernel.Model.Uffd;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Properties.Uffd;

/// <summary>The machine could not set a case up (a mapping refused for want of memory or huge pages): no verdict, not a divergence.</summary>
public sealed class KernelEnvironmentException(string message) : Exception(message);

/// <summary>
/// The model's mm on the running kernel: two VMAs of two model pages each, side by side, and two
/// userfaultfds. A model page is <see cref="Unit"/> bytes here: 64 KiB (<see cref="FaultAroundBytes"/>),
/// or half a huge page when a VMA is hugetlbfs (the model's huge page is two of its pages). Calls take the model's
/// addresses and return what the kernel returns (0 or a negative errno).
/// </summary>
public sealed class KernelMm : IDisposable
{
    private readonly int[] _uffd = [-1, -1];
    private readonly List<int> _memfds = [];
    private readonly int[] _vmaMemfd = [-1, -1];
    private readonly ulong _reservation, _reservationLen;
    /// <summary>What UFFDIO_COPY copies from: zeroes, as long as the longest range a step fills (the four model pages).</summary>
    private readonly nint _source;

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
        // Aligned to a huge page, or to fault_around_bytes, so that fault-around stays inside a model page.
        ulong span = UffdBounds.Pages * Unit, align = huge ? hugePageSize : FaultAroundBytes;
        _reservationLen = 2 * span + ScratchGap * Unit + align; // the model's pages, a gap, then as much scratch for mremap()
        long r = Libc.Mmap(0, _reservationLen, Libc.ProtNone, Libc.MapPrivate | Libc.MapAnonymous | Libc.MapNoreserve);
        if (r < 0) throw new InvalidOperationException($"mmap of the reservation: errno {-r}");
        _reservation = (ulong)r;
        Base = (_reservation + align - 1) & ~(align - 1);
        long src = Libc.Mmap(0, span, Libc.ProtRead | Libc.ProtWrite, Libc.MapPrivate | Libc.MapAnonymous | Libc.MapNoreserve);
        if (src < 0) throw new InvalidOperationException($"mmap of the copy source: errno {-src}");
        _source = (nint)src;
        Map(a, 0);
        Map(b, 2);
        for (int p = 0; p < UffdBounds.Pages; p++)
            if (MemTypes.StartsCached(p < 2 ? a : b, p) && p % MemTypes.Unit(p < 2 ? a : b) == 0) PrimeCache(p < 2 ? a : b, p);
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
        if (r < 0) throw new KernelEnvironmentException($"mmap of a {MemTypes.Name(t)} VMA: errno {-r}{(MemTypes.IsHugetlb(t) ? $" (huge pages free now: {UffdDiff.HugePages().Free}; another process may have taken them, or put vm.nr_hugepages back)" : "")}");
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
    /// A model page that starts in the page cache with no PTE (<see cref="MemTypes.StartsCached"/>:
    /// a fault there is a minor fault), every base page of it: written and zapped (MADV_DONTNEED)
    /// for a shared mapping, shmem or hugetlbfs (the whole huge page, which stays in the hugetlbfs
    /// file's cache), written through the memfd for a private shmem one.
    /// </summary>
    private void PrimeCache(MemType t, int page)
    {
        ulong at = Base + (ulong)page * Unit, len = (ulong)MemTypes.Unit(t) * Unit;
        if (MemTypes.IsShared(t))
        {
            for (ulong a = at; a < at + len; a += PageSize) Libc.Touch((nint)a, write: true);
            if (Libc.Madvise((nint)at, len, 4 /* MADV_DONTNEED */) < 0) throw new KernelEnvironmentException($"MADV_DONTNEED of a {MemTypes.Name(t)} page refused");
        }
        else if (t == MemType.ShmemPrivate)
            for (ulong o = 0; o < len; o += PageSize) Libc.PwriteByte(_vmaMemfd[page / 2], 0x5a, (long)o);
    }

    /// <summary>What a fault did: it finished without a message, or it sent one (and was resolved, or not).</summary>
    public sealed record FaultSeen(bool Blocked, ulong Flags, ulong Address, bool Finished, string Resolution)
    {
        /// <summary>The userfaultfd the message was read from.</summary>
        public int Ctx { get; init; }
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
    public static (long Normal, long Copied, long Continued, long Unprotected) FaultCounts => (_normal, _copied, _continued, _unprotected);
    private static long _normal, _copied, _continued, _unprotected;
    public static void ResetFaultCounts() => _normal = _copied = _continued = _unprotected = _otherEvents = 0;

    /// <summary>A fault at model page <paramref name="page"/>, resolved over its unit (the page, or its huge page on hugetlbfs).</summary>
    public FaultSeen Fault(int page, bool write, int ctx)
    {
        int unit = MemTypes.Unit(page < 2 ? A : B);
        return Fault(page, write, ctx, page / unit * unit, unit);
    }

    public FaultSeen Fault(int page, bool write, int ctx, int unitFirst, int unitCount)
    {
        var seen = FaultOnce(page, write, ctx, Base + (ulong)unitFirst * Unit, (ulong)unitCount * Unit);
        if (!seen.Finished) _stuck = true;
        if (!seen.Blocked) Interlocked.Increment(ref _normal);
        else if ((seen.Flags & UffdPagefaultFlagWp) != 0) Interlocked.Increment(ref _unprotected);
        else if ((seen.Flags & UffdPagefaultFlagMinor) != 0) Interlocked.Increment(ref _continued);
        else Interlocked.Increment(ref _copied);
        return seen;
    }

    private FaultSeen FaultOnce(int page, bool write, int ctx, ulong at, ulong len)
    {
        ulong addr = Base + (ulong)page * Unit;
        var thread = new Thread(() => Libc.Touch((nint)addr, write)) { IsBackground = true };
        thread.Start();
        _threads.Add(thread);
        // Whichever comes first: the thread finishes (a normal fault), or a message on either
        // userfaultfd (it blocked; the model's owner is asked first). The bound is a hang guard for
        // a loaded machine (about a minute), not what tells the two apart.
        int fd = -1;
        for (int waited = 0; waited < 30_000 && fd < 0; waited++)
        {
            if (thread.Join(0)) return new FaultSeen(false, 0, 0, true, "");
            bool any = false;
            for (int i = 0; i < 2 && fd < 0; i++)
            {
                int c = i == 0 ? (ctx > 0 ? ctx : 1) : (ctx > 0 ? 3 - ctx : 2);
                if (!IsOpen(c)) continue;
                any = true;
                if (Libc.PollIn(_uffd[c - 1], 1) > 0) { fd = _uffd[c - 1]; ctx = c; }
            }
            if (!any && thread.Join(1)) return new FaultSeen(false, 0, 0, true, "");
        }
        if (fd < 0) return new FaultSeen(false, 0, 0, thread.Join(30_000), ""); // no message: a normal fault, however slow
        var msg = default(UffdMsg);
        long n = Libc.Read(fd, ref msg);
        if (n != 32 || msg.Event != UffdMsg.EventPagefault) return new FaultSeen(false, 0, 0, thread.Join(1000), $"read {n}, event 0x{msg.Event:x}");
        // Resolved as the model resolves it: the model page, or its huge page on hugetlbfs ([at, at+len)).
        string how;
        if ((msg.PagefaultFlags & UffdPagefaultFlagWp) != 0) how = $"UFFDIO_WRITEPROTECT(unprotect) {Errno(Userfaultfd.WriteProtect(fd, at, len, protect: false))}";
        else if ((msg.PagefaultFlags & UffdPagefaultFlagMinor) != 0) how = $"UFFDIO_CONTINUE {Errno(Userfaultfd.Continue(fd, at, len))}";
        else how = $"UFFDIO_COPY {Errno(Userfaultfd.Copy(fd, at, (ulong)_source, len))}";
        bool done = thread.Join(30_000); // resolved: the thread returns at once; the bound is a hang guard
        // Not resolved (a divergence, reported): unblock the thread before its VMA goes away.
        if (!done) { Userfaultfd.WriteProtect(fd, at, len, protect: false); Userfaultfd.Copy(fd, at, (ulong)_source, len); Userfaultfd.Continue(fd, at, len); Userfaultfd.Wake(fd, at, len); done = thread.Join(1000); }
        return new FaultSeen(true, msg.PagefaultFlags, ModelAddress(msg.PagefaultAddress), done, how) { Ctx = ctx };
    }

    private static string Errno(int rc) => rc == 0 ? "0" : $"errno {-rc}";

    /// <summary>An address here as a model address (page × PAGE_SIZE + byte offset within the model page, clipped to it).</summary>
    public ulong ModelAddress(ulong address) =>
        address < Base ? ulong.MaxValue : (address - Base) / Unit * PageSize + Math.Min((address - Base) % Unit, PageSize - 1);

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
    public IReadOnlySet<string>[] PageFlags() => PageFlags(Smaps.Path);

    private IReadOnlySet<string>[] PageFlags(string smaps)
    {
        var vmas = Smaps.Read(smaps, Base, Base + UffdBounds.Pages * Unit);
        var result = new IReadOnlySet<string>[UffdBounds.Pages];
        for (int p = 0; p < UffdBounds.Pages; p++)
            result[p] = Smaps.FlagsAt(vmas, Base + (ulong)p * Unit) ?? new HashSet<string>();
        return result;
    }

    // ---- mremap, fork and UFFDIO_WRITEPROTECT ------------------------------------

    private bool _scratchLost;

    /// <summary>
    /// Runs a call that may wait for the monitor (UFFD_EVENT_FORK, UFFD_EVENT_REMAP: the caller
    /// sleeps in userfaultfd_event_wait_completion() until the event is read): a thread reads both
    /// userfaultfds meanwhile. The events read, in order, go to <paramref name="events"/>.
    /// </summary>
    private long WithMonitor(Func<long> call, List<(int Ctx, UffdMsg Msg)> events)
    {
        var done = new StrongBox<bool>();
        var reader = new Thread(() => { while (!Volatile.Read(ref done.Value)) ReadEvents(events, 1); }) { IsBackground = true };
        reader.Start();
        long rc;
        try { rc = call(); }
        finally
        {
            Volatile.Write(ref done.Value, true);
            reader.Join();
        }
        ReadEvents(events, 0);
        return rc;
    }

    private void ReadEvents(List<(int Ctx, UffdMsg Msg)> events, int timeoutMs)
    {
        for (int c = 1; c <= 2; c++)
        {
            int fd = _uffd[c - 1];
            if (fd < 0 || Libc.PollIn(fd, timeoutMs) <= 0) continue;
            var msg = default(UffdMsg);
            if (Libc.Read(fd, ref msg) == 32) lock (events) events.Add((c, msg));
        }
    }

    /// <summary>
    /// The events read, as the differ compares them: "uffd1 REMAP, uffd1 REMAP", or "none". Only
    /// UFFD_EVENT_FORK and UFFD_EVENT_REMAP, the model's; the others (UFFD_EVENT_UNMAP: mremap()
    /// sends it for the range it leaves when the context asked for EVENT_UNMAP, found by `differ
    /// uffd`) are read, so the caller does not wait for them, and counted in <see cref="OtherEvents"/>.
    /// </summary>
    public static string EventText(IEnumerable<(int Ctx, byte Event)> events)
    {
        var l = new List<string>();
        foreach (var (ctx, ev) in events)
        {
            if (ev is UffdMsg.EventFork or UffdMsg.EventRemap) l.Add($"uffd{ctx} {EventName(ev)}");
            else Interlocked.Increment(ref _otherEvents);
        }
        l.Sort(StringComparer.Ordinal);
        return l.Count == 0 ? "none" : string.Join(", ", l);
    }

    private static long _otherEvents;
    /// <summary>Events read during mremap and fork that the model does not have (UNMAP, REMOVE), since the last <see cref="ResetFaultCounts"/>.</summary>
    public static long OtherEvents => Interlocked.Read(ref _otherEvents);

    public static string EventName(byte e) => e switch
    {
        UffdMsg.EventPagefault => "PAGEFAULT",
        UffdMsg.EventFork => "FORK",
        UffdMsg.EventRemap => "REMAP",
        UffdMsg.EventRemove => "REMOVE",
        UffdMsg.EventUnmap => "UNMAP",
        _ => $"event 0x{e:x}",
    };

    /// <summary>
    /// mremap() of model pages [first, first + count) away and back: MREMAP_MAYMOVE | MREMAP_FIXED
    /// to this mm's scratch range, then to where they were, so the layout stays the model's (which
    /// keeps pages where they are). Each move runs mremap_userfaultfd_prep(). The range left
    /// behind holds a PROT_NONE placeholder (MAP_FIXED_NOREPLACE) meanwhile, so no other mapping
    /// of this process lands there and nothing is ever mapped over a mapping not ours.
    /// </summary>
    public (int Rc, string Events) Mremap(int first, int count)
    {
        if (_scratchLost) throw new InvalidOperationException("mremap: the scratch range was taken by another mapping of this process");
        ulong at = Base + (ulong)first * Unit, len = (ulong)count * Unit, scratch = Base + (UffdBounds.Pages + ScratchGap + (ulong)first) * Unit;
        var events = new List<(int Ctx, UffdMsg Msg)>();
        long r = WithMonitor(() => Libc.Mremap((nint)at, len, len, Move, (nint)scratch), events);
        if (r < 0)
        {
            // The kernel unmapped the destination first, and moved the VMAs of a range over several
            // up to the one it refused: each goes back where it was.
            foreach (var v in Smaps.Read(scratch, scratch + len))
                if (v.Has("rd")) MoveBack(Math.Max(v.Start, scratch), Math.Min(v.End, scratch + len), at + (Math.Max(v.Start, scratch) - scratch), events);
        }
        else MoveBack(scratch, scratch + len, at, events);
        // The scratch range is a hole again, or in part: a refused move over several VMAs unmaps the
        // destination VMA by VMA, up to the one refused.
        if (!HoldHoles(scratch, scratch + len)) _scratchLost = true;
        return (r < 0 ? (int)r : 0, EventText(events.Select(e => (e.Ctx, e.Msg.Event))));
    }

    private const int Move = Libc.MremapMaymove | Libc.MremapFixed;

    /// <summary>
    /// Model pages between the model's VMAs and the scratch range (a huge page): a VMA moved next to
    /// the rest of the VMA it came from is merged with it by copy_vma() before
    /// mremap_userfaultfd_prep() drops the context, so the rest loses its registration too (found
    /// by `differ uffd`, issue 19: pages 0-1 of a WP-registered VMA of four moved to page 4, and
    /// pages 2-3 lost `uw`). The model does not place VMAs; the moves here never land next to one.
    /// </summary>
    private const ulong ScratchGap = HugePages;

    /// <summary>A placeholder (MAP_FIXED_NOREPLACE) in every hole of [start, end); false when another mapping took one first.</summary>
    private static bool HoldHoles(ulong start, ulong end)
    {
        ulong at = start;
        foreach (var v in Smaps.Read(start, end).Append(new SmapsVma(end, end, new HashSet<string>())))
        {
            ulong to = Math.Min(Math.Max(v.Start, start), end);
            if (to > at && Libc.Mmap((nint)at, to - at, Libc.ProtNone, Placeholder) < 0) return false;
            at = Math.Max(at, Math.Min(v.End, end));
        }
        return true;
    }
    private const int Placeholder = Libc.MapPrivate | Libc.MapAnonymous | Libc.MapNoreserve | Libc.MapFixedNoreplace;

    /// <summary>[from, end) of the scratch range back to <paramref name="to"/>, a hole the move left, held by a placeholder meanwhile.</summary>
    private void MoveBack(ulong from, ulong end, ulong to, List<(int Ctx, UffdMsg Msg)> events)
    {
        ulong len = end - from;
        long hold = Libc.Mmap((nint)to, len, Libc.ProtNone, Placeholder);
        if (hold < 0) throw new InvalidOperationException($"mremap: the range moved away was taken meanwhile (errno {-hold})");
        long back = WithMonitor(() => Libc.Mremap((nint)from, len, len, Move, (nint)to), events);
        if (back < 0) throw new InvalidOperationException($"mremap back to where the VMA was: errno {-back}");
    }

    /// <summary>
    /// fork(): the child (<see cref="Libc.ForkStopped"/>, which runs no managed code) is read from
    /// /proc/PID/smaps while it is stopped, then killed; the userfaultfds UFFD_EVENT_FORK gave this
    /// process are closed after that (closing one releases the child's context).
    /// </summary>
    public (int Rc, IReadOnlySet<string>[] Child, string Events) Fork()
    {
        var events = new List<(int Ctx, UffdMsg Msg)>();
        int pid = (int)WithMonitor(() => Libc.ForkStopped(), events);
        try
        {
            if (pid < 0) return (pid, [], EventText(events.Select(e => (e.Ctx, e.Msg.Event))));
            return (0, PageFlags($"/proc/{pid}/smaps"), EventText(events.Select(e => (e.Ctx, e.Msg.Event))));
        }
        finally
        {
            if (pid > 0) Libc.KillChild(pid);
            foreach (var (_, msg) in events) if (msg.Event == UffdMsg.EventFork) Libc.Close(msg.ForkUfd);
        }
    }

    /// <summary>UFFDIO_WRITEPROTECT of model page <paramref name="page"/>'s unit (the page, or its huge page on hugetlbfs).</summary>
    public int WriteProtect(int ctx, int page, bool protect)
    {
        int unit = MemTypes.Unit(page < 2 ? A : B);
        return WriteProtect(ctx, (ulong)(page / unit * unit) * PageSize, (ulong)unit * PageSize, protect);
    }

    /// <summary>UFFDIO_WRITEPROTECT of a model range through userfaultfd <paramref name="ctx"/>.</summary>
    public int WriteProtect(int ctx, ulong start, ulong len, bool protect) =>
        Userfaultfd.WriteProtect(_uffd[ctx - 1], Address(start), Length(len), protect);

    /// <summary>UFFDIO_COPY (from zeroes), UFFDIO_ZEROPAGE or UFFDIO_CONTINUE of a model range through userfaultfd <paramref name="ctx"/>.</summary>
    public int Mfill(int ctx, ulong dst, ulong len, UffdKernel.Mfill mode) => mode switch
    {
        UffdKernel.Mfill.Copy => Userfaultfd.Copy(_uffd[ctx - 1], Address(dst), (ulong)_source, Length(len)),
        UffdKernel.Mfill.Zeropage => Userfaultfd.Zeropage(_uffd[ctx - 1], Address(dst), Length(len)),
        _ => Userfaultfd.Continue(_uffd[ctx - 1], Address(dst), Length(len)),
    };

    public override string ToString() => $"0x{Base.ToString("x", CultureInfo.InvariantCulture)}, page = 0x{Unit.ToString("x", CultureInfo.InvariantCulture)} bytes";

    /// <summary>A fault thread was left blocked (a divergence): its VMAs stay mapped until it returns.</summary>
    private bool _stuck;
    private readonly List<Thread> _threads = [];

    public void Dispose()
    {
        for (int c = 1; c <= 2; c++) if (IsOpen(c)) Close(c);
        // Closing the userfaultfds woke a thread still blocked in handle_userfault(); it retries the
        // fault, which must find its VMA: unmapping under it would kill the process (SIGSEGV). If it
        // still has not returned, the mappings are left (leaked) rather than pulled from under it.
        if (_stuck && !_threads.All(t => t.Join(5000))) return;
        Libc.Munmap((nint)_reservation, _reservationLen);
        Libc.Munmap(_source, UffdBounds.Pages * Unit);
        foreach (int fd in _memfds) Libc.Close(fd);
        _memfds.Clear();
    }
}
