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

    private static int s_defaultThreads = Environment.ProcessorCount;

    /// <summary>Threads a network uses when its own setting is not given: the machine's cores. At least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public static int DefaultThreads
    {
        get => s_defaultThreads;
        set => s_defaultThreads = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "DefaultThreads must be at least 1.");
    }

    /// <summary>A part should hold at least this many floating-point operations, or the hand-over costs more than it saves.</summary>
    public const long MinFlopsPerPart = 2_000_000;

    /// <summary>A chunk of a batch holds at least this many samples where the batch allows (one strip of the dense kernels).</summary>
    public const int MinSamplesPerChunk = 16;

    /// <summary>A batch is cut into at most this many chunks, whatever the number of threads.</summary>
    public const int MaxChunks = 16;

    /// <summary>
    /// How many chunks to cut a batch of <paramref name="batch"/> samples into: at most <see cref="MaxChunks"/>, each of at
    /// least <paramref name="minSamples"/> samples (when the batch has that many) and <see cref="MinFlopsPerPart"/> of work.
    /// The answer depends on the batch and the network alone, never on the number of threads: threads take whole chunks,
    /// and whatever sums over a batch sums the chunks' parts in chunk order, so a result is the same bits on any machine.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> or <paramref name="minSamples"/> is below 1, or <paramref name="flopsPerSample"/> below 0.</exception>
    public static int ChunksFor(int batch, long flopsPerSample, int minSamples = MinSamplesPerChunk)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "A batch has at least one sample.");
        if (minSamples < 1) throw new ArgumentOutOfRangeException(nameof(minSamples), minSamples, "A chunk has at least one sample.");
        if (flopsPerSample < 0) throw new ArgumentOutOfRangeException(nameof(flopsPerSample), flopsPerSample, "A sample's work cannot be negative.");
        long bySize = batch / minSamples;
        long byWork = flopsPerSample > long.MaxValue / batch ? long.MaxValue : batch * flopsPerSample / MinFlopsPerPart;
        return (int)Math.Max(1, Math.Min(Math.Min(bySize, byWork), MaxChunks));
    }

    /// <summary>
    /// The first of <paramref name="count"/> items that part <paramref name="part"/> of <paramref name="parts"/> takes: parts
    /// are contiguous runs of as equal sizes as can be, and part <paramref name="parts"/> starts at <paramref name="count"/>.
    /// Computed in 64 bits, so no count overflows.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="part"/> is outside 0 to <paramref name="parts"/>, or <paramref name="count"/> is negative.</exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static int Start(int count, int part, int parts)
    {
        if ((uint)part > (uint)parts || parts == 0 || count < 0) ThrowPart(count, part, parts);
        return (int)((long)count * part / parts);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void ThrowPart(int count, int part, int parts)
        => throw new ArgumentOutOfRangeException(nameof(part), part, $"Part {part} of {parts} parts of {count} items: parts must be at least 1, the part from 0 to the parts, the count at least 0.");

    /// <summary>
    /// Runs <paramref name="body"/> for parts 0 to <paramref name="parts"/>−1 on at most <paramref name="threads"/> threads
    /// (the caller among them) and returns when all are done. The threads claim whole parts in turn; which thread runs which
    /// part never changes a part's work. If a part throws, the parts not yet started are skipped, and once every running part
    /// has returned the first exception is rethrown here, on the caller's thread (a worker never lets one escape).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="state"/> or <paramref name="body"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is below 1.</exception>
    public static void Run(int parts, int threads, object state, PartAction body, ReadOnlySpan<float> input, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(body);
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "Threads must be at least 1.");
        if (parts <= 1 || threads == 1 || t_isWorker || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            for (int p = 0; p < Math.Max(parts, 1); p++) body(state, p, Math.Max(parts, 1), input, output);
            return;
        }
        try
        {
            int helpers = Math.Min(parts, threads) - 1;
            EnsureWorkers(helpers);
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
                helpers = Math.Min(helpers, s_workers.Length);
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
