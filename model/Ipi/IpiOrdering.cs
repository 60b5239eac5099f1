using System.Text;
using Multikernel.Model.Memory;

namespace Multikernel.Model.Ipi;

/// <summary>
/// How the reference ring's shared accesses are ordered, access by access: the publish/consume path
/// (fill the slot, publish its state; the drain reads the state, then copies the slot) and the reuse
/// path (the drain copies the slot, then advances tail; a sender reads tail, claims with a fully
/// ordered cmpxchg on head, then fills the slot again). The sequential specification (IpiSpec) makes
/// every step atomic and cannot see any of this; <see cref="Tests"/> turns each ordering into two
/// C litmus tests that <see cref="MemoryModel"/> answers under sc, tso and lkmm, and that herd7 reads.
/// The slot's payload is memcpy() in C; here it is one WRITE_ONCE / READ_ONCE of a word, because
/// LKMM's rules for plain accesses (data races) are not modelled: the ordering is checked, a race on
/// the bytes themselves is not.
/// </summary>
public sealed record IpiOrdering(string Name, string Summary,
    Ordering Publish, bool WmbBeforePublish, Ordering DrainState, bool RmbAfterState,
    Ordering TailStore, Ordering TailLoad, bool ClaimCmpxchg)
{
    /// <summary>The reference: smp_store_release publishes, the drain's smp_load_acquire consumes, tail moves by release/acquire, the claim's cmpxchg is fully ordered.</summary>
    public static readonly IpiOrdering Reference = new("reference",
        "smp_store_release(&slot->state, READY); drain: smp_load_acquire(&slot->state); smp_store_release(&ring->tail, t + 1); claim: smp_load_acquire(&ring->tail), cmpxchg(&ring->head, …)",
        Ordering.Release, false, Ordering.Acquire, false, Ordering.Release, Ordering.Acquire, true);

    /// <summary>The same ring with barriers instead of release/acquire on the slot state (correct too).</summary>
    public static readonly IpiOrdering Barriers = Reference with
    {
        Name = "ref-barriers", Summary = "fill; smp_wmb(); WRITE_ONCE(slot->state, READY); drain: READ_ONCE(slot->state); smp_rmb(); copy",
        Publish = Ordering.Once, WmbBeforePublish = true, DrainState = Ordering.Once, RmbAfterState = true,
    };

    /// <summary>The reference with one ordering removed each: caught under lkmm, invisible under sc.</summary>
    public static readonly IReadOnlyList<IpiOrdering> Mutants =
    [
        Reference with { Name = "ref-publish-once", Summary = "the publish is WRITE_ONCE(slot->state, READY): smp_store_release → WRITE_ONCE", Publish = Ordering.Once },
        Reference with { Name = "ref-drain-once", Summary = "the drain reads READ_ONCE(slot->state): smp_load_acquire → READ_ONCE", DrainState = Ordering.Once },
        Barriers with { Name = "ref-barriers-no-wmb", Summary = "ref-barriers without the smp_wmb() between the fill and the publish", WmbBeforePublish = false },
        Reference with { Name = "ref-tail-once", Summary = "the drain advances tail with WRITE_ONCE: smp_store_release(&ring->tail) → WRITE_ONCE", TailStore = Ordering.Once },
    ];

    /// <summary>Correct variants kept beside the mutants: what is not a bug, and why.</summary>
    public static readonly IReadOnlyList<IpiOrdering> Correct =
    [
        Reference,
        Barriers,
        Reference with
        {
            Name = "ref-tail-load-once", Summary = "the claim reads tail with READ_ONCE: still ordered, by the fully ordered cmpxchg on head that a claim must win before it fills",
            TailLoad = Ordering.Once,
        },
    ];

    public static IEnumerable<IpiOrdering> All => Correct.Concat(Mutants);

    public static IpiOrdering? Find(string name) =>
        All.FirstOrDefault(o => string.Equals(o.Name, name, StringComparison.OrdinalIgnoreCase) ||
                                string.Equals("ipi/" + o.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>A property of the ordering, as a litmus test whose exists clause is the violation.</summary>
    public sealed record OrderingProperty(string Name, string Meaning, string Litmus);

    public IReadOnlyList<OrderingProperty> Tests() =>
    [
        new("payload-visible", "a drain that sees the slot READY copies the payload the sender wrote, not what was there before", PublishTest()),
        new("slot-reuse", "a sender that sees tail advanced past a slot cannot overwrite it before the drain's copy of it", ReuseTest()),
    ];

    /// <summary>
    /// What <c>audit --litmus</c> writes: <see cref="Tests"/> and the slot-free test, the S shape through which
    /// <c>audit --memory-model lkmm</c> catches a tail store that is not a release.
    /// </summary>
    public IReadOnlyList<OrderingProperty> Exports() =>
    [
        .. Tests(),
        new("slot-free", "the drain's store that frees a slot is visible before tail says the slot is free, so it cannot land after the next sender's publish of that slot", SlotFreeTest()),
    ];

    /// <summary>
    /// S: the drain frees slot (state = FREE), then advances tail; a sender that sees tail advanced, and wins the claim,
    /// publishes the slot READY again. The violation: the drain's FREE lands last, and the new message is never drained.
    /// </summary>
    public string SlotFreeTest()
    {
        var sb = new StringBuilder(Header("slot-free", "slot free and reuse (the drain's FREE against the next publish)"));
        sb.Append("{ state=2; tail=0; head=1; }\n\n");
        sb.Append("P0(int *state, int *tail, int *head)\n{\n\tint r0;\n\tint r1;\n\n\t").Append(Load(TailLoad, "r0", "tail")).Append('\n');
        string publish = WmbBeforePublish ? "{\n\t\tsmp_wmb();\n\t\t" + Store(Publish, "state", "2") + "\n\t}" : Store(Publish, "state", "2");
        if (ClaimCmpxchg) sb.Append("\tr1 = cmpxchg(head, 1, 2);\n\tif (r1 == 1)\n\t\t").Append(publish).Append("\n}\n\n");
        else sb.Append('\t').Append(publish).Append("\n}\n\n");
        sb.Append("P1(int *state, int *tail)\n{\n\tWRITE_ONCE(*state, 0);\n\t").Append(Store(TailStore, "tail", "1")).Append("\n}\n\n");
        sb.Append(ClaimCmpxchg ? "exists (0:r0=1 /\\ 0:r1=1 /\\ state=0)\n" : "exists (0:r0=1 /\\ state=0)\n");
        return sb.ToString();
    }

    private static string Store(Ordering o, string loc, string v) => o switch
    {
        Ordering.Release => $"smp_store_release({loc}, {v});",
        _ => $"WRITE_ONCE(*{loc}, {v});",
    };

    private static string Load(Ordering o, string reg, string loc) => o switch
    {
        Ordering.Acquire => $"{reg} = smp_load_acquire({loc});",
        _ => $"{reg} = READ_ONCE(*{loc});",
    };

    private string Header(string property, string what) =>
        $"C ipi-{Name}-{property}\n\n(*\n * Multikernel.Verified: the IPI ring's {what}, ordered as design ipi/{Name} orders it.\n" +
        $" * {Summary}\n * P0 is the sending CPU, P1 the receiving CPU's drain (irq_work).\n *)\n\n";

    /// <summary>MP: fill the payload, publish READY; the drain reads the state, then the payload.</summary>
    public string PublishTest()
    {
        var sb = new StringBuilder(Header("payload-visible", "publish/consume path"));
        sb.Append("{ payload=0; state=0; }\n\n");
        sb.Append("P0(int *payload, int *state)\n{\n\tWRITE_ONCE(*payload, 1);\n");
        if (WmbBeforePublish) sb.Append("\tsmp_wmb();\n");
        sb.Append('\t').Append(Store(Publish, "state", "1")).Append("\n}\n\n");
        sb.Append("P1(int *payload, int *state)\n{\n\tint r0;\n\tint r1;\n\n\t").Append(Load(DrainState, "r0", "state")).Append('\n');
        if (RmbAfterState) sb.Append("\tsmp_rmb();\n");
        sb.Append("\tr1 = READ_ONCE(*payload);\n}\n\n");
        sb.Append("exists (1:r0=1 /\\ 1:r1=0)\n");
        return sb.ToString();
    }

    /// <summary>
    /// LB: message 1 sits in the slot; the drain copies it, then advances tail. A sender of message 2
    /// reads tail, claims (cmpxchg on head), and fills the same slot. The violation: the drain's copy
    /// of message 1 holds message 2's payload.
    /// </summary>
    public string ReuseTest()
    {
        var sb = new StringBuilder(Header("slot-reuse", "slot reuse after the drain advances tail"));
        sb.Append("{ payload=1; tail=0; head=1; }\n\n");
        sb.Append("P0(int *payload, int *tail, int *head)\n{\n\tint r0;\n\tint r1;\n\tint r2;\n\n\t").Append(Load(TailLoad, "r0", "tail")).Append('\n');
        // The fill runs only when the claim won: inside the branch on the cmpxchg's result.
        if (ClaimCmpxchg) sb.Append("\tr1 = cmpxchg(head, 1, 2);\n\tif (r1 == 1)\n\t\tWRITE_ONCE(*payload, 2);\n}\n\n");
        else sb.Append("\tWRITE_ONCE(*payload, 2);\n}\n\n");
        sb.Append("P1(int *payload, int *tail)\n{\n\tint r0;\n\n\tr0 = READ_ONCE(*payload);\n\t").Append(Store(TailStore, "tail", "1")).Append("\n}\n\n");
        sb.Append(ClaimCmpxchg ? "exists (0:r0=1 /\\ 0:r1=1 /\\ 1:r0=2)\n" : "exists (0:r0=1 /\\ 1:r0=2)\n");
        return sb.ToString();
    }
}
