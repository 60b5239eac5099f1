using System.Collections.Immutable;
using FsCheck;
using FsCheck.Experimental;
using FsCheck.Fluent;
using Multikernel.Impl.Ipi;
using Multikernel.Model.Ipi;
using Multikernel.Model.Ipi.Designs;
using Multikernel.Model.Kernel;

namespace Multikernel.Properties.Ipi;

/// <summary>The model's state plus what the last call is expected to return.</summary>
public sealed record ApiExpectation(IpiApiModel Model, int Rc, ImmutableArray<IpiDelivery> Deliveries)
{
    public override string ToString() => Deliveries.IsEmpty
        ? $"model: {Errno.Name(Rc)}"
        : $"model: {Errno.Name(Rc)}, callbacks [{string.Join("; ", Deliveries)}]";
}

/// <summary>
/// Model-based test of the implementation against <see cref="IpiApiModel"/> (the specification's design, one call at a time): random
/// sequences of create / destroy, register / unregister (unknown handles too), send
/// (sizes 0, 1, 8, 255, 256, 257; 64-bit types; bad instance ids), mk_send_pfn and
/// interrupt delivery. Every call must return what the model returns, and every
/// interrupt must make the model's callbacks, with the same bytes, in the same order.
/// </summary>
/// <param name="design">The specification's design the model runs: the reference, or a mutant of it to show the check catches a defect planted there.</param>
public sealed class ApiMachine(int ringSize, MkIpiDefects defects, int maxOps, RingDesign? design = null) : Machine<IpiHarness, ApiExpectation>(maxOps)
{
    private static readonly int[] Ids = [0, 0, 1, 1, 2, 255, 256, -1];
    private static readonly int[] Sizes = [0, 1, 8, 255, 256, 257];
    /// <summary>0x1_0000_0001 equals type 1 when truncated to 32 bits, as the seeds' unsigned int would.</summary>
    public static readonly ulong[] Types = [1, 2, 0x1_0000_0001, IpiConstants.MkPfnIpiType, ulong.MaxValue];
    private static readonly ulong[] Pfns = [0, 1, (1UL << 52) - 1, ulong.MaxValue];

    public override Arbitrary<Setup<IpiHarness, ApiExpectation>> Setup =>
        Arb.From(Gen.Constant<Setup<IpiHarness, ApiExpectation>>(new Start(ringSize, defects, design)));


    // No teardown: in interrupt-by-call mode the implementation owns no threads.
    private sealed class Start(int ringSize, MkIpiDefects defects, RingDesign? design) : Setup<IpiHarness, ApiExpectation>
    {
        public override IpiHarness Actual() => new(ringSize, defects);
        public override ApiExpectation Model() => new(new IpiApiModel(ringSize, design), 0, []);
    }

    public override Gen<Operation<IpiHarness, ApiExpectation>> Next(ApiExpectation state)
    {
        var handles = state.Model.Handlers.Select(h => h.Handle).Append(0).Append(state.Model.LastHandle + 1).ToArray();
        var id = Gen.Elements(Ids);
        var type = Gen.Elements(Types);
        return Gen.Frequency(
            (3, id.Select(i => Op(new Create(i)))),
            (1, id.Select(i => Op(new Destroy(i)))),
            (2, from t in type from cb in Gen.Frequency((9, Gen.Constant(true)), (1, Gen.Constant(false))) select Op(new Register(t, cb))),
            (1, Gen.Elements(handles).Select(h => Op(new Unregister(h)))),
            (8, from i in id from n in Gen.Elements(Sizes) from t in type from s in Gen.Choose(0, 255) from cpu in Gen.Choose(0, 3)
                select Op(new Send(i, n, t, (byte)s, cpu))),
            (1, from i in id from p in Gen.Elements(Pfns) select Op(new SendPfn(i, p))),
            (4, id.Select(i => Op(new Interrupt(i)))));
    }

    private static Operation<IpiHarness, ApiExpectation> Op(Operation<IpiHarness, ApiExpectation> o) => o;

    /// <summary>An operation whose expectation is a return code and no callbacks.</summary>
    private abstract class Call : Operation<IpiHarness, ApiExpectation>
    {
        protected abstract (int Rc, IpiApiModel Next) Model(IpiApiModel m);
        protected abstract int Actual(IpiHarness h);
        public override ApiExpectation Run(ApiExpectation s)
        {
            var (rc, next) = Model(s.Model);
            return new ApiExpectation(next, rc, []);
        }
        public override Property Check(IpiHarness h, ApiExpectation e)
        {
            int rc = Actual(h);
            var calls = h.TakeDeliveries();
            return Agree(h, rc, calls, e);
        }
    }

    internal static Property Agree(IpiHarness h, int rc, ImmutableArray<IpiDelivery> calls, ApiExpectation e)
    {
        if (rc != e.Rc) return false.Label($"returned {Errno.Name(rc)}, the model returns {Errno.Name(e.Rc)}");
        if (!calls.SequenceEqual(e.Deliveries))
            return false.Label($"callbacks [{string.Join("; ", calls)}], the model makes [{string.Join("; ", e.Deliveries)}]");
        if (h.CallbackError is { } err) return false.Label(err);
        return true.ToProperty();
    }

    private sealed class Create(int id) : Call
    {
        protected override (int, IpiApiModel) Model(IpiApiModel m) => m.CreateInstance(id);
        protected override int Actual(IpiHarness h) => h.Ipi.CreateInstance(id);
        public override string ToString() => $"CreateInstance({id})";
    }

    private sealed class Destroy(int id) : Call
    {
        protected override (int, IpiApiModel) Model(IpiApiModel m) => m.DestroyInstance(id);
        protected override int Actual(IpiHarness h) => h.Ipi.DestroyInstance(id);
        public override string ToString() => $"DestroyInstance({id})";
    }

    private sealed class Register(ulong type, bool callback) : Call
    {
        protected override (int, IpiApiModel) Model(IpiApiModel m) => m.RegisterHandler(callback, type);
        protected override int Actual(IpiHarness h) => h.Register(type, callback);
        public override string ToString() => $"RegisterHandler({(callback ? "cb" : "NULL")}, type 0x{type:x})";
    }

    private sealed class Unregister(int handle) : Call
    {
        protected override (int, IpiApiModel) Model(IpiApiModel m) => m.UnregisterHandler(handle);
        protected override int Actual(IpiHarness h) => h.Ipi.UnregisterHandler(handle);
        public override string ToString() => $"UnregisterHandler({handle})";
    }

    private sealed class Send(int id, int size, ulong type, byte seed, int cpu) : Call
    {
        protected override (int, IpiApiModel) Model(IpiApiModel m) => m.SendIpiData(id, IpiHarness.Payload(size, seed), type, cpu);
        protected override int Actual(IpiHarness h)
        {
            MkIpi.BindThreadToCpu(cpu);
            return h.Ipi.SendIpiData(id, IpiHarness.Payload(size, seed), type);
        }
        public override string ToString() => $"cpu {cpu}: SendIpiData({id}, {size} bytes from 0x{seed:x2}, type 0x{type:x})";
    }

    private sealed class SendPfn(int id, ulong pfn) : Call
    {
        protected override (int, IpiApiModel) Model(IpiApiModel m) => m.SendPfn(id, pfn, 0);
        protected override int Actual(IpiHarness h)
        {
            MkIpi.BindThreadToCpu(0);
            return h.Ipi.SendPfn(id, pfn);
        }
        public override string ToString() => $"cpu 0: mk_send_pfn({id}, 0x{pfn:x})";
    }

    private sealed class Interrupt(int id) : Operation<IpiHarness, ApiExpectation>
    {
        public override ApiExpectation Run(ApiExpectation s)
        {
            var (rc, calls, next) = s.Model.Interrupt(id);
            return new ApiExpectation(next, rc, calls);
        }
        public override Property Check(IpiHarness h, ApiExpectation e)
        {
            int rc = h.Ipi.HandleInterrupt(id);
            return Agree(h, rc, h.TakeDeliveries(), e);
        }
        public override string ToString() => $"interrupt on instance {id}";
    }
}
