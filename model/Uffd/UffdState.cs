using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Multikernel.Model.Uffd;

/// <summary>
/// One page of the address space with the attributes of the VMA it lies in. A VMA is a
/// maximal run of pages with equal type, vm_flags and context, so splitting and merging
/// VMAs on register / unregister (vma_merge, split_vma) is what the representation does.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct UffdPage
{
    public MemType Type;
    /// <summary>vma->vm_userfaultfd_ctx.ctx: 0, or context 1..n.</summary>
    public byte Ctx;
    /// <summary>The page is in the page cache (shmem / hugetlbfs): a fault with PTE none is a minor fault.</summary>
    public byte Cached;
    /// <summary>PTE: <see cref="PteNone"/>, <see cref="PtePresent"/>, <see cref="PteUffdWp"/>.</summary>
    public byte Pte;
    /// <summary>
    /// A thread blocked in handle_userfault() on this page: the reason's register mode in the low
    /// bits and its context's number in the high nibble (it waits on that context's queue), or 0.
    /// </summary>
    public byte Waiter;
    /// <summary>Ghost: the register modes the page's context asked for (UFFDIO_REGISTER_MODE_*).</summary>
    public byte RegModes;
    /// <summary>Ghost: the user's mlock state (mlock2 / munlock), whatever vm_flags says.</summary>
    public byte UserLocked;
    public ulong VmFlags;

    public const byte PteNone = 0, PtePresent = 1, PteUffdWp = 2;

    public readonly int WaiterCtx => Waiter >> 4;
    public readonly byte WaiterModes => (byte)(Waiter & 0xf);
}

/// <summary>A userfaultfd context, from userfaultfd(2) to close.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct UffdCtx
{
    public const byte Open = 0, Ready = 1, Released = 2;
    /// <summary>Open (waiting for UFFDIO_API), Ready, Released.</summary>
    public byte State;
    /// <summary>Negotiated features: <see cref="Sigbus"/>, <see cref="EventFork"/>, <see cref="EventRemap"/>.</summary>
    public byte Features;
    public const byte Sigbus = 1, EventFork = 2, EventRemap = 4;
}

[InlineArray(UffdBounds.Pages)] public struct UffdPageArray { private UffdPage _e; }
[InlineArray(UffdBounds.MaxContexts)] public struct UffdCtxArray { private UffdCtx _e; }

/// <summary>One mm and its userfaultfd contexts, packed and unmanaged for the explorer.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct UffdState
{
    public UffdPageArray Pages;
    public UffdCtxArray Ctxs;
    /// <summary>Bit i: event invariant i was broken on the way here.</summary>
    public ushort Broken;
    /// <summary>
    /// The walk whose BUG_ON fired (<see cref="BugRelease"/>, <see cref="BugRegister"/>,
    /// <see cref="BugUnregister"/>), or 0: the kernel has stopped, no step follows.
    /// </summary>
    public byte Bug;
    /// <summary>The page of the VMA the BUG_ON fired on.</summary>
    public byte BugPage;
    /// <summary>
    /// 1 + the page of a forked child's VMA that has a context and no uffd bit (or the reverse),
    /// or 0. The child is not modelled further; its userfaultfd (the one UFFD_EVENT_FORK hands the
    /// monitor) can still be closed while it lives.
    /// </summary>
    public byte ChildBad;

    public const byte BugRelease = 1, BugRegister = 2, BugUnregister = 3, BugChildRelease = 4;

    public static string BugWalk(byte bug) => bug switch
    {
        BugRelease => "userfaultfd_release()",
        BugChildRelease => "userfaultfd_release() of the child's userfaultfd",
        BugRegister => "userfaultfd_register()",
        BugUnregister => "userfaultfd_unregister()",
        _ => "?",
    };
}
