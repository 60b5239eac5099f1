using Microsoft.Coyote.Runtime;
using Multikernel.Coyote.Systematic;
using static Multikernel.Impl.Balloon.BalloonConstants;

namespace Multikernel.Impl.Balloon;

/// <summary>The test build's scheduling point for the balloon: record the step in the driver's words, then let Coyote pick who runs next.</summary>
internal static partial class BalloonSched
{
    static partial void Point(bool work, uint cmd)
    {
        Steps.Record(work ? "vmballoon_work(): reset if required, GET_TARGET, inflate or deflate" : $"vmballoon_cmd({Name(cmd)})");
        SchedulingPoint.Interleave();
    }

    public static string Name(uint cmd) => cmd switch
    {
        CmdStart => "VMW_BALLOON_CMD_START",
        CmdGetTarget => "VMW_BALLOON_CMD_GET_TARGET",
        CmdLock => "VMW_BALLOON_CMD_LOCK",
        CmdUnlock => "VMW_BALLOON_CMD_UNLOCK",
        CmdGuestId => "VMW_BALLOON_CMD_GUEST_ID",
        CmdBatchedLock => "VMW_BALLOON_CMD_BATCHED_LOCK",
        CmdBatchedUnlock => "VMW_BALLOON_CMD_BATCHED_UNLOCK",
        _ => $"command {cmd}",
    };
}
