namespace Multikernel.Impl.Balloon;

/// <summary>
/// The guest's physical memory as the balloon sees it: the page frames it may balloon (some
/// above 4 GiB), handed out lowest PFN first (or in a given order), and one page for the batch,
/// which the hypervisor reads and writes by its PFN as it would guest memory. No allocation after
/// construction.
/// </summary>
public sealed class GuestMemory
{
    private readonly ulong[] _frames;   // sorted PFNs
    private readonly bool[] _free;
    private readonly int[] _order;      // alloc_page()'s order: indices into _frames
    private readonly int[] _rank;       // _frames[i] is the _rank[i]-th in that order
    private int _lowestFree;            // a rank

    /// <param name="frames">The PFNs the balloon may take, in any order.</param>
    /// <param name="inGivenOrder">alloc_page() hands them out in <paramref name="frames"/>' order, not lowest PFN first.</param>
    public GuestMemory(ReadOnlySpan<ulong> frames, ulong batchPfn = 0x10, bool inGivenOrder = false)
    {
        _frames = frames.ToArray();
        Array.Sort(_frames);
        _free = new bool[_frames.Length];
        Array.Fill(_free, true);
        _order = new int[_frames.Length];
        _rank = new int[_frames.Length];
        for (int r = 0; r < _frames.Length; r++)
        {
            int i = inGivenOrder ? Array.BinarySearch(_frames, frames[r]) : r;
            _order[r] = i;
            _rank[i] = r;
        }
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

    /// <summary>alloc_page(): the first free frame in the order, or false when none is left.</summary>
    public bool TryAlloc(out ulong pfn)
    {
        for (int r = _lowestFree; r < _order.Length; r++)
        {
            int i = _order[r];
            if (!_free[i]) continue;
            _free[i] = false;
            _lowestFree = r + 1;
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
        if (_rank[i] < _lowestFree) _lowestFree = _rank[i];
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
