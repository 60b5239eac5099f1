using static Multikernel.Tests.Cli.CliRun;
using Multikernel.Properties.Explorer;
using Xunit;

namespace Multikernel.Tests.Designs;

/// <summary>
/// Designs of a user's own, in an assembly of their own (this one), loaded with --load as the
/// README shows: audited, refused by prove, explained, and caught when they crash or go silent.
/// </summary>
public class UserDesignTests
{
    private static readonly string Dll = typeof(LazyInitRing).Assembly.Location;

    [Fact]
    public void The_readme_example_loads_and_its_audit_finds_the_lazy_init_race()
    {
        var (listed, designs, _) = Run("designs", "--load", Dll);
        Assert.Equal(0, listed);
        Assert.Matches(@"ipi/my-lazy-init +user ", designs);

        var (code, o, e) = Run("audit", "ipi/my-lazy-init", "--load", Dll);
        Assert.Equal(1, code);
        Assert.Empty(e);
        Assert.Contains("VIOLATED no-overwrite (ipi/my-lazy-init)", o);
        Assert.Contains("ring->head = ring->tail = 0", o);
        Assert.Contains("ring_ready = ", o);              // the design's own shared variable, rendered
        Assert.Contains("saw_unready: 1", o);             // and its per-CPU local
        Assert.Contains("because CPU", o);                // the reason, in values
        Assert.Contains("some-delivery", o);
    }

    [Fact]
    public void Prove_does_not_lend_the_reference_proofs_to_a_variant()
    {
        var (code, o, _) = Run("prove", "--design", "ipi/my-lazy-init", "--load", Dll);
        Assert.Equal(3, code);
        Assert.Contains("obligations of ipi/my-lazy-init: no encoding: not proved", o);
        Assert.DoesNotContain("proved  ", o);
        var (unmasked, o2, _) = Run("prove", "--design", "ipi/my-unmasked-drain", "--load", Dll);
        Assert.Equal(3, unmasked);
        Assert.DoesNotContain("slot-in-bounds", o2);
    }

    [Fact]
    public void A_design_that_declares_itself_encoded_but_reorders_its_steps_proves_only_the_scope()
    {
        var (code, o, _) = Run("prove", "--design", "ipi/my-claims-encoded", "--load", Dll);
        Assert.Equal(3, code);
        Assert.Contains("proves only the scope above, not the design", o);
        Assert.Contains("send step 3 ('smp_store_release(&slot->state, MK_SLOT_READY)') is its own", o);
        // Its audit shows what the proofs could not: the callback can read an unfilled slot.
        Assert.Equal(1, Run("audit", "ipi/my-claims-encoded", "--load", Dll).Code);
    }

    [Fact]
    public void An_index_outside_the_ring_is_an_index_bounded_counterexample_with_its_values()
    {
        var (code, o, e) = Run("audit", "ipi/my-unmasked-drain", "--load", Dll, "--ring", "4", "--messages", "3");
        Assert.Equal(1, code);
        Assert.Empty(e);
        Assert.Contains("VIOLATED index-bounded (ipi/my-unmasked-drain)", o);
        Assert.Contains("because slot index 4 used with ring size 4", o);
    }

    [Fact]
    public void A_step_that_throws_is_a_counterexample_not_a_stack_trace()
    {
        var (code, o, e) = Run("audit", "ipi/my-wild-index", "--load", Dll, "--ring", "4", "--messages", "3");
        Assert.Equal(1, code);
        Assert.Empty(e);
        Assert.Contains("VIOLATED no-crash (ipi/my-wild-index)", o);
        Assert.Matches(@"threw IndexOutOfRangeException", o);
        Assert.Contains("-> step ", o);
    }

    [Fact]
    public void A_step_after_return_is_a_step_contract_violation_at_the_step_that_breaks_it()
    {
        var (code, o, e) = Run("audit", "ipi/my-runs-on-after-return", "--load", Dll);
        Assert.Equal(1, code);
        Assert.Empty(e);
        Assert.Contains("VIOLATED step-contract (ipi/my-runs-on-after-return)", o);
        Assert.Contains("ran on after multikernel_send_ipi_data() returned", o);
        Assert.Matches(@"step-contract +VIOLATED \(\d steps\)", o);   // found at once, not at a state bound
        Assert.DoesNotContain("BOUND HIT", o);
        // The trace replays as a step-contract trace, not as a crash.
        string dir = Directory.CreateTempSubdirectory("mk-contract-").FullName;
        try
        {
            Assert.Equal(1, Run("audit", "ipi/my-runs-on-after-return", "--load", Dll, "--json", dir).Code);
            var (replayed, r, _) = Run("replay", Path.Combine(dir, "trace.itf.json"), "--load", Dll);
            Assert.True(replayed == 1, r);
            Assert.Contains("-> step 5 broke the step contract", r);
        }
        finally { Directory.Delete(dir, recursive: true); }
        // The reference's own IPI step returns false: no contract broken, no-crash holds.
        Assert.Matches(@"no-crash +holds", Run("audit", "ipi/reference").Out);
    }

    [Fact]
    public void A_step_that_takes_back_a_recorded_violation_is_a_step_contract_violation()
    {
        var (code, o, _) = Run("audit", "ipi/my-forgets-violations", "--load", Dll);
        Assert.Equal(1, code);
        Assert.Contains("took back recorded history", o);
    }

    [Fact]
    public void A_write_to_an_undeclared_variable_is_a_step_contract_violation()
    {
        var (code, o, _) = Run("audit", "ipi/my-undeclared-shared", "--load", Dll);
        Assert.Equal(1, code);
        Assert.Contains("used shared variable 0, which the design does not declare (SharedNames has 0)", o);
        var (raw, r, _) = Run("audit", "ipi/my-undeclared-raw-write", "--load", Dll);
        Assert.Equal(1, raw);
        Assert.Contains("wrote byte 0 of the design's variables, which it does not declare (SharedNames has 0, LocalNames has 0)", r);
        // The README's example declares its variable and keeps the contract.
        Assert.DoesNotContain("step-contract", Run("audit", "ipi/my-lazy-init", "--load", Dll).Out);
    }

    /// <summary>Verdicts come from what a design does, not from which bookkeeping helper it calls.</summary>
    [Fact]
    public void Designs_that_behave_alike_get_the_same_verdict_whatever_helper_they_call()
    {
        // Discarding a message no handler would take: k.Drop() here, k.TakeCopy() in the reference.
        var (code, o, _) = Run("audit", "ipi/my-drops-unhandled", "--load", Dll);
        Assert.Equal(0, code);
        Assert.Matches(@"no-silent-drop +holds", o);
        // Dropping a message a handler is owed is still a silent drop.
        var (dropped, o2, _) = Run("audit", "ipi/my-drops-everything", "--load", Dll);
        Assert.Equal(1, dropped);
        Assert.Matches(@"no-silent-drop +VIOLATED", o2);
        // A fill that never calls k.Complete(): the slot's bytes say the message is whole, and an overwrite is caught.
        var (lost, o3, _) = Run("audit", "ipi/my-fill-without-complete", "--load", Dll);
        var (mutant, o4, _) = Run("audit", "ipi/ref-no-full-check");
        Assert.Equal(1, lost);
        Assert.Equal(1, mutant);
        string Steps(string text) => System.Text.RegularExpressions.Regex.Match(text, @"no-overwrite +VIOLATED \((\d+) steps\)").Groups[1].Value;
        Assert.NotEqual("", Steps(o3));
        Assert.Equal(Steps(o4), Steps(o3));
    }

    [Fact]
    public void A_design_that_silently_delivers_nothing_fails_its_sometimes_properties()
    {
        var (code, o, _) = Run("audit", "ipi/my-silent", "--load", Dll);
        Assert.Equal(1, code);
        foreach (var name in new[] { "some-delivery", "unregister-returns", "destroy-in-flight" })
            Assert.Matches($@"{name} +VIOLATED: never reached", o);
        Assert.Matches(@"no-overwrite +holds", o); // vacuously: only the sometimes-properties catch it
    }

    [Fact]
    public void A_trace_replayed_on_an_edited_design_is_refused_with_the_first_difference()
    {
        string dir = Directory.CreateTempSubdirectory("mk-edit").FullName;
        try
        {
            Editable.Fixed = false;
            var (code, _, _) = Run("audit", "ipi/my-editable", "--load", Dll, "--json", Path.Combine(dir, "t.itf.json"));
            Assert.Equal(1, code);
            string trace = Path.Combine(dir, "t.no-overwrite.itf.json");
            Assert.Equal(1, Run("replay", trace, "--load", Dll).Code); // same design: reproduced
            Editable.Fixed = true;
            var (edited, o, e) = Run("replay", trace, "--load", Dll);
            Assert.Equal(2, edited);
            Assert.Empty(o);
            Assert.Matches(@"the trace no longer describes ipi/my-editable: (step|state) \d+", e);
        }
        finally
        {
            Editable.Fixed = false;
            Directory.Delete(dir, true);
        }
    }

    /// <summary>
    /// One design of each mechanism, written as a user writes it (tests/Designs/MechanismDesigns.cs: public
    /// classes overriding the design's hooks), loaded with --load and audited: exactly the properties its
    /// one defect breaks are violated, every other holds (no false report), and it loads without a word on stderr.
    /// </summary>
    [Theory]
    [InlineData("ipi/my-drops-doorbells", "", "no-silent-drop delivered")]
    [InlineData("uffd/my-forgets-unregister-bits", "", "registered-fault ctx-iff-uffd-bit no-kernel-bug")]
    [InlineData("balloon/my-lock-before-start", "", "reset-order")]
    [InlineData("restore/my-skips-page-count-check", "--crafted", "bounded-allocation")]
    public void A_design_of_each_mechanism_written_by_a_user_is_audited_with_its_defect_found(string design, string bound, string violated)
    {
        string[] args = bound.Length > 0 ? ["audit", design, "--load", Dll, bound] : ["audit", design, "--load", Dll];
        var (code, o, e) = Run(args);
        Assert.Equal(1, code);
        Assert.Empty(e);
        var found = System.Text.RegularExpressions.Regex.Matches(o, @"^  ([a-z-]+) +VIOLATED", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(violated.Split(' ').Order(), found.Order());
        Assert.Contains($"VIOLATED {violated.Split(' ')[0]} ({design})", o);
        Assert.DoesNotContain("never reached", o);
    }

    [Fact]
    public void The_user_designs_hooks_are_what_the_verdict_follows()
    {
        // The restore design's defect needs a crafted image: at the default bounds it holds everything.
        Assert.Equal(0, Run("audit", "restore/my-skips-page-count-check", "--load", Dll).Code);
        // The balloon's reset hook is what the trace shows, in the design's own words.
        var (_, o, _) = Run("audit", "balloon/my-lock-before-start", "--load", Dll);
        Assert.Contains("reset_required = false (before START, conf_sem not taken)", o);
        Assert.Contains("because the poll timer clears the reset while the host still owes it a successful START", o);
        // The uffd design's unregister leaves the bit without the context: the walk after it BUGs, as the kernel's would.
        var (_, u, _) = Run("audit", "uffd/my-forgets-unregister-bits", "--load", Dll);
        Assert.Contains("vm_flags: 0x233 (VM_UFFD_MISSING), ctx: NULL", u);
        // Proofs do not speak of a design that overrides a hook.
        foreach (var d in new[] { "uffd/my-forgets-unregister-bits", "balloon/my-lock-before-start", "restore/my-skips-page-count-check" })
            Assert.Equal(3, Run("prove", "--design", d, "--load", Dll).Code);
    }

    [Fact]
    public void An_assembly_with_no_design_is_a_usage_error_naming_it()
    {
        string impl = typeof(Multikernel.Impl.Uffd.MmStruct).Assembly.Location;
        var (code, o, e) = Run("designs", "--load", impl);
        Assert.Equal(2, code);
        Assert.Empty(o);
        Assert.Contains("--load", e);
        Assert.Contains("no design loaded", e);
        Assert.Single(e.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Seed_traces_end_with_the_reason_in_values()
    {
        var (_, o, _) = Run("audit", "ipi/ipi-v2");
        Assert.Contains("because handler0 (ipi_type 1) ran with m1 (type 0x100000001)", o);
        Assert.Matches(@"because m\d was accepted \(send returned 0\) and never delivered", o);
        Assert.Contains("because CPU1 writes over m3, complete and not yet taken by the receiver", o);
        var (_, u, _) = Run("audit", "uffd/uffd-v5");
        Assert.Contains("because VM_UFFD_MINOR = 0x2000 shares its bit with VM_LOCKED", u);
    }
}
