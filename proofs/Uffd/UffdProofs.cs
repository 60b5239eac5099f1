using Multikernel.Model.Uffd;
using Multikernel.Proofs.Obligations;
using Multikernel.Proofs.Z3;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Proofs.Uffd;

/// <summary>The uffd flag obligations of a design, for all vm_flags, modes, memory types and accesses.</summary>
public static class UffdProofs
{
    private const uint W = UffdEncoding.Width;

    private static BoolTerm OneBit(BitVec v) => !v.Eq(0) & (v & (v - 1)).Eq(0);

    /// <summary>The obligations of a design the encoding describes (<see cref="Model.Checking.ProofEncodedAttribute"/>); null for any other: not proved.</summary>
    public static IReadOnlyList<Obligation>? ForDesign(Model.Checking.IDesign design) =>
        design is UffdDesign d && Model.Checking.ProofEncodedAttribute.On(d) ? For(d) : null;

    public static IReadOnlyList<Obligation> For(UffdDesign d) =>
    [
        new("uffd.fault-reason",
            "every fault path passes handle_userfault() one bit of __VM_UFFD_FLAGS, and one the VMA was registered for (hugetlbfs is never mlocked)",
            UffdInvariants.Source(UffdInvariant.RegisteredFault),
            z =>
            {
                var e = new UffdEncoding(z, d);
                var other = z.BitVec("other_vm_flags", W);   // any of the build's other flags (VM_LOCKED …)
                var mode = z.BitVec("register_mode", W);     // what UFFDIO_REGISTER asked for (0: never registered)
                var type = z.BitVec("mem_type", W);
                var cached = z.BitVec("page_cached", W);
                var registered = e.VmFlagsOf(mode);
                var vmFlags = other | registered;
                var reason = e.FaultReason(type, vmFlags, cached.Eq(1));
                var domain = e.EnvironmentFlags(other, type) & mode.ULe(7) &
                             type.UGe((ulong)MemType.Anon) & type.ULe((ulong)MemType.HugetlbPrivate) & cached.ULe(1);
                var claim = domain.Implies(reason.Eq(0) | (OneBit(reason) & (reason & ~e.UffdFlags).Eq(0) & (reason & registered).Eq(reason)));
                return new Goal(claim, [("vm_flags", vmFlags), ("register_mode", mode), ("mem_type", type), ("page_cached", cached), ("reason", reason)])
                {
                    Names = new Dictionary<string, Func<ulong, string>>
                    {
                        ["vm_flags"] = v => FlagNames(d, v & e.OtherFlagsMask),
                        ["mem_type"] = v => MemTypes.Name((MemType)v),
                    },
                };
            }),

        new("uffd.modes-injective",
            "each register mode maps to its own vm_flags, all inside __VM_UFFD_FLAGS",
            "seed 004: if (uffdio_register.mode & UFFDIO_REGISTER_MODE_MINOR) vm_flags |= VM_UFFD_MINOR;",
            z =>
            {
                var e = new UffdEncoding(z, d);
                var m1 = z.BitVec("mode_a", W);
                var m2 = z.BitVec("mode_b", W);
                var f1 = e.VmFlagsOf(m1);
                var domain = m1.ULe(7) & m2.ULe(7) & !m1.Eq(m2);
                var claim = domain.Implies(!f1.Eq(e.VmFlagsOf(m2)) & (f1 & ~e.UffdFlags).Eq(0));
                return new Goal(claim, [("mode_a", m1), ("mode_b", m2), ("vm_flags_a", f1)]);
            }),

        new("uffd.unregistered-clean",
            "a VMA no userfaultfd registered has no bit of __VM_UFFD_FLAGS, whatever flags the rest of the kernel gives it (the walks' BUG_ON)",
            UffdInvariants.Source(UffdInvariant.NoKernelBug),
            z =>
            {
                var e = new UffdEncoding(z, d);
                var other = z.BitVec("vm_flags", W);    // what mmap, mlock, madvise … left: no UFFDIO_REGISTER
                var type = z.BitVec("mem_type", W);
                var domain = e.EnvironmentFlags(other, type) & type.UGe((ulong)MemType.Anon) & type.ULe((ulong)MemType.HugetlbPrivate);
                var claim = domain.Implies((other & e.UffdFlags).Eq(0));
                return new Goal(claim, [("vm_flags", other), ("mem_type", type)])
                {
                    Names = new Dictionary<string, Func<ulong, string>>
                    {
                        ["vm_flags"] = v => FlagNames(d, v & e.UffdFlags),
                        ["mem_type"] = v => MemTypes.Name((MemType)v),
                    },
                };
            }),

        new("uffd.bits-disjoint",
            "no bit of __VM_UFFD_FLAGS is a bit of any other VM_* flag of the build",
            UffdInvariants.Source(UffdInvariant.UffdBitsDisjoint),
            z =>
            {
                var bit = z.BitVec("shared_bit", W);
                var e = new UffdEncoding(z, d);
                var claim = OneBit(bit).Implies((bit & e.UffdFlags).Eq(0) | (bit & e.OtherFlagsMask).Eq(0));
                return new Goal(claim, [("shared_bit", bit)]) { Names = new Dictionary<string, Func<ulong, string>> { ["shared_bit"] = v => FlagNames(d, v) } };
            }),

        new("uffd.message-flags",
            "the message says WRITE exactly for a write, WP exactly for VM_UFFD_WP, MINOR exactly for VM_UFFD_MINOR",
            UffdInvariants.Source(UffdInvariant.MessageFlags),
            z =>
            {
                var e = new UffdEncoding(z, d);
                var reason = z.BitVec("reason", W);
                var write = z.BitVec("write", W);
                var flags = e.MessageFlags(reason, write.Eq(1));
                static BoolTerm Has(BitVec v, ulong b) => !(v & b).Eq(0);
                var domain = (reason.Eq(VmUffdMissing) | reason.Eq(VmUffdWp) | reason.Eq(d.VmUffdMinor)) & write.ULe(1);
                var claim = domain.Implies(
                    Has(flags, UffdPagefaultFlagWrite).Iff(write.Eq(1)) &
                    Has(flags, UffdPagefaultFlagWp).Iff(reason.Eq(VmUffdWp)) &
                    Has(flags, UffdPagefaultFlagMinor).Iff(reason.Eq(d.VmUffdMinor)));
                return new Goal(claim, [("reason", reason), ("write", write), ("msg_flags", flags)]);
            }),
    ];

    /// <summary>The names of the design's build's other flags on these bits, for reports.</summary>
    public static string FlagNames(UffdDesign d, ulong bits) =>
        string.Join("|", d.OtherVmFlags.Where(f => (f.Value & bits) != 0).Select(f => f.Name));
}
