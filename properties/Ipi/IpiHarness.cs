using System.Collections.Immutable;
using Multikernel.Impl.Ipi;
using Multikernel.Model.Ipi;

namespace Multikernel.Properties.Ipi;

/// <summary>
/// The implementation under test, with every callback recorded as an <see cref="IpiDelivery"/>
/// and mk_receive_pfn() checked against the model on every delivered message.
/// </summary>
public sealed class IpiHarness : IDisposable
{
    private readonly List<IpiDelivery> _log = [];
    private readonly Lock _logLock = new();

    public IpiHarness(int ringSize, MkIpiDefects defects = MkIpiDefects.None, bool cpuThreads = false)
    {
        Ipi = new MkIpi(ringSize, cpuThreads, defects);
        Callback = Record;
    }

    public MkIpi Ipi { get; }
    public MkIpiCallback Callback { get; }
    /// <summary>First mismatch seen inside a callback (mk_receive_pfn disagreeing with the model), if any.</summary>
    public string? CallbackError { get; private set; }

    private sealed class Ctx { public int Handle; }

    /// <summary>Register with a recording callback (or none, to exercise the -EINVAL path).</summary>
    public int Register(ulong type, bool withCallback = true)
    {
        var ctx = new Ctx();
        int rc = Ipi.RegisterHandler(withCallback ? Callback : null!, ctx, type);
        ctx.Handle = rc;
        return rc;
    }

    private void Record(in MkIpiMessage m, object? ctx)
    {
        var d = new IpiDelivery(((Ctx)ctx!).Handle, m.SenderCpu, m.Type, Convert.ToHexString(m.Data));
        var expected = IpiApiModel.ReceivePfn(m.Type, m.Data);
        int rc = MkIpi.ReceivePfn(m, out ulong pfn);
        lock (_logLock)
        {
            _log.Add(d);
            if ((rc, pfn) != expected) CallbackError ??= $"mk_receive_pfn on {d}: got ({rc}, {pfn:x}), model ({expected.Rc}, {expected.Pfn:x})";
        }
    }

    /// <summary>The deliveries recorded since the last call, in order.</summary>
    public ImmutableArray<IpiDelivery> TakeDeliveries()
    {
        lock (_logLock)
        {
            var r = _log.ToImmutableArray();
            _log.Clear();
            return r;
        }
    }

    /// <summary>Deterministic payload bytes for a message: size and a seed byte say it all.</summary>
    public static byte[] Payload(int size, byte seed)
    {
        var b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte)(seed + i * 31);
        return b;
    }

    public void Dispose() => Ipi.Dispose();
}
