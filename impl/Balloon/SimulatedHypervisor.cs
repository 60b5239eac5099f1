using static Multikernel.Impl.Balloon.BalloonConstants;

namespace Multikernel.Impl.Balloon;

/// <summary>
/// The hypervisor's side of the backdoor, simulated: its own set of locked PFNs, its target, the
/// protocol state (after RESET it acts on nothing but START, and refuses the rest with RESET again;
/// GUEST_ID is informative), and fault injection: RESET at a chosen command or at random, BUSY,
/// refused PFNs. It also checks the guest: every breach of the protocol (a command sent while
/// START is owed, a page locked twice, unlocked when not locked, a PFN that is not the guest's) is
/// counted in <see cref="Violations"/> with the first one described.
/// </summary>
public sealed class SimulatedHypervisor(GuestMemory memory) : IHypervisorPort
{
    private readonly HashSet<ulong> _locked = new();
    private int _phase; // 0 running, 1 START owed
    private ulong _rng = 0x9E3779B97F4A7C15UL;

    public ulong TargetPages { get; set; }
    public long Commands { get; private set; }
    public long Violations { get; private set; }
    public long BusyAnswers { get; private set; }
    public string? FirstViolation { get; private set; }
    public IReadOnlySet<ulong> Locked => _locked;
    public bool AwaitingStart => _phase != 0;

    /// <summary>Answer RESET to the command with this number (0-based count of commands so far); -1: never.</summary>
    public long ResetAtCommand { get; set; } = -1;
    /// <summary>PFNs the host refuses to lock (VMW_BALLOON_ERROR_PPN_PINNED).</summary>
    public HashSet<ulong> Refuse { get; } = new();
    /// <summary>LOCK / BATCHED_LOCK commands still to come whose first page the host refuses (the specification's refusal fault).</summary>
    public int RefuseLocks { get; set; }
    /// <summary>Random faults per command, in parts per million: RESET and BUSY; and refusals per locked page.</summary>
    public int ResetPpm { get; set; }
    public int BusyPpm { get; set; }
    public int RefusePpm { get; set; }
    public void Seed(ulong seed) => _rng = seed | 1;

    private bool Roll(int ppm)
    {
        if (ppm <= 0) return false;
        _rng ^= _rng << 13; _rng ^= _rng >> 7; _rng ^= _rng << 17;
        return _rng % 1_000_000 < (ulong)ppm;
    }

    private void Breach(string what)
    {
        Violations++;
        FirstViolation ??= $"command {Commands}: {what}";
    }

    public uint Command(uint cmd, ulong arg1, ulong arg2, out ulong result)
    {
        result = 0;
        long n = Commands++;
        if (_phase == 1 && cmd != CmdStart)
        {
            Breach($"command {cmd} after RESET, before START (refused)");
            return ErrorReset;
        }
        if (n == ResetAtCommand || (cmd != CmdStart && Roll(ResetPpm)))
        {
            _locked.Clear();
            _phase = 1;
            return ErrorReset;
        }
        if (cmd is not (CmdStart or CmdGuestId) && Roll(BusyPpm)) { BusyAnswers++; return ErrorBusy; }
        switch (cmd)
        {
            case CmdStart:
                _phase = 0;
                result = arg1 & (CapBasicCmds | CapBatchedCmds);
                return SuccessWithCapabilities;
            case CmdGuestId:
                return Success;
            case CmdGetTarget:
                result = TargetPages;
                return Success;
            case CmdLock or CmdUnlock:
                if (!Fits32(arg1)) return ErrorPpnInvalid;
                return Page(arg1, cmd == CmdLock, cmd == CmdLock && RefuseFirst());
            case CmdBatchedLock or CmdBatchedUnlock:
            {
                if (arg1 != memory.BatchPfn || arg2 > BatchMaxPages) return ErrorCmdInvalid;
                var page = memory.BatchPage;
                bool refuse = cmd == CmdBatchedLock && arg2 > 0 && RefuseFirst();
                for (int i = 0; i < (int)arg2; i++)
                    page[i] = BatchEntry(BatchPfn(page[i]), Page(BatchPfn(page[i]), cmd == CmdBatchedLock, refuse && i == 0));
                return Success;
            }
            default:
                return ErrorCmdInvalid;
        }
    }

    private bool RefuseFirst()
    {
        if (RefuseLocks == 0) return false;
        RefuseLocks--;
        return true;
    }

    private uint Page(ulong pfn, bool lockIt, bool refuse)
    {
        if (!memory.IsAllocated(pfn)) { Breach($"PFN 0x{pfn:x} is not a page the guest allocated"); return ErrorPpnInvalid; }
        if (lockIt)
        {
            if (refuse || Refuse.Contains(pfn) || Roll(RefusePpm)) return ErrorPpnPinned;
            if (!_locked.Add(pfn)) { Breach($"LOCK of PFN 0x{pfn:x}, already locked"); return ErrorPpnLocked; }
            return Success;
        }
        if (!_locked.Remove(pfn)) { Breach($"UNLOCK of PFN 0x{pfn:x}, not locked"); return ErrorPpnUnlocked; }
        return Success;
    }
}
