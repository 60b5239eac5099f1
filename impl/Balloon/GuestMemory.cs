namespace Multikernel.Impl.Balloon;

/// <summary>
/// The guest's physical memory as the balloon sees it: the page frames it may balloon (some
/// above 4 GiB), handed out lowest PFN first, and one page for the batch, which the hypervisor
/// reads and writes by its PFN as it would guest memory. No allocation after construction.
/// </summary>
public sealed class GuestMemory
{
    private readonly ulong[] _frames;   // sorted PFNs
    private readonly bool[] _free;
    private int _lowestFree;

    /// <param name="frames">The PFNs the balloon may take, in any order.</param>
    public GuestMemory(ReadOnlySpan<ulong> frames, ulong batchPfn = 0x10)
    {
        _frames = frames.ToArray();
        Array.Sort(_frames);
        _free = new bool[_frames.Length];
        Array.Fill(_free, true);
        BatchPfn = batchPfn;
    }

    /// <summary>A contiguous run of PFNs from <paramref name="first"/>, with every <paramref name="highEvery"/>-th one moved above 4 GiB (0: none).</summary>
    public static GuestMemory Range(ulong first, int count, int highEvery = 0)
    {
        var f = new ulong[count];
        for (int i = 0; i < count; i++) f[i] = highEvery > 0 && i % highEvery == highEvery - 1 ? (1UL << 32) + first + (ulong)i : first + (ulong)i;
        return new GuestMemory(f);
    }

    /// <summary>The batch page: BatchMaxPages entries of PFN &lt;&lt; PAGE_SHIFT | status.</summary>
    public ulong[] BatchPage { get; } = new ulong[BalloonConstants.BatchMaxPages];
    public ulong BatchPfn { get; }

    public int Frames => _frames.Length;

    /// <summary>alloc_page(): the lowest free frame, or false when none is left.</summary>
    public bool TryAlloc(out ulong pfn)
    {
        for (int i = _lowestFree; i < _frames.Length; i++)
        {
            if (!_free[i]) continue;
            _free[i] = false;
            _lowestFree = i + 1;
            pfn = _frames[i];
            return true;
        }
        pfn = 0;
        return false;
    }

    /// <summary>__free_page().</summary>
    public void Free(ulong pfn)
    {
        int i = Array.BinarySearch(_frames, pfn);
        if (i < 0 || _free[i]) throw new InvalidOperationException($"free of PFN 0x{pfn:x}, which was not allocated");
        _free[i] = true;
        if (i < _lowestFree) _lowestFree = i;
    }

    public bool IsAllocated(ulong pfn)
    {
        int i = Array.BinarySearch(_frames, pfn);
        return i >= 0 && !_free[i];
    }
}

/// <summary>The backdoor: `inl` on VMW_BALLOON_HV_PORT with the magic, a command and two arguments; a status and a result.</summary>
public interface IHypervisorPort
{
    uint Command(uint cmd, ulong arg1, ulong arg2, out ulong result);
}
