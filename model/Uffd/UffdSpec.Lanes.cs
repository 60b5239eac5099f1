namespace Multikernel.Model.Uffd;

/// <summary>
/// A trace viewer's lanes: the ioctls on one userfaultfd, the monitor's page-resolving ioctls, the faulting
/// access, and the process's own mm calls (mlock, fork, mremap).
/// </summary>
public sealed partial class UffdSpec
{
    public string Lane(in UffdAction action) => action.Op switch
    {
        UffdOp.Api or UffdOp.Register or UffdOp.Unregister or UffdOp.Wake or UffdOp.Close => $"uffd{action.Ctx}",
        UffdOp.Copy or UffdOp.Continue or UffdOp.WriteProtect or UffdOp.CloseChild => "the monitor",
        UffdOp.Fault => "faulting thread",
        _ => "the process",
    };
}
