using System.Runtime.ExceptionServices;

namespace Multikernel.Properties.Explorer;

/// <summary>
/// A fixed crew of threads for the phases of a level-synchronous search: the caller and
/// <c>threads - 1</c> helpers meet at a barrier, claim the bodies of a phase one by one, and meet
/// again when all are done. Unlike <c>Parallel.For</c>, every thread starts a phase at once (the
/// thread pool may run two short bodies one after the other on the calling thread).
/// </summary>
internal sealed class Crew : IDisposable
{
    private readonly Thread[] _helpers;
    private readonly Barrier _start, _end;
    private Action<int>? _body;
    private int _bodies, _next;
    private Exception? _error;
    private bool _stop;

    public Crew(int threads)
    {
        Threads = threads;
        _start = new Barrier(threads);
        _end = new Barrier(threads);
        _helpers = new Thread[threads - 1];
        for (int i = 0; i < _helpers.Length; i++)
        {
            _helpers[i] = new Thread(Help) { IsBackground = true, Name = $"explorer {i + 1}" };
            _helpers[i].Start();
        }
    }

    public int Threads { get; }

    /// <summary>Runs <paramref name="body"/>(0 … bodies-1) on the crew; returns when all are done, rethrowing the first exception.</summary>
    public void Run(int bodies, Action<int> body)
    {
        if (_helpers.Length == 0 || bodies == 1) { for (int i = 0; i < bodies; i++) body(i); return; }
        _body = body;
        _bodies = bodies;
        _next = 0;
        _error = null;
        _start.SignalAndWait();
        Work();
        _end.SignalAndWait();
        if (_error is { } e) ExceptionDispatchInfo.Throw(e);
    }

    private void Help()
    {
        while (true)
        {
            _start.SignalAndWait();
            if (_stop) return;
            Work();
            _end.SignalAndWait();
        }
    }

    private void Work()
    {
        for (int i; (i = Interlocked.Increment(ref _next) - 1) < _bodies;)
        {
            try { _body!(i); }
            catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
        }
    }

    public void Dispose()
    {
        if (_helpers.Length > 0)
        {
            _stop = true;
            _start.SignalAndWait();
            foreach (var t in _helpers) t.Join();
        }
        _start.Dispose();
        _end.Dispose();
    }
}
