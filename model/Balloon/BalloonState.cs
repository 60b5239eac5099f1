using System.Runtime.InteropServices;

namespace Multikernel.Model.Balloon;

/// <summary>
/// The guest (virtio_balloon over the VMware transport, or the mainline driver), the poll timer,
/// and the hypervisor, packed and unmanaged for the explorer. Page i of the guest has PFN
/// <see cref="BalloonBounds.Pfn"/>(i); sets of pages are bit masks (bit 7: a PFN the guest does not have).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct BalloonState
{
    // ---- the hypervisor ----
    /// <summary>The pages the host holds locked (bit i: page i; <see cref="Alien"/>: a PFN of no guest page).</summary>
    public byte HostLocked;
    /// <summary>The host's target: a page count 0..pages, or <see cref="BalloonBounds.TargetHuge"/>.</summary>
    public byte HostTarget;
    /// <summary>0 running; 1 START owed (at boot, and after the host answered RESET): the host refuses everything else.</summary>
    public byte HostPhase;
    /// <summary>What the host may still do: resets (bits 0-1), refusals (2-3), target changes (4-5).</summary>
    public byte Budget;

    // ---- the guest driver ----
    /// <summary>The negotiated virtio features (vmballoon_get_features()).</summary>
    public byte Features;
    /// <summary>config.num_pages: the target the guest acts on (a value index, as <see cref="HostTarget"/>).</summary>
    public byte NumPages;
    public byte Flags;
    /// <summary>The pages the guest believes are in the balloon (locked with the host).</summary>
    public byte Ballooned;
    /// <summary>Pages the host refused, kept aside until the inflation cycle ends (mainline's refused_pages).</summary>
    public byte Refused;
    /// <summary>The balloon size the driver counts (b->size).</summary>
    public byte Size;

    // ---- the guest's balloon thread: config read, add_buf, kick, get_buf ----
    public byte GuestPc;
    public byte GuestAnswer, GuestAnswerFlags;
    /// <summary>The request in flight: 0 none, <see cref="Inflate"/>, <see cref="Deflate"/>.</summary>
    public byte Req;
    public byte ReqPages, Answered, AnswerOk;
    /// <summary>The next page of the request to send (unbatched).</summary>
    public byte Cursor;
    /// <summary>The request's token: 0 not queued, 1 with the transport, 2 given back by get_buf.</summary>
    public byte Token;

    // ---- the poll timer (mainline: the balloon work's reset and target half) ----
    public byte TimerPc;
    public byte TimerAnswer, TimerAnswerFlags;

    /// <summary>The device's lifetime: <see cref="DevNew"/> … <see cref="DevProbeFailed"/>.</summary>
    public byte Device;

    /// <summary>
    /// Not registered yet; registered and probing (find_vqs()); bound (the balloon thread runs);
    /// registration failed and given back; probe failed after find_vqs() (no driver, the timer
    /// armed); probe failed in find_vqs() (STATS_VQ negotiated: three queues asked, -EINVAL; nothing armed).
    /// </summary>
    public const byte DevNew = 0, DevProbing = 1, DevBound = 2, DevGone = 3, DevProbeFailed = 4, DevNoBind = 5;

    /// <summary>Bit i: event property i was broken on the way here.</summary>
    public ushort Broken;

    public const byte Alien = 0x80;
    public const byte Inflate = 1, Deflate = 2;

    // Flags
    public const byte TargetCurrent = 1, ResetPending = 2, ResetCompleted = 4, GuestHoldsLock = 8, TimerHoldsLock = 16,
        ResetSeen = 32, RefusalSeen = 64, GaveUp = 128;

    // An answer's ghost flags: valid; older (the other actor has since received a different, newer
    // answer); newer written (that newer answer is already in config space).
    public const byte AnswerValid = 1, AnswerOlder = 2, AnswerNewerWritten = 4;

    public readonly bool Has(byte flag) => (Flags & flag) != 0;
    public void Set(byte flag, bool on) => Flags = on ? (byte)(Flags | flag) : (byte)(Flags & ~flag);

    public readonly int Resets => Budget & 3;
    public readonly int Refusals => (Budget >> 2) & 3;
    public readonly int Changes => (Budget >> 4) & 3;
    public readonly bool HostQuiet => (Budget & 0x3f) == 0;
}
