using System.Diagnostics;

namespace Multikernel.Impl.Balloon;

/// <summary>
/// Scheduling points for the systematic tests, as <c>MkIpiSched</c>: compiled only with MK_COYOTE
/// (tests.coyote); everywhere else every call and its arguments are dropped by the compiler.
/// </summary>
internal static partial class BalloonSched
{
    /// <summary>vmballoon_work() begins (<paramref name="cmd"/> unused), or the driver is about to send backdoor command <paramref name="cmd"/>.</summary>
    [Conditional("MK_COYOTE")]
    public static void At(bool work, uint cmd = 0) => Point(work, cmd);

    static partial void Point(bool work, uint cmd);
}
