namespace Multikernel.Model.Ipi;

/// <summary>
/// Weak fairness: every CPU is scheduled eventually. A sending CPU, a receiving CPU's interrupt
/// handler, a queued irq_work, and the CPUs in unregister and destroy each get their turn while
/// they can run; the hostile peer (bound hostile-peer) is owed nothing.
/// </summary>
public sealed partial class IpiSpec
{
    private string[]? _fairActors;

    public IReadOnlyList<string> FairActors => _fairActors ??= Actors();

    private string[] Actors()
    {
        var names = new List<string>();
        for (int c = 0; c < Bounds.Senders; c++) names.Add($"sender {_k.SenderName(c)}");
        for (int r = 0; r < Design.Receivers(Bounds); r++) names.Add($"CPU{r}'s interrupt");
        for (int w = 0; w < Design.WorkItems(Bounds); w++) names.Add($"irq_work {w}");
        names.Add("the unregistering CPU");
        names.Add("the destroying CPU");
        return [.. names];
    }

    public int Actor(in IpiAction action)
    {
        int senders = Bounds.Senders, receivers = Design.Receivers(Bounds), works = Design.WorkItems(Bounds);
        return action.Actor switch
        {
            IpiActor.Sender => action.Index,
            IpiActor.Interrupt => senders + action.Index,
            IpiActor.Work => senders + receivers + action.Index,
            IpiActor.Unregister => senders + receivers + works,
            IpiActor.Destroy => senders + receivers + works + 1,
            _ => -1,
        };
    }
}
