using Multikernel.Model.Checking;

namespace Multikernel.Model.Ipi;

/// <summary>What the seeds' IPI findings need beyond a real machine with conforming peers and the callers as posted; declared once.</summary>
public static class IpiPreconditions
{
    /// <summary>A peer kernel that writes the shared region out of protocol; the model's step is behind the bound hostile-peer, off by default.</summary>
    public static readonly Precondition HostilePeer = new("hostile-peer",
        "a peer kernel (hostile or buggy) writes a slot's data_size in the shared region outside the send protocol", Bound: "hostile-peer");

    /// <summary>mk_instance_ipi_destroy() is static in seed 000 and nothing in the posted series calls it.</summary>
    public static readonly Precondition NoDestroyCaller = new("no-caller-yet",
        "mk_instance_ipi_destroy() is static and nothing in the posted series calls it: a later patch that destroys an instance while a CPU is inside multikernel_send_ipi_data() for it reaches this", Bound: "destroy") { Environment = false };

    /// <summary>mk_instance_ipi_create() is static in seed 000 and nothing in patch 13/16 calls it: as posted, every v2 send returns -ENODEV.</summary>
    public static readonly Precondition NoCreateCaller = new("area-created",
        "mk_instance_ipi_create() is static and nothing in patch 13/16 calls it, so as posted mk_instance_ipi_get() returns NULL and every send fails with -ENODEV; the finding needs the later patch that creates an instance's IPI area (the model starts with it created)");

    /// <summary>The only caller in the series passes a 32-bit type.</summary>
    public static readonly Precondition WideType = new("type-above-32-bits",
        "a caller passes multikernel_send_ipi_data() a type of 2^32 or more, which its unsigned long parameter accepts; the series' own caller, mk_send_pfn(), passes MK_PFN_IPI_TYPE 0x80000001");
}
