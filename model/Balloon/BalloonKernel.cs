using System.Numerics;
using System.Runtime.CompilerServices;
using Multikernel.Model.Checking;
using static Multikernel.Model.Balloon.BalloonConstants;

namespace Multikernel.Model.Balloon;

/// <summary>A fault the hypervisor injects into one command's answer.</summary>
public enum HostFault : byte
{
    None,
    /// <summary>The host answers VMW_BALLOON_ERROR_RESET: it has forgotten every locked page and expects START.</summary>
    Reset,
    /// <summary>The host refuses a page of a LOCK (VMW_BALLOON_ERROR_PPN_PINNED).</summary>
    Refuse,
}

/// <summary>
/// The backdoor as both sides see it: the hypervisor's handling of each command (its locked set,
/// its target, RESET and refusals), with the ghost checks that make "locked twice", "out of
/// order" or "truncated" checkable facts. Designs' steps call these; every design is judged by them.
/// </summary>
public sealed class BalloonKernel(BalloonBounds bounds) : IReasonSource
{
    public BalloonBounds Bounds { get; } = bounds;
    public ReasonSink Reasons { get; } = new();

    public void Break(ref BalloonState s, BalloonInvariant i, [InterpolatedStringHandlerArgument("")] Reason why)
    {
        s.Broken |= (ushort)PropertyTable<BalloonInvariant>.Bit(i);
        if (why.Text() is { } text) Reasons.Note((int)i, text);
    }

    public static string CmdName(uint cmd) => cmd switch
    {
        CmdStart => "START", CmdGetTarget => "GET_TARGET", CmdLock => "LOCK", CmdUnlock => "UNLOCK", CmdGuestId => "GUEST_ID",
        CmdBatchedLock => "BATCHED_LOCK", CmdBatchedUnlock => "BATCHED_UNLOCK", _ => $"command {cmd}",
    };

    /// <summary>
    /// The host receives a command (the inl on VMW_BALLOON_HV_PORT). Until a START succeeds (at boot,
    /// and after it answered RESET) the host acts on nothing else: every other command is answered
    /// VMW_BALLOON_ERROR_RESET again and changes nothing. GUEST_ID is informative (mainline only logs
    /// its failure, and may send VMCI_DOORBELL_SET between START and GUEST_ID), so the host does not
    /// wait for it. A RESET fault forgets every locked page and answers VMW_BALLOON_ERROR_RESET; on a
    /// START it is a START that fails.
    /// </summary>
    public static uint Receive(ref BalloonState s, uint cmd, HostFault fault)
    {
        if (fault == HostFault.Reset && s.Resets > 0)
        {
            s.Budget--;
            s.HostLocked = 0;
            s.HostPhase = 1;
            s.Set(BalloonState.ResetSeen, true);
            return ErrorReset;
        }
        if (s.HostPhase == 1)
        {
            if (cmd != CmdStart) return ErrorReset; // START is still owed: refused, nothing done
            s.HostPhase = 0;
        }
        return Success;
    }

    /// <summary>
    /// The guest leaves reset handling (reset_pending / reset_required = false): the host must have
    /// accepted a START since it last answered RESET, or the guest runs on while the host refuses
    /// everything but START.
    /// </summary>
    public void ResetCleared(ref BalloonState s, string who)
    {
        if (s.HostPhase != 0)
            Break(ref s, BalloonInvariant.ResetOrder, $"{who} clears the reset while the host still owes it a successful START");
    }

    /// <summary>The host locks or unlocks one page by the PFN it received; a refusal leaves it alone.</summary>
    public uint Page(ref BalloonState s, bool lockIt, ulong wirePfn, bool refuse)
    {
        byte page = Bounds.PageOf(wirePfn);
        if (lockIt)
        {
            if (refuse && s.Refusals > 0)
            {
                s.Budget -= 1 << 2;
                s.Set(BalloonState.RefusalSeen, true);
                return ErrorPpnPinned;
            }
            if ((s.HostLocked & page) != 0)
            {
                Break(ref s, BalloonInvariant.LockOnce, $"LOCK of PFN 0x{wirePfn:x}, which the host already holds locked");
                return ErrorPpnLocked;
            }
            s.HostLocked |= page;
            return Success;
        }
        if ((s.HostLocked & page) == 0)
        {
            Break(ref s, BalloonInvariant.LockOnce, $"UNLOCK of PFN 0x{wirePfn:x}, which the host does not hold locked");
            return ErrorPpnUnlocked;
        }
        s.HostLocked &= (byte)~page;
        return Success;
    }

    /// <summary>The PFN a design puts on the wire for page <paramref name="p"/>: truncated to 32 bits or whole.</summary>
    public ulong Wire(ref BalloonState s, int p, BalloonDesign design, bool batched)
    {
        ulong pfn = Bounds.Pfn(p);
        ulong wire = design.WirePfn(pfn, batched);
        if (wire != pfn) Break(ref s, BalloonInvariant.PfnFits, $"page {p}'s PFN 0x{pfn:x} (bound high-pfn: ≥ 16 TiB of guest memory) goes on the wire as 0x{wire:x}: the host acts on {Name(Bounds.PageOf(wire))}");
        return wire;
    }

    /// <summary>Whether requests go as one batched command: the design batches and the bounds allow it (batch=yes).</summary>
    public bool Batching(BalloonDesign design) => design.Batched && Bounds.Batch;

    /// <summary>The lowest page of the request in flight not yet answered.</summary>
    public static int NextPage(in BalloonState s) => BitOperations.TrailingZeroCount(s.ReqPages & ~s.Answered);

    /// <summary>Page <paramref name="page"/> of the request is answered PFN_OK (<paramref name="ok"/>) or PFN_FAIL: once, or answered-once breaks.</summary>
    public void Answer(ref BalloonState s, int page, bool ok)
    {
        byte bit = (byte)(1 << page);
        if ((s.Answered & bit) != 0) Break(ref s, BalloonInvariant.AnsweredOnce, $"page {page} is answered twice");
        s.Answered |= bit;
        if (ok) s.AnswerOk |= bit; else s.AnswerOk &= (byte)~bit;
    }

    public static string Name(byte pageBit) => pageBit == BalloonState.Alien ? "a page the guest does not have" : $"page {BitOperations.TrailingZeroCount(pageBit)}";

    // ---- GET_TARGET answers and config space ---------------------------------------

    /// <summary>An actor received a GET_TARGET answer: the other actor's different answer, if it holds one, is now the older.</summary>
    public static void Answered(ref byte own, ref byte ownFlags, byte otherValue, ref byte otherFlags, byte value)
    {
        own = value;
        ownFlags = BalloonState.AnswerValid;
        if ((otherFlags & BalloonState.AnswerValid) != 0 && otherValue != value) otherFlags |= BalloonState.AnswerOlder;
    }

    /// <summary>
    /// bdev->config.num_pages = answer: truncated to a u32 or refused when it does not fit, as the
    /// design says. An answer older than one already written is a stale overwrite.
    /// </summary>
    public void WriteTarget(ref BalloonState s, byte answer, ref byte ownFlags, ref byte otherFlags, BalloonDesign design, string who)
    {
        ulong value = BalloonBounds.TargetValue(answer);
        if ((ownFlags & BalloonState.AnswerNewerWritten) != 0)
            Break(ref s, BalloonInvariant.TargetFresh, $"{who} writes num_pages = {value}, an answer older than the one already written ({BalloonBounds.TargetValue(s.NumPages)})");
        if ((otherFlags & (BalloonState.AnswerValid | BalloonState.AnswerOlder)) == (BalloonState.AnswerValid | BalloonState.AnswerOlder))
            otherFlags |= BalloonState.AnswerNewerWritten;
        ownFlags = 0;
        s.Set(BalloonState.TargetCurrent, true);
        if (design.StoredTarget(value) is not { } stored) return; // refused: the guest keeps acting on the last target it could hold
        if (stored != value)
            Break(ref s, BalloonInvariant.TargetGiven, $"GET_TARGET answered {value} pages (bound huge-target: a host that breaks protocol v2, above the 32-bit limit the guest sent); the guest stores it in a u32 and acts on {stored}");
        s.NumPages = stored == value ? answer : (byte)stored;
    }
}
