namespace Multikernel.Model.Balloon;

/// <summary>A trace viewer's lanes: the guest's actors by their fairness names, the hypervisor's target changes on its own.</summary>
public sealed partial class BalloonSpec
{
    public string Lane(in BalloonAction action) =>
        action.Actor == BalloonActor.Host ? "hypervisor" : Actor(action) is int a and >= 0 ? FairActors[a] : "environment";
}
