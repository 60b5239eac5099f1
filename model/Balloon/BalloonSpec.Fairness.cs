using Multikernel.Model.Checking;

namespace Multikernel.Model.Balloon;

/// <summary>
/// Weak fairness: the guest's balloon thread, its poll timer and module init / probe are scheduled
/// eventually (a kernel thread that can run does run, and a timer that is armed does fire). The hypervisor's choices,
/// its target changes and the RESET or refusal it answers with, are owed nothing.
/// </summary>
public sealed partial class BalloonSpec
{
    public IReadOnlyList<string> FairActors { get; } = ["the guest thread", "the timer", "module init and probe"];

    public int Actor(in BalloonAction action) => action.Actor switch
    {
        BalloonActor.Guest => 0,
        BalloonActor.Timer => 1,
        BalloonActor.Init => 2,
        _ => -1,
    };
}
