using System;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace GenNets.Threading;

/// <summary>Work on one part of a job: <paramref name="input"/> and <paramref name="output"/> are the spans the job was started with.</summary>
public delegate void PartAction(object state, int part, int parts, ReadOnlySpan<float> input, Span<float> output);

/// <summary>
/// The threads GenNets splits a batch over. Dedicated background threads (one fewer than the cores;
/// the caller works too) take the parts of one job at a time. A job allocates nothing. When the pool
/// is already busy (another network, or a caller that is itself parallel) or the call comes from one
/// of its own threads, the job runs on the caller alone, so cores are never oversubscribed. Which
/// thread computes a part never changes its result: parts are fixed by the job, not by the threads.
/// </summary>
public static unsafe class WorkerPool
{
    private static readonly object Gate = new();
    private static Worker[] s_workers = [];
    private static int s_busy;
    [ThreadStatic] private static bool t_isWorker;

    // The job in flight. Spans cannot live in fields, so the job keeps pinned pointers for its duration.
    private static object? s_state;
    private static PartAction? s_body;
    private static int s_parts, s_next, s_done, s_active;
    private static float* s_input, s_output;
    private static int s_inputLength, s_outputLength;
    private static ExceptionDispatchInfo? s_error; // the first exception a part threw

    /// <summary>Threads a network uses when its own setting is not given: the machine's cores.</summary>
    public static int DefaultThreads { get; set; } = Environment.ProcessorCount;

    /// <summary>A part should hold at least this many floating-point operations, or the hand-over costs more than it saves.</summary>
    public const long MinFlopsPerPart = 2_000_000;

    /// <summary>
    /// How many parts to split a batch of <paramref name="batch"/> samples into: at most <paramref name="threads"/>,
    /// at most one per sample, and few enough that each part holds <see cref="MinFlopsPerPart"/> of work.
    /// The answer depends only on its arguments, so a batch is always split the same way.
    /// </summary>
    public static int PartsFor(int batch, int threads, long flopsPerSample)
    {
        long byWork = Math.Max(1, batch * flopsPerSample / MinFlopsPerPart);
        return (int)Math.Max(1, Math.Min(Math.Min(threads, batch), byWork));
    }

    /// <summary>
    /// Runs <paramref name="body"/> for parts 0 to <paramref name="parts"/>−1 and returns when all are done.
    /// Part 0 and any parts no worker has taken run on the calling thread. If a part throws, the parts not yet
    /// started are skipped, and once every running part has returned the first exception is rethrown here, on the
    /// caller's thread (a worker never lets one escape).
    /// </summary>
    public static void Run(int parts, object state, PartAction body, ReadOnlySpan<float> input, Span<float> output)
    {
        if (parts <= 1 || t_isWorker || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            for (int p = 0; p < Math.Max(parts, 1); p++) body(state, p, Math.Max(parts, 1), input, output);
            return;
        }
        try
        {
            EnsureWorkers(parts - 1);
            fixed (float* pin = input)
            fixed (float* pout = output)
            {
                s_state = state;
                s_body = body;
                s_input = pin;
                s_inputLength = input.Length;
                s_output = pout;
                s_outputLength = output.Length;
                s_parts = parts;
                s_done = 0;
                s_error = null;
                Volatile.Write(ref s_next, 0);
                int helpers = Math.Min(parts - 1, s_workers.Length);
                Volatile.Write(ref s_active, helpers);
                for (int w = 0; w < helpers; w++) s_workers[w].Wake();
                TakeParts();
                // Wait for every part, and for every woken worker to leave the job: only then may its fields change.
                var spin = new SpinWait();
                while (Volatile.Read(ref s_done) < parts || Volatile.Read(ref s_active) > 0) spin.SpinOnce(sleep1Threshold: -1);
                s_state = null;
                s_body = null;
                s_input = s_output = null;
            }
            var error = s_error;
            s_error = null;
            error?.Throw();
        }
        finally
        {
            Volatile.Write(ref s_busy, 0);
        }
    }

    // Claims parts until none are left. Runs on the caller and on every woken worker.
    private static void TakeParts()
    {
        int parts = s_parts;
        var body = s_body!;
        var state = s_state!;
        var input = new ReadOnlySpan<float>(s_input, s_inputLength);
        var output = new Span<float>(s_output, s_outputLength);
        int part;
        while ((part = Interlocked.Increment(ref s_next) - 1) < parts)
        {
            if (Volatile.Read(ref s_error) is null)
            {
                try
                {
                    body(state, part, parts, input, output);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref s_error, ExceptionDispatchInfo.Capture(e), null);
                }
            }
            Interlocked.Increment(ref s_done);
        }
    }

    private static void EnsureWorkers(int wanted)
    {
        wanted = Math.Min(wanted, Math.Max(Environment.ProcessorCount - 1, 1));
        if (s_workers.Length >= wanted) return;
        lock (Gate)
        {
            if (s_workers.Length >= wanted) return;
            var workers = new Worker[wanted];
            Array.Copy(s_workers, workers, s_workers.Length);
            for (int i = s_workers.Length; i < wanted; i++) workers[i] = new Worker(i);
            s_workers = workers;
        }
    }

    private sealed class Worker
    {
        private readonly SemaphoreSlim _signal = new(0);
        private int _pending;

        public Worker(int index)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = "GenNets worker " + index };
            thread.Start();
        }

        public void Wake()
        {
            Volatile.Write(ref _pending, 1);
            _signal.Release();
        }

        private void Loop()
        {
            t_isWorker = true;
            while (true)
            {
                // Spin a little first: training calls come back to back, and waking a blocked thread costs
                // more than the spin.
                var spin = new SpinWait();
                for (int i = 0; i < 200 && Volatile.Read(ref _pending) == 0; i++) spin.SpinOnce(sleep1Threshold: -1);
                _signal.Wait();
                Volatile.Write(ref _pending, 0);
                TakeParts();
                Interlocked.Decrement(ref s_active);
            }
        }
    }
}
