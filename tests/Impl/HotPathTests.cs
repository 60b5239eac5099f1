using Multikernel.Impl.Ipi;
using Xunit;

namespace Multikernel.Tests.Impl;

public class HotPathTests
{
    [Fact]
    public void Send_and_drain_allocate_nothing_per_message()
    {
        using var ipi = new MkIpi(64);
        ipi.CreateInstance(3);
        long sum = 0;
        ipi.RegisterHandler((in MkIpiMessage m, object? _) => sum += m.Data.Length, null, 9);
        var payload = new byte[64];
        int failures = 0; // no Assert inside the measured loop: xunit's comparers allocate
        void Round()
        {
            for (int i = 0; i < 64; i++) failures += ipi.SendIpiData(3, payload, 9) == 0 ? 0 : 1;
            failures += ipi.SendPfn(3, 7) == -28 ? 0 : 1; // full: -ENOSPC
            failures += ipi.HandleInterrupt(3) == 64 ? 0 : 1;
        }
        Round(); // warm up: JIT, statics
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < 100; r++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, failures);
        Assert.Equal(0, allocated);
        Assert.Equal(101 * 64 * 64, sum);
    }

    [Fact]
    public void Api_rejects_what_the_kernel_rejects()
    {
        using var ipi = new MkIpi(4);
        Assert.Equal(-22, ipi.CreateInstance(256));
        Assert.Equal(-22, ipi.CreateInstance(-1));
        Assert.Equal(0, ipi.CreateInstance(255));
        Assert.Equal(-17, ipi.CreateInstance(255));
        Assert.Equal(-22, ipi.SendIpiData(255, new byte[257], 1));
        Assert.Equal(-19, ipi.SendIpiData(254, new byte[1], 1));
        Assert.Equal(-22, ipi.RegisterHandler(null!, null, 1));
        Assert.Equal(-22, ipi.UnregisterHandler(12345));
        Assert.Equal(-19, ipi.DestroyInstance(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MkIpi(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MkIpi(128));
    }
}
