using Multikernel.Model.Checking;
using static Multikernel.Model.Checking.PropertyKind;

namespace Multikernel.Model.Ipi;

/// <summary>The IPI properties (docs/ARCHITECTURE.md, the invariants); the value is the property's bit. Sometimes-properties come last.</summary>
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
    SizeChecked,
    Delivered,
    SomeDelivery,
    UnregisterReturns,
    DestroyInFlight,
}

public static class IpiInvariants
{
    private const string Catalogue = "ARCHITECTURE.md invariants (IPI)";

    public static readonly PropertyTable<IpiInvariant> Table = new(
        (IpiInvariant.NoOverwrite, "no-overwrite", Always, "a complete message in shared memory is never overwritten before the receiver has taken it (no lost message; a full mailbox is an error the sender sees)", Catalogue),
        (IpiInvariant.NoCoalescedWork, "no-coalesced-work", Always, "no message is lost to a handler's one irq_work: while the work is pending (irq_work_queue() then returns false and does nothing), or running but its callback has not yet loaded saved_data, saved_data is never redirected away from the message it was dispatched for while that message is still whole in its slot", Catalogue),
        (IpiInvariant.NoSilentDrop, "no-silent-drop", Always, "the receiver never discards a message whose send returned success", Catalogue),
        (IpiInvariant.HandlerType, "handler-type", Always, "a handler sees only messages of its own type, compared on all 64 bits", Catalogue),
        (IpiInvariant.Intact, "intact", Always, "every message the receiver takes, and every callback reads, is one whole message as it was sent: the one dispatched (no torn or stale read)", Catalogue),
        (IpiInvariant.NoDuplicate, "no-duplicate", Always, "no message is delivered twice to its handler", Catalogue),
        (IpiInvariant.UnregisterFinal, "unregister-final", Always, "after multikernel_unregister_handler returns, the handler's callback never runs again", Catalogue),
        (IpiInvariant.IndexBounded, "index-bounded", Always, "ring indices read from shared memory are bounded before use: every slot access is inside the ring", "seed README: indices are masked before use because the other kernel can write them"),
        (IpiInvariant.NoUseAfterFree, "no-use-after-free", Always, "a destroyed instance's IPI area is never written (a destroyed instance receives nothing)", Catalogue),
        (IpiInvariant.SizeChecked, "size-checked", Always, "no callback is handed a data_size above MK_MAX_DATA_SIZE, whatever a peer writes into shared memory (a callback that trusts data_size would read past buffer[]); checked with --hostile-peer", "seed README: the other kernel can write the shared region"),
        (IpiInvariant.Delivered, "delivered", Eventually, "every message whose send returned success is eventually delivered to the handler registered for its type, or to every registered handler where handlers have no type (while both exist)", Catalogue),
        (IpiInvariant.SomeDelivery, "some-delivery", Sometimes, "some message reaches its handler's callback, whole (the invariants above are not vacuous)", Catalogue),
        (IpiInvariant.UnregisterReturns, "unregister-returns", Sometimes, "multikernel_unregister_handler returns while sends are in flight", Catalogue),
        (IpiInvariant.DestroyInFlight, "destroy-in-flight", Sometimes, "destroy completes with a send in flight", Catalogue));

    public static IReadOnlyList<IpiInvariant> All => Table.All;
    public static string Name(IpiInvariant i) => Table.Name(i);
    public static PropertyKind Kind(IpiInvariant i) => Table.Kind(i);
    public static string Statement(IpiInvariant i) => Table.Statement(i);
}
