// One source of truth: this file is compiled into the model and, with MK_IMPL defined,
// into the implementation (which depends on nothing), so the spec, the proofs and the
// code that gets ported read the same numbers.
#if MK_IMPL
namespace Multikernel.Impl.Ipi;

internal static class IpiConstants
#else
namespace Multikernel.Model.Ipi;

/// <summary>The constants of include/linux/multikernel.h and kernel/multikernel/ipi.c, defined once.</summary>
public static class IpiConstants
#endif
{
    /// <summary>MK_MAX_DATA_SIZE: the payload bytes of one mk_ipi_data.</summary>
    public const int MkMaxDataSize = 256;
    /// <summary>MK_MAX_INSTANCES: instance ids are 0..255.</summary>
    public const int MkMaxInstances = 256;
    /// <summary>MK_PFN_IPI_TYPE: the type mk_send_pfn uses.</summary>
    public const uint MkPfnIpiType = 0x80000001U;
    /// <summary>Slots of the reference design's per-CPU ring, as in later multikernel revisions (multikernel is not in mainline).</summary>
    public const int MkIpiRingMax = 64;

    /// <summary>Slot states of the reference ring (the seeds have none).</summary>
    public const byte SlotFree = 0, SlotClaimed = 1, SlotReady = 2;
}
