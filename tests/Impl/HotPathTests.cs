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
        // The runtime may allocate on this thread while it moves a method to its next tier (a loaded
        // machine delays that): a window of 100 rounds is measured up to three times, and one of them
        // must allocate nothing. An allocation per message would show in every window.
        long allocated = long.MaxValue;
        int windows = 0;
        while (allocated != 0 && windows < 3)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int r = 0; r < 100; r++) Round();
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
            windows++;
        }
        Assert.Equal(0, failures);
        Assert.Equal(0, allocated);
        Assert.Equal((1 + 100 * windows) * 64 * 64, sum);
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

public class ReceiverReportsTests
{
    private static void Write32(Span<byte> region, int offset, uint v) => System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(region[offset..], v);

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    public void Ring_sizes_at_the_limits_are_accepted(int ring)
    {
        using var ipi = new MkIpi(ring);
        Assert.Equal(ring, ipi.RingSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MkIpi(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MkIpi(65));
    }

    [Fact]
    public void Delivered_messages_are_counted()
    {
        using var ipi = new MkIpi(8);
        ipi.CreateInstance(1);
        for (int i = 0; i < 5; i++) ipi.SendIpiData(1, [1, 2, 3], 4);
        Assert.Equal(5, ipi.HandleInterrupt(1));
        Assert.Equal(new MkIpiStats(5, 0, 0), ipi.Stats(1));
        Assert.Equal(default, ipi.Stats(2));
        Assert.Equal(default, ipi.Stats(-1));
    }

    [Fact]
    public void A_forged_size_is_dropped_and_reported_never_delivered()
    {
        using var ipi = new MkIpi(4);
        ipi.CreateInstance(0);
        int calls = 0;
        ipi.RegisterHandler((in MkIpiMessage _, object? __) => calls++, null, 4);
        ipi.SendIpiData(0, [1, 2, 3], 4);
        ipi.SendIpiData(0, [4, 5, 6], 4);
        Write32(ipi.SharedMemory(0), MkIpiLayout.SlotOffset(0) + MkIpiLayout.SlotDataSize, 100_000);
        Assert.Equal(1, ipi.HandleInterrupt(0));
        Assert.Equal(1, calls);
        Assert.Equal(new MkIpiStats(1, 1, 0), ipi.Stats(0));
    }

    [Fact]
    public void A_forged_head_is_repaired_on_the_second_look_and_sends_flow_again()
    {
        using var ipi = new MkIpi(4);
        ipi.CreateInstance(0);
        int calls = 0;
        ipi.RegisterHandler((in MkIpiMessage _, object? __) => calls++, null, 4);
        Write32(ipi.SharedMemory(0), MkIpiLayout.Head, 3); // three claims nobody made
        Assert.Equal(0, ipi.SendIpiData(0, [1], 4));      // position 3: behind three unpublished ones
        Assert.Equal(-28, ipi.SendIpiData(0, [2], 4));    // full
        Assert.Equal(0, ipi.HandleInterrupt(0));           // first stop at tail 0: maybe a slow sender
        Assert.Equal(0, ipi.HandleInterrupt(0));           // second stop, no sender inside: repair
        Assert.Equal(new MkIpiStats(0, 4, 1), ipi.Stats(0));
        Assert.Equal(0, ipi.SendIpiData(0, [3], 4));
        Assert.Equal(1, ipi.HandleInterrupt(0));
        Assert.Equal(1, calls);
    }

    [Fact]
    public void Destroy_clears_the_region_and_dispose_destroys_every_instance()
    {
        var ipi = new MkIpi(4);
        ipi.CreateInstance(7);
        ipi.SendIpiData(7, [9, 9, 9], 1);
        var region = ipi.SharedMemory(7);
        Assert.NotEqual(0, region[MkIpiLayout.Head]);
        Assert.Equal(0, ipi.DestroyInstance(7));
        Assert.True(region.IndexOfAnyExcept((byte)0) < 0);
        Assert.True(ipi.SharedMemory(7).IsEmpty);
        Assert.Equal(-19, ipi.HandleInterrupt(7));
        ipi.CreateInstance(8);
        ipi.Dispose();
        Assert.Equal(-19, ipi.SendIpiData(8, [1], 1));
    }

    [Fact]
    public void Unregister_from_inside_a_callback_is_refused_not_deadlocked()
    {
        using var ipi = new MkIpi(4);
        ipi.CreateInstance(0);
        int rc = 1, self = 0;
        self = ipi.RegisterHandler((in MkIpiMessage _, object? __) => rc = ipi.UnregisterHandler(self), null, 1);
        ipi.SendIpiData(0, [1], 1);
        ipi.HandleInterrupt(0);
        Assert.Equal(-35, rc); // -EDEADLK: it would wait for the drain it runs in
        Assert.Equal(0, ipi.UnregisterHandler(self));
    }
}
