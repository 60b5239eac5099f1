// One source of truth: compiled into the model and, with MK_IMPL, into the implementation.
#if MK_IMPL
namespace Multikernel.Impl.Balloon;
#else
namespace Multikernel.Model.Balloon;
#endif

/// <summary>
/// The VMware balloon backdoor protocol as seed 002 (2010) and mainline drivers/misc/vmw_balloon.c
/// define it: the port, the magic, command codes, statuses, capabilities, the virtio balloon
/// features and per-page answers, and the batch page's entry format. Defined once.
/// </summary>
public static class BalloonConstants
{
    public const ushort HvPort = 0x5670;               // VMW_BALLOON_HV_PORT
    public const uint HvMagic = 0x456c6d6f;             // VMW_BALLOON_HV_MAGIC
    public const uint ProtocolVersion = 2;              // VMW_BALLOON_PROTOCOL_VERSION (seed)
    public const uint GuestIdLinux = 1;                 // VMW_BALLOON_GUEST_ID

    // Commands: the seed's five, and mainline's batched ones.
    public const uint CmdStart = 0, CmdGetTarget = 1, CmdLock = 2, CmdUnlock = 3, CmdGuestId = 4;
    public const uint CmdBatchedLock = 6, CmdBatchedUnlock = 7;

    // Statuses (VMW_BALLOON_SUCCESS … VMW_BALLOON_ERROR_BUSY).
    public const uint Success = 0;
    public const uint ErrorCmdInvalid = 1, ErrorPpnInvalid = 2, ErrorPpnLocked = 3, ErrorPpnUnlocked = 4;
    public const uint ErrorPpnPinned = 5, ErrorPpnNotNeeded = 6, ErrorReset = 7, ErrorBusy = 8;
    /// <summary>START's answer when the host reports capabilities (mainline).</summary>
    public const uint SuccessWithCapabilities = 0x03000000;

    // Capabilities START negotiates (mainline).
    public const uint CapBasicCmds = 1 << 1, CapBatchedCmds = 1 << 2;

    // include/uapi/linux/virtio_balloon.h feature bits, and the per-page answers of seed 002's
    // host-may-refuse protocol (pfns_state[]).
    public const int VirtioBalloonFMustTellHost = 0, VirtioBalloonFStatsVq = 1, VirtioBalloonFHostMayRefuse = 2;
    public const uint OfferedFeatures = (1u << VirtioBalloonFMustTellHost) | (1u << VirtioBalloonFHostMayRefuse);
    public const byte PfnOk = 0, PfnFail = 1;            // VIRTIO_BALLOON_PFN_OK / _FAIL

    // The batch page (mainline struct vmballoon_batch_entry): a u64 per page, status in bits
    // 0-4, reserved to bit PAGE_SHIFT - 1, the PFN above; a 4 KiB page holds 512 entries.
    public const int PageShift = 12;
    public const int BatchStatusBits = 5;
    public const ulong BatchStatusMask = (1UL << BatchStatusBits) - 1;
    public const int BatchMaxPages = 4096 / sizeof(ulong);
    /// <summary>The widest PFN an entry carries: 64 - PAGE_SHIFT bits.</summary>
    public const ulong BatchMaxPfn = (1UL << (64 - PageShift)) - 1;

    /// <summary>An entry: the PFN above PAGE_SHIFT, the status in the low bits. The PFN must fit (<see cref="BatchMaxPfn"/>).</summary>
    public static ulong BatchEntry(ulong pfn, uint status) => (pfn << PageShift) | (status & BatchStatusMask);
    public static ulong BatchPfn(ulong entry) => entry >> PageShift;
    public static uint BatchStatus(ulong entry) => (uint)(entry & BatchStatusMask);

    /// <summary>LOCK / UNLOCK and GET_TARGET carry 32-bit values in the unbatched protocol: a value that does not fit is refused, never truncated.</summary>
    public static bool Fits32(ulong value) => value == (uint)value;
}
