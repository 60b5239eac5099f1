using Multikernel.Model.Checking;

namespace Multikernel.Model.Ipi;

/// <summary>The IPI invariant catalogue (DESIGN.md); the value is the property's bit.</summary>
public enum IpiInvariant
{
    NoOverwrite,
    NoCoalescedWork,
    NoSilentDrop,
    HandlerType,
    Intact,
    NoDuplicate,
    UnregisterFinal,
    IndexBounded,
    NoUseAfterFree,
    Delivered,
}

public static class IpiInvariants
{
    public static readonly IpiInvariant[] All = Enum.GetValues<IpiInvariant>();

    public static PropertyKind Kind(IpiInvariant i) =>
        i == IpiInvariant.Delivered ? PropertyKind.Eventually : PropertyKind.Always;

    public static string Statement(IpiInvariant i) => i switch
    {
        IpiInvariant.NoOverwrite => "a complete message in shared memory is never overwritten before the receiver has taken it (no lost message; a full mailbox is an error the sender sees)",
        IpiInvariant.NoCoalescedWork => "every dispatch to a handler gets a callback of its own (irq_work is never queued while still pending)",
        IpiInvariant.NoSilentDrop => "the receiver never discards a message whose send returned success",
        IpiInvariant.HandlerType => "a handler sees only messages of its own type, compared on all 64 bits",
        IpiInvariant.Intact => "every message the receiver takes, and every callback reads, is one whole message as it was sent: the one dispatched (no torn or stale read)",
        IpiInvariant.NoDuplicate => "no message is delivered twice to its handler",
        IpiInvariant.UnregisterFinal => "after multikernel_unregister_handler returns, the handler's callback never runs again",
        IpiInvariant.IndexBounded => "ring indices read from shared memory are bounded before use",
        IpiInvariant.NoUseAfterFree => "a destroyed instance's IPI area is never written (a destroyed instance receives nothing)",
        IpiInvariant.Delivered => "every message whose send returned success is eventually delivered to the handler registered for its type (while both exist)",
        _ => throw new ArgumentOutOfRangeException(nameof(i)),
    };

    /// <summary>The property's name as users type it: no-overwrite, delivered, …</summary>
    public static string Name(IpiInvariant i) => i switch
    {
        IpiInvariant.NoOverwrite => "no-overwrite",
        IpiInvariant.NoCoalescedWork => "no-coalesced-work",
        IpiInvariant.NoSilentDrop => "no-silent-drop",
        IpiInvariant.HandlerType => "handler-type",
        IpiInvariant.Intact => "intact",
        IpiInvariant.NoDuplicate => "no-duplicate",
        IpiInvariant.UnregisterFinal => "unregister-final",
        IpiInvariant.IndexBounded => "index-bounded",
        IpiInvariant.NoUseAfterFree => "no-use-after-free",
        IpiInvariant.Delivered => "delivered",
        _ => throw new ArgumentOutOfRangeException(nameof(i)),
    };
}
