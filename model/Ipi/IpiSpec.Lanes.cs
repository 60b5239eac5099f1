namespace Multikernel.Model.Ipi;

/// <summary>A trace viewer's lanes: each CPU of the protocol by its fairness name, the hostile peer on its own.</summary>
public sealed partial class IpiSpec
{
    public string Lane(in IpiAction action) =>
        action.Actor == IpiActor.Peer ? "hostile peer" : Actor(action) is int a and >= 0 ? FairActors[a] : "environment";
}
