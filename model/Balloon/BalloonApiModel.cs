using System.Collections.Immutable;
using static Multikernel.Model.Balloon.BalloonConstants;

namespace Multikernel.Model.Balloon;

/// <summary>
/// The reference design one work item at a time, with its hypervisor: the sequential meaning
/// that impl/Balloon is checked against (FsCheck Machine). Pure: every operation returns a new
/// model. Pages are allocated lowest PFN first; inflation sends batches of up to
/// <see cref="BatchPages"/> (or one LOCK per page), deflation takes the most recently ballooned
/// pages; a PFN or a target that does not fit its command is refused; refused pages are kept
/// aside until the inflation cycle ends; RESET pops every page without telling the host.
/// </summary>
public sealed record BalloonApiModel
{
    public required ImmutableArray<ulong> Frames { get; init; }
    public bool Batching { get; init; } = true;
    public int BatchPages { get; init; } = BatchMaxPages;
    public ImmutableList<ulong> Ballooned { get; init; } = [];
    public uint Target { get; init; }
    public bool ResetRequired { get; init; } = true;
    public uint Capabilities { get; init; }

    // The hypervisor.
    public ImmutableHashSet<ulong> HostLocked { get; init; } = [];
    public ulong HostTarget { get; init; }
    public long Commands { get; init; }
    public long ResetAtCommand { get; init; } = -1;
    public ImmutableHashSet<ulong> HostRefuses { get; init; } = [];

    public int Size => Ballooned.Count;

    public override string ToString() =>
        $"model: size {Size}, target {Target}{(ResetRequired ? ", reset required" : "")}, host target {HostTarget}, host locked {HostLocked.Count}, {Commands} commands";

    public static BalloonApiModel Start(IEnumerable<ulong> frames, bool batching, int batchPages) =>
        new() { Frames = [.. frames.Order()], Batching = batching, BatchPages = batching ? Math.Clamp(batchPages, 1, BatchMaxPages) : 1 };

    public BalloonApiModel SetHostTarget(ulong pages) => this with { HostTarget = pages };
    public BalloonApiModel ResetIn(long commands) => this with { ResetAtCommand = Commands + commands };
    public BalloonApiModel Refuse(ulong pfn) => this with { HostRefuses = HostRefuses.Add(pfn) };

    /// <summary>One work item: reset if required, the target, then inflate or deflate toward it.</summary>
    public BalloonApiModel Work()
    {
        var m = this;
        if (m.ResetRequired) m = m.Reset();
        if (m.ResetRequired) return m;
        m = m.GetTarget();
        if (m.ResetRequired) return m;
        if (m.Size < m.Target) return m.Inflate();
        if (m.Size > m.Target) return m.Deflate();
        return m;
    }

    /// <summary>The host's answer to one command; a scheduled RESET comes first.</summary>
    private (BalloonApiModel M, uint Status) Send(uint cmd)
    {
        var m = this with { Commands = Commands + 1 };
        if (Commands == ResetAtCommand) return (m with { HostLocked = [], ResetRequired = true }, ErrorReset);
        return (m, Success);
    }

    private BalloonApiModel Reset()
    {
        var m = this with { Ballooned = [], ResetRequired = false };
        (m, uint status) = m.Send(CmdStart);
        if (status != Success) return m;
        m = m with { Capabilities = CapBasicCmds | CapBatchedCmds };
        (m, status) = m.Send(CmdGuestId);
        return m;
    }

    private BalloonApiModel GetTarget()
    {
        var (m, status) = Send(CmdGetTarget);
        if (status != Success) return m;
        return Fits32(m.HostTarget) ? m with { Target = (uint)m.HostTarget } : m;
    }

    private bool CanBatch => Batching && (Capabilities & CapBatchedCmds) != 0;
    private bool Sendable(ulong pfn) => CanBatch ? pfn <= BatchMaxPfn : Fits32(pfn);

    private BalloonApiModel Inflate()
    {
        var m = this;
        var taken = Ballooned.ToHashSet();
        var refused = new List<ulong>();
        int next = 0;
        while (m.Size < m.Target && !m.ResetRequired)
        {
            var batch = new List<ulong>();
            int want = (int)Math.Min((uint)m.BatchPages, m.Target - (uint)m.Size);
            while (batch.Count < want && refused.Count < 16)
            {
                while (next < Frames.Length && taken.Contains(Frames[next])) next++;
                if (next == Frames.Length) break;
                ulong pfn = Frames[next++];
                taken.Add(pfn);
                if (!m.Sendable(pfn)) refused.Add(pfn); else batch.Add(pfn);
            }
            if (batch.Count == 0) break;
            m = m.LockOp(batch, lockIt: true, refused);
        }
        return m;
    }

    private BalloonApiModel Deflate()
    {
        var m = this;
        while (m.Size > m.Target && !m.ResetRequired)
        {
            int n = (int)Math.Min((uint)m.BatchPages, (uint)m.Size - m.Target);
            var batch = m.Ballooned.Reverse().Take(n).ToList();
            var before = m.Size;
            m = m.LockOp(batch, lockIt: false, []);
            if (m.Size == before) break;
        }
        return m;
    }

    private BalloonApiModel LockOp(List<ulong> batch, bool lockIt, List<ulong> refused)
    {
        var m = this;
        uint status = Success;
        if (CanBatch) (m, status) = m.Send(lockIt ? CmdBatchedLock : CmdBatchedUnlock);
        foreach (ulong pfn in batch)
        {
            uint st = status;
            if (!CanBatch) (m, st) = m.ResetRequired ? (m, ErrorReset) : m.Send(lockIt ? CmdLock : CmdUnlock);
            if (st == Success) st = m.HostPage(pfn, lockIt);
            if (st == Success) m = lockIt ? m with { Ballooned = m.Ballooned.Add(pfn), HostLocked = m.HostLocked.Add(pfn) }
                                          : m with { Ballooned = m.Ballooned.Remove(pfn), HostLocked = m.HostLocked.Remove(pfn) };
            else if (lockIt && !m.ResetRequired && refused.Count < 16) refused.Add(pfn);
        }
        return m;
    }

    private uint HostPage(ulong pfn, bool lockIt) =>
        lockIt ? HostRefuses.Contains(pfn) ? ErrorPpnPinned : HostLocked.Contains(pfn) ? ErrorPpnLocked : Success
               : HostLocked.Contains(pfn) ? Success : ErrorPpnUnlocked;
}
