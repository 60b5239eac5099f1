using System.Collections.Immutable;
using FsCheck;
using FsCheck.Experimental;
using FsCheck.Fluent;
using Multikernel.Impl.Restore;
using Multikernel.Model.Restore;

namespace Multikernel.Properties.Restore;

/// <summary>The model: the specification's state after the records so far, and the records.</summary>
public sealed record RestoreModel(RestoreState State, ImmutableList<RestoreAction> Records)
{
    public override string ToString() => $"model: {Records.Count} records, {(State.Phase == RestoreState.Succeeded ? "restores" : "refused if it ends here")}";
}

/// <summary>
/// impl/Restore against the reference specification, record by record: images built from the
/// specification's alphabet (valid, overlapping, shared, unaligned and empty VMAs; pages inside
/// and outside; huge counts; the end). After every record, the image as it stands is restored:
/// it must succeed exactly when the specification has succeeded, and when it fails the target
/// must be untouched.
/// </summary>
public sealed class RestoreMachine(int maxOps, RestoreDesign? against = null) : Machine<List<RestoreAction>, RestoreModel>(maxOps)
{
    /// <summary>The specification the implementation is held to: the reference's, unless a test asks for another design's.</summary>
    private readonly RestoreSpec _spec = new(against ?? RestoreDesigns.Reference, new RestoreBounds(Crafted: true));

    public override Arbitrary<Setup<List<RestoreAction>, RestoreModel>> Setup => Arb.From(Gen.Constant((Setup<List<RestoreAction>, RestoreModel>)new Start(_spec)));

    private sealed class Start(RestoreSpec spec) : Setup<List<RestoreAction>, RestoreModel>
    {
        public override List<RestoreAction> Actual() => [];
        public override RestoreModel Model()
        {
            var init = new List<RestoreState>();
            spec.Initial(init);
            return new RestoreModel(init[0], []);
        }
    }

    public override Gen<Operation<List<RestoreAction>, RestoreModel>> Next(RestoreModel m)
    {
        var actions = new RestoreAction[Model.Checking.SpecLimits.MaxEnabled];
        int n = _spec.Enabled(m.State, actions);
        var choices = actions.Take(n).Where(a => a.Record is not (ImageRecord.Truncated or ImageRecord.ReadError or ImageRecord.HeaderGarbage or ImageRecord.HeaderInPageData)).ToArray();
        return choices.Length == 0
            ? Gen.Constant((Operation<List<RestoreAction>, RestoreModel>)new Append(_spec, new RestoreAction(ImageRecord.Truncated)))
            : Gen.Elements(choices).Select(a => (Operation<List<RestoreAction>, RestoreModel>)new Append(_spec, a));
    }

    private sealed class Append(RestoreSpec spec, RestoreAction a) : Operation<List<RestoreAction>, RestoreModel>
    {
        public override bool Pre(RestoreModel m)
        {
            var actions = new RestoreAction[Model.Checking.SpecLimits.MaxEnabled];
            int n = spec.Enabled(m.State, actions);
            return a.Record == ImageRecord.Truncated || actions.AsSpan(0, n).Contains(a);
        }

        public override RestoreModel Run(RestoreModel m) =>
            a.Record == ImageRecord.Truncated ? m : new RestoreModel(spec.Next(m.State, a), m.Records.Add(a));

        public override Property Check(List<RestoreAction> records, RestoreModel m)
        {
            if (a.Record != ImageRecord.Truncated) records.Add(a);
            var image = new ImageOfRecords();
            foreach (var r in records) image.Append(r);
            var target = new AddressSpace();
            target.Set(default, [new VmaInfo(0x1000, 0x2000, 0x73, 0, VmaKind.Anon, null)], [], []);
            ulong before = target.Fingerprint();
            bool restored;
            string why = "";
            try { Impl.Restore.Restore.Run(new MemoryStream(image.Bytes), target, new FileTable()); restored = true; }
            catch (RestoreException e) { restored = false; why = e.Message; }
            bool expected = m.State.Phase == RestoreState.Succeeded;
            if (restored != expected) return false.Label($"the implementation {(restored ? "restores" : $"refuses ({why})")}, the specification {(expected ? "restores" : "does not")}");
            if (!restored && target.Fingerprint() != before) return false.Label("a refused image changed the address space");
            return true.ToProperty();
        }

        public override string ToString() => a.Record == ImageRecord.Mm ? $"cr_hdr_mm (map_count {a.Arg})" : a.Record.ToString();
    }
}
