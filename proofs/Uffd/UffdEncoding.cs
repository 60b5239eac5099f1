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
        BoolTerm hugetlb = Hugetlb(type);
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

    /// <summary>The union of the other VM_* flags of the design's build (all 64 bits of them).</summary>
    public ulong OtherFlagsMask => Mask(d.OtherVmFlags);

    /// <summary>A hugetlbfs memory type.</summary>
    public static BoolTerm Hugetlb(BitVec type) => type.Eq((ulong)MemType.HugetlbShared) | type.Eq((ulong)MemType.HugetlbPrivate);

    /// <summary>
    /// The flags the rest of the kernel can give a VMA of this type, besides userfaultfd: any of the
    /// build's other flags, except that a hugetlbfs VMA is never VM_LOCKED or VM_LOCKONFAULT
    /// (mlock_fixup() skips is_vm_hugetlb_page(); mmap_region() clears both there).
    /// </summary>
    public BoolTerm EnvironmentFlags(BitVec other, BitVec type) =>
        (other & ~OtherFlagsMask).Eq(0) & Hugetlb(type).Implies((other & (VmLocked | VmLockonfault)).Eq(0));
}
