using Multikernel.Cli;
using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Model.Ipi;
using Multikernel.Model.Uffd;
using Xunit;

namespace Multikernel.Tests.Engine;

public class RegistryTests
{
    [Theory]
    [InlineData("ref-no-mask", "ipi", "ref-no-mask")]
    [InlineData("uffd-v5", "uffd", "uffd-v5")]
    [InlineData("ipi/reference", "ipi", "reference")]
    [InlineData("uffd/reference", "uffd", "reference")]
    [InlineData("IPI-V2", "ipi", "ipi-v2")]
    public void A_design_name_resolves_to_its_mechanism(string name, string mechanism, string design)
    {
        var (m, d) = Mechanisms.Resolve(name, "test");
        Assert.Equal(mechanism, m.Name);
        Assert.Equal(design, d.Name);
    }

    [Fact]
    public void An_ambiguous_or_unknown_mechanism_names_every_registered_one()
    {
        var e = Assert.Throws<UsageException>(() => Mechanisms.Resolve("reference", "test"));
        Assert.Contains($"'reference' is ambiguous: {string.Join(" or ", Mechanisms.All.Select(m => m.Name + "/reference"))}", e.Message);
        var u = Assert.Throws<UsageException>(() => Mechanisms.Resolve("mmap/reference", "test"));
        Assert.Contains($"unknown mechanism 'mmap' (known: {string.Join(", ", Mechanisms.All.Select(m => m.Name))})", u.Message);
    }

    [Theory]
    [InlineData("ipi/uffd-v5", "unknown design 'ipi/uffd-v5'; ipi has: ipi-v1, ipi-v2, reference")]
    [InlineData("", "which design?")]
    public void A_name_that_is_not_one_design_lists_the_candidates(string name, string message)
    {
        var e = Assert.Throws<UsageException>(() => Mechanisms.Resolve(name, "test"));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Every_mechanism_has_one_catalogue_shape_and_every_design_is_found_by_its_qualified_name()
    {
        foreach (var m in Mechanisms.All)
        {
            Assert.Single(m.Model.Designs.Of(DesignOrigin.Reference));
            Assert.NotEmpty(m.Model.Designs.Of(DesignOrigin.Seed));
            if (m.Model.BoundOptions.Count > 0) Assert.NotEmpty(m.Model.Designs.Of(DesignOrigin.Mutant)); // an explorer model has mutants
            foreach (var d in m.Model.Designs.All)
                Assert.Same(d, Mechanisms.Resolve(m.Model.Qualified(d), "test").Design);
        }
    }

    [Theory]
    [InlineData("senders=2 senders=3", "'senders' is given twice")]
    [InlineData("unregister=maybe", "unregister must be yes or no (got 'maybe')")]
    [InlineData("senders=9", "senders must be a whole number from 1 to 3 (got '9')")]
    [InlineData("senders=-1", "senders must be a whole number from 1 to 3")]
    [InlineData("ring=3", "ring must be 1, 2 or 4 (got 3)")]
    [InlineData("colour=blue", "unknown bound 'colour' (known: senders, messages, ring, handlers, receivers, unregister, destroy, hostile-peer, memory-model)")]
    [InlineData("memory-model=arm64", "memory-model must be sc, tso or lkmm (got 'arm64')")]
    [InlineData("senders", "'senders' is not name=value")]
    public void Bounds_text_is_read_strictly(string text, string message)
    {
        var e = Assert.Throws<BoundsException>(() => IpiBounds.Parse(text));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Bounds_round_trip_through_their_text()
    {
        var ipi = new IpiBounds { Senders = 3, Messages = 1, Ring = 4, Handlers = 3, Unregister = false, Destroy = true };
        Assert.Equal(ipi, IpiBounds.Parse(ipi.ToString()));
        foreach (var u in new[] { UffdBounds.Default, UffdBounds.Default with { Contexts = 2, Layouts = UffdBounds.AllPairs }, UffdBounds.Default with { Layouts = [(MemType.Anon, MemType.ShmemShared)] } })
        {
            var back = UffdBounds.Parse(u.ToString());
            Assert.Equal(u.Contexts, back.Contexts);
            Assert.Equal(u.Layouts, back.Layouts);
        }
    }
}
