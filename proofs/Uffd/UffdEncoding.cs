using Multikernel.Model.Uffd;
using Multikernel.Proofs.Z3;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Proofs.Uffd;

/// <summary>
/// <see cref="UffdDesign"/>'s flag logic as Z3 terms over 64-bit vm_flags, one for one with
/// its C# (VmFlagsOf, FaultReason, MessageFlags), from the design's own constants. A test
/// evaluates both on random concrete inputs, so the proofs are about the same functions.
/// </summary>
public sealed class UffdEncoding(Z3Context z, UffdDesign d)
{
    public const uint Width = 64;

    private BitVec K(ulong v) => z.Num(v, Width);
    private static BoolTerm Set(BitVec v, ulong bit) => !(v & bit).Eq(0);

    /// <summary>__VM_UFFD_FLAGS.</summary>
    public ulong UffdFlags => d.VmUffdFlags;

    /// <summary>VmFlagsOf(mode).</summary>
    public BitVec VmFlagsOf(BitVec mode) =>
        BitVec.Ite(Set(mode, UffdioRegisterModeMissing), K(VmUffdMissing), K(0)) |
        BitVec.Ite(Set(mode, UffdioRegisterModeWp), K(VmUffdWp), K(0)) |
        BitVec.Ite(Set(mode, UffdioRegisterModeMinor), K(d.VmUffdMinor), K(0));

    /// <summary>FaultReason(type, vm_flags, cached); type holds a <see cref="MemType"/> value.</summary>
    public BitVec FaultReason(BitVec type, BitVec vmFlags, BoolTerm cached)
    {
        BoolTerm hugetlb = type.Eq((ulong)MemType.HugetlbShared) | type.Eq((ulong)MemType.HugetlbPrivate);
        BoolTerm shmem = type.Eq((ulong)MemType.ShmemShared) | type.Eq((ulong)MemType.ShmemPrivate);
        BoolTerm minorPath = cached & (d.MinorOnShmem ? hugetlb | shmem : hugetlb);
        BitVec minorReason = d.Has(UffdDesign.Defect.BothReasons) ? vmFlags & (d.VmUffdMinor | VmUffdMissing) : K(d.VmUffdMinor);
        return BitVec.Ite(minorPath & Set(vmFlags, d.VmUffdMinor), minorReason,
               BitVec.Ite(!cached & Set(vmFlags, VmUffdMissing), K(VmUffdMissing), K(0)));
    }

    /// <summary>MessageFlags(reason, write).</summary>
    public BitVec MessageFlags(BitVec reason, BoolTerm write) =>
        BitVec.Ite(write, K(UffdPagefaultFlagWrite), K(0)) |
        BitVec.Ite(Set(reason, VmUffdWp), K(UffdPagefaultFlagWp), K(0)) |
        BitVec.Ite(Set(reason, d.VmUffdMinor) & (d.Has(UffdDesign.Defect.NoMinorFlag) ? z.False : z.True),
            K(UffdPagefaultFlagMinor), K(0));

    /// <summary>The union of the build's other VM_* flags.</summary>
    public static ulong OtherFlagsMask => OtherVmFlags.Aggregate(0UL, (m, f) => m | f.Value);
}
