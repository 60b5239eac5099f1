using System.Runtime.InteropServices;

namespace Multikernel.Impl.Uffd.Linux;

/// <summary>
/// The libc calls the differential tests make, as thin as they come: each returns what the
/// kernel returns, a refusal as a negative errno (never an exception). Linux only; the callers
/// ask <see cref="Userfaultfd.Availability"/> first.
/// </summary>
public static partial class Libc
{
    private const string Lib = "libc";

    public const int ProtNone = 0, ProtRead = 1, ProtWrite = 2;
    public const int MapShared = 0x01, MapPrivate = 0x02, MapFixed = 0x10, MapAnonymous = 0x20, MapNoreserve = 0x4000, MapHugetlb = 0x40000;
    public const int OCloexec = 0x80000, ONonblock = 0x800, ORdwr = 2;
    public const int MlockOnfault = 1;
    public const int MfdCloexec = 1, MfdHugetlb = 4;
    public const int MremapMaymove = 1, MremapFixed = 2;
    public const int MapFixedNoreplace = 0x100000;
    public const int Sigkill = 9, Sigchld = 17, Sigstop = 19;
    public const int Wuntraced = 2;
    public static readonly nint MapFailed = -1;

    [LibraryImport(Lib, EntryPoint = "mmap", SetLastError = true)]
    private static partial nint MmapRaw(nint addr, nuint length, int prot, int flags, int fd, long offset);
    [LibraryImport(Lib, EntryPoint = "munmap", SetLastError = true)]
    private static partial int MunmapRaw(nint addr, nuint length);
    [LibraryImport(Lib, EntryPoint = "mlock", SetLastError = true)]
    private static partial int MlockRaw(nint addr, nuint length);
    [LibraryImport(Lib, EntryPoint = "mlock2", SetLastError = true)]
    private static partial int Mlock2Raw(nint addr, nuint length, uint flags);
    [LibraryImport(Lib, EntryPoint = "munlock", SetLastError = true)]
    private static partial int MunlockRaw(nint addr, nuint length);
    [LibraryImport(Lib, EntryPoint = "mremap", SetLastError = true)]
    private static partial nint MremapRaw(nint oldAddr, nuint oldLen, nuint newLen, int flags, nint newAddr);
    [LibraryImport(Lib, EntryPoint = "madvise", SetLastError = true)]
    private static partial int MadviseRaw(nint addr, nuint length, int advice);
    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    private static partial int CloseRaw(int fd);
    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenRaw(string path, int flags);
    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlRaw(int fd, nuint request, nint arg);
    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall1(long number, long a);
    [LibraryImport(Lib, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MemfdCreateRaw(string name, uint flags);
    [LibraryImport(Lib, EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int FtruncateRaw(int fd, long length);
    [LibraryImport(Lib, EntryPoint = "memset")]
    private static partial nint MemsetRaw(nint s, int c, nuint n);
    [LibraryImport(Lib, EntryPoint = "memchr")]
    private static partial nint MemchrRaw(nint s, int c, nuint n);
    [LibraryImport(Lib, EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadRaw(int fd, nint buf, nuint count);
    [LibraryImport(Lib, EntryPoint = "pwrite", SetLastError = true)]
    private static partial nint PwriteRaw(int fd, nint buf, nuint count, long offset);
    [LibraryImport(Lib, EntryPoint = "poll", SetLastError = true)]
    private static partial int PollRaw(nint fds, nuint nfds, int timeout);
    [LibraryImport(Lib, EntryPoint = "clone", SetLastError = true)]
    private static partial int CloneRaw(nint fn, nint stack, int flags, nint arg);
    [LibraryImport(Lib, EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitpidRaw(int pid, nint status, int options);
    [LibraryImport(Lib, EntryPoint = "kill", SetLastError = true)]
    private static partial int KillRaw(int pid, int sig);
    [LibraryImport(Lib, EntryPoint = "getuid")]
    private static partial uint GetuidRaw();
    public static uint Getuid() => GetuidRaw();

    private static int Errno() => -Marshal.GetLastPInvokeError();
    private static int Rc(int r) => r < 0 ? Errno() : r;

    /// <summary>mmap(): the address, or a negative errno (as the kernel's own mmap returns it).</summary>
    public static long Mmap(nint addr, ulong length, int prot, int flags, int fd = -1, long offset = 0)
    {
        nint r = MmapRaw(addr, (nuint)length, prot, flags, fd, offset);
        return r == MapFailed ? Errno() : r;
    }

    public static int Munmap(nint addr, ulong length) => Rc(MunmapRaw(addr, (nuint)length));
    public static int Mlock(nint addr, ulong length) => Rc(MlockRaw(addr, (nuint)length));
    public static int Mlock2(nint addr, ulong length, int flags) => Rc(Mlock2Raw(addr, (nuint)length, (uint)flags));
    public static int Munlock(nint addr, ulong length) => Rc(MunlockRaw(addr, (nuint)length));
    public static int Madvise(nint addr, ulong length, int advice) => Rc(MadviseRaw(addr, (nuint)length, advice));
    public static int Close(int fd) => Rc(CloseRaw(fd));
    public static int Open(string path, int flags) => Rc(OpenRaw(path, flags));
    public static int MemfdCreate(string name, uint flags) => Rc(MemfdCreateRaw(name, flags));
    public static int Ftruncate(int fd, long length) => Rc(FtruncateRaw(fd, length));

    /// <summary>
    /// A one-byte write (memset) or read (memchr) of <paramref name="addr"/> from native code: the
    /// thread is in a P/Invoke, so a page fault that blocks in handle_userfault() does not hold up
    /// the runtime's garbage collector.
    /// </summary>
    public static void Touch(nint addr, bool write)
    {
        if (write) MemsetRaw(addr, 0x5a, 1);
        else MemchrRaw(addr, 0x5a, 1);
    }

    /// <summary>read(): the bytes read or a negative errno.</summary>
    public static unsafe long Read<T>(int fd, ref T buf) where T : unmanaged
    {
        fixed (T* p = &buf)
        {
            nint r = ReadRaw(fd, (nint)p, (nuint)sizeof(T));
            return r < 0 ? Errno() : r;
        }
    }

    /// <summary>pwrite() of one byte at an offset: 1 or a negative errno.</summary>
    public static unsafe long PwriteByte(int fd, byte value, long offset)
    {
        nint r = PwriteRaw(fd, (nint)(&value), 1, offset);
        return r < 0 ? Errno() : r;
    }

    /// <summary>poll() of one fd for POLLIN: 1 ready, 0 timed out, or a negative errno.</summary>
    public static unsafe int PollIn(int fd, int timeoutMs)
    {
        long pfd = (uint)fd | (1L << 32); // struct pollfd { int fd; short events = POLLIN; short revents; }
        return Rc(PollRaw((nint)(&pfd), 1, timeoutMs));
    }

    /// <summary>mremap(): the new address, or a negative errno.</summary>
    public static long Mremap(nint oldAddr, ulong oldLen, ulong newLen, int flags, nint newAddr = 0)
    {
        nint r = MremapRaw(oldAddr, (nuint)oldLen, (nuint)newLen, flags, newAddr);
        return r == MapFailed ? Errno() : r;
    }

    private static readonly Lazy<(nint Raise, nint StackTop)> ForkChild = new(() =>
    {
        nint raise = NativeLibrary.GetExport(NativeLibrary.Load("libc.so.6"), "raise");
        const ulong stack = 64 * 1024;
        long at = Mmap(0, stack, ProtRead | ProtWrite, MapPrivate | MapAnonymous);
        if (at < 0) throw new InvalidOperationException($"mmap of the fork child's stack: errno {-at}");
        return (raise, (nint)(at + (long)stack));
    });

    /// <summary>
    /// fork() whose child runs no managed code: clone(raise, stack, SIGCHLD, SIGSTOP) starts the
    /// child (a copy of this mm, no CLONE_VM) in libc's raise(SIGSTOP) on a stack of its own, and
    /// waits until it has stopped. The caller reads /proc/PID/… and ends it with <see cref="KillChild"/>.
    /// Returns the child's pid or a negative errno.
    /// </summary>
    public static int ForkStopped()
    {
        var (raise, top) = ForkChild.Value;
        int pid = CloneRaw(raise, top, Sigchld, Sigstop);
        if (pid < 0) return Errno();
        int rc = Waitpid(pid, Wuntraced);
        if (rc < 0) { KillChild(pid); return rc; }
        return pid;
    }

    /// <summary>SIGKILL to a child of <see cref="ForkStopped"/>, and its reaping.</summary>
    public static void KillChild(int pid)
    {
        KillRaw(pid, Sigkill);
        Waitpid(pid, 0);
    }

    private static unsafe int Waitpid(int pid, int options)
    {
        int status;
        int r;
        do r = Rc(WaitpidRaw(pid, (nint)(&status), options)); while (r == -4 /* EINTR */);
        return r;
    }

    /// <summary>ioctl(fd, request, &amp;arg): 0 (or the ioctl's value) or a negative errno; arg is written back.</summary>
    public static unsafe int Ioctl<T>(int fd, uint request, ref T arg) where T : unmanaged
    {
        fixed (T* p = &arg) return Rc(IoctlRaw(fd, request, (nint)p));
    }

    /// <summary>ioctl(fd, request, value) with an integer argument.</summary>
    public static int Ioctl(int fd, uint request, long value) => Rc(IoctlRaw(fd, request, (nint)value));

    /// <summary>syscall(number, a): the result or a negative errno.</summary>
    public static long Syscall(long number, long a)
    {
        long r = Syscall1(number, a);
        return r == -1 ? Errno() : r;
    }
}
