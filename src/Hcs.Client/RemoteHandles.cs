// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Hcs.Contracts;
using Hcs.Protocol;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>
/// What system and process handles on hcsd share: the wire number, open/closed/disconnected, and the one event
/// subscription (events the session stream brings before the subscription are dropped, as the engine drops events
/// of a handle nobody subscribed to).
/// </summary>
internal abstract class RemoteHandle : IAsyncDisposable
{
    private const int Open = 0;
    private const int Closed = 1;
    private const int Disconnected = 2;
    private readonly Lock _gate = new();
    private Channel<HcsEventRecord>? _events; // guarded by _gate
    private HcsEventRecord? _exit; // guarded by _gate: SystemExited/ProcessExited, replayed to a late subscription as the engine does
    private int _state;

    protected RemoteHandle(RemoteSession session, ulong number)
    {
        Session = session;
        Number = number;
    }

    public ulong Number { get; }

    protected RemoteSession Session { get; }

    protected abstract string SystemIdForErrors { get; }

    protected abstract uint? ProcessIdForErrors { get; }

    protected abstract string SubscribeLabel { get; }

    public void Deliver(HcsEventRecord record)
    {
        lock (_gate)
        {
            if (record.Type == HcsEventType.ServiceDisconnect)
            {
                if (Interlocked.CompareExchange(ref _state, Disconnected, Open) != Open)
                {
                    return;
                }

                _events?.Writer.TryWrite(record);
                _events?.Writer.TryComplete();
                return;
            }

            if (record.Type is HcsEventType.SystemExited or HcsEventType.ProcessExited)
            {
                _exit = record;
            }

            _events?.Writer.TryWrite(record);
        }
    }

    /// <summary>The service went away: one <c>ServiceDisconnect</c>, then the stream ends.</summary>
    public void OnServiceDisconnected() => Deliver(new HcsEventRecord(HcsEventType.ServiceDisconnect, null));

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (Interlocked.CompareExchange(ref _state, Closed, Open) != Open)
            {
                if (Volatile.Read(ref _state) == Closed)
                {
                    return;
                }

                // Disconnected: closing is local only, and later calls still say the service went away.
                Session.Untrack(this);
                return;
            }

            _events?.Writer.TryComplete();
        }

        Session.Untrack(this);
        await Session.CloseOnServiceAsync(Number).ConfigureAwait(false);
    }

    protected IAsyncEnumerable<HcsEventRecord> SubscribeEventsAsync(CancellationToken cancellationToken)
    {
        ChannelReader<HcsEventRecord> reader;
        lock (_gate)
        {
            ThrowIfNotOpen(SubscribeLabel);
            if (_events is not null)
            {
                throw new HcsException(HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET, SubscribeLabel, SystemIdForErrors, ProcessIdForErrors);
            }

            _events = Channel.CreateUnbounded<HcsEventRecord>(new UnboundedChannelOptions { SingleReader = true });
            if (_exit is not null)
            {
                _events.Writer.TryWrite(_exit);
            }

            reader = _events.Reader;
        }

        return ReadAllAsync(reader, cancellationToken);
    }

    protected void ThrowIfNotOpen(string label)
    {
        switch (Volatile.Read(ref _state))
        {
            case Closed:
                throw new HcsException(HResults.E_HANDLE, label, SystemIdForErrors, ProcessIdForErrors);
            case Disconnected:
                throw new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, label, SystemIdForErrors, ProcessIdForErrors);
        }
    }

    protected async Task<string> JsonCallAsync(string label, Request request, CancellationToken cancellationToken)
    {
        ThrowIfNotOpen(label);
        return await Session.JsonAsync(label, SystemIdForErrors, ProcessIdForErrors, request, cancellationToken).ConfigureAwait(false);
    }

    private static async IAsyncEnumerable<HcsEventRecord> ReadAllAsync(ChannelReader<HcsEventRecord> reader,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (reader.TryRead(out var record))
            {
                yield return record;
            }
        }
    }
}

/// <summary>A system handle on hcsd.</summary>
internal sealed class RemoteSystemHandle(RemoteSession session, ulong number, string id) : RemoteHandle(session, number), ISystemHandle
{
    public string Id { get; } = id;

    protected override string SystemIdForErrors => Id;

    protected override uint? ProcessIdForErrors => null;

    protected override string SubscribeLabel => "ComputeSystem.SetCallback";

    public Task WaitForCreatedAsync(CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.WaitForCreated, "ComputeSystem.Create", null, cancellationToken);

    public Task StartAsync(string? options, CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.Start, "ComputeSystem.Start", options, cancellationToken);

    public Task ShutDownAsync(string? options, CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.ShutDown, "ComputeSystem.ShutDown", options, cancellationToken);

    public Task TerminateAsync(string? options, CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.Terminate, "ComputeSystem.Terminate", options, cancellationToken);

    public Task PauseAsync(string? options, CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.Pause, "ComputeSystem.Pause", options, cancellationToken);

    public Task ResumeAsync(string? options, CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.Resume, "ComputeSystem.Resume", options, cancellationToken);

    public Task SaveAsync(string? options, CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.Save, "ComputeSystem.Save", options, cancellationToken);

    public Task CrashAsync(string? options, CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.Crash, "ComputeSystem.Crash", options, cancellationToken);

    public Task ModifyAsync(string request, CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.Modify, "ComputeSystem.Modify", request, cancellationToken);

    public Task<string> GetPropertiesAsync(string? query, CancellationToken cancellationToken = default) =>
        VerbAsync(SystemVerb.GetProperties, "ComputeSystem.GetProperties", query, cancellationToken);

    public Task<string> WaitForExitAsync(CancellationToken cancellationToken = default) =>
        VerbAsync(SystemVerb.WaitForExit, "ComputeSystem.WaitForExit", null, cancellationToken);

    public IAsyncEnumerable<HcsEventRecord> ReadEventsAsync(CancellationToken cancellationToken = default) => SubscribeEventsAsync(cancellationToken);

    public async Task<IProcessHandle> CreateProcessAsync(string parameters, CancellationToken cancellationToken = default)
    {
        const string Label = "ComputeProcess.Create";
        ThrowIfNotOpen(Label);
        var request = new Request { CreateProcess = new CreateProcessRequest { SystemHandle = Number, Parameters = parameters ?? "" } };
        var reply = await Session.CallAsync(Label, Id, null, request, Reply.ResultOneofCase.Process, cancellationToken).ConfigureAwait(false);
        var handle = new RemoteProcessHandle(Session, reply.Process, Id);
        Session.Track(handle);
        await handle.AttachStdioAsync().ConfigureAwait(false);
        return handle;
    }

    public async Task<IProcessHandle> OpenProcessAsync(uint processId, CancellationToken cancellationToken = default)
    {
        const string Label = "ComputeProcess.Open";
        ThrowIfNotOpen(Label);
        var request = new Request { OpenProcess = new OpenProcessRequest { SystemHandle = Number, ProcessId = processId } };
        var reply = await Session.CallAsync(Label, Id, processId, request, Reply.ResultOneofCase.Process, cancellationToken).ConfigureAwait(false);
        var handle = new RemoteProcessHandle(Session, reply.Process, Id);
        Session.Track(handle);
        return handle;
    }

    private Task<string> VerbAsync(SystemVerb verb, string label, string? json, CancellationToken cancellationToken)
    {
        var call = new SystemCallRequest { Handle = Number, Verb = verb };
        if (json is not null)
        {
            call.Json = json;
        }

        return JsonCallAsync(label, new Request { SystemCall = call }, cancellationToken);
    }
}

/// <summary>A process handle on hcsd; a created process's stdio runs over one <c>ProcessStdio</c> stream.</summary>
internal sealed class RemoteProcessHandle : RemoteHandle, IProcessHandle
{
    private const long StdioBuffer = 1024 * 1024;
    private readonly string _systemId;
    private readonly Pipe? _stdout;
    private readonly Pipe? _stderr;
    private readonly StdinStream? _stdin;
    private readonly TaskCompletionSource _stdinClosed = new(TaskCreationOptions.RunContinuationsAsynchronously); // hcsd wrote all stdin and closed it
    private readonly SemaphoreSlim _syncGate = new(1, 1); // one stdin sync at a time
    private TaskCompletionSource? _synced; // the sync in flight: hcsd wrote every byte sent before it
    private volatile bool _stdioEnded;
    private AsyncDuplexStreamingCall<StdioChunk, StdioChunk>? _stdio;

    public RemoteProcessHandle(RemoteSession session, ProcessReply reply, string systemId)
        : base(session, reply.Handle)
    {
        _systemId = systemId;
        ProcessId = reply.ProcessId;
        if (reply.HasStdin || reply.HasStdout || reply.HasStderr)
        {
            var options = new PipeOptions(pauseWriterThreshold: StdioBuffer, resumeWriterThreshold: StdioBuffer / 2, useSynchronizationContext: false);
            _stdout = reply.HasStdout ? new Pipe(options) : null;
            _stderr = reply.HasStderr ? new Pipe(options) : null;
            _stdin = reply.HasStdin ? new StdinStream(this) : null;
            Stdio = new ProcessStdio(_stdin, _stdout?.Reader.AsStream(), _stderr?.Reader.AsStream());
        }
    }

    public uint ProcessId { get; }

    public ProcessStdio? Stdio { get; }

    protected override string SystemIdForErrors => _systemId;

    protected override uint? ProcessIdForErrors => ProcessId;

    protected override string SubscribeLabel => "ComputeProcess.SetCallback";

    public Task SignalAsync(string? options, CancellationToken cancellationToken = default) => VerbAsync(ProcessVerb.Signal, "ComputeProcess.Signal", options, cancellationToken);

    public Task TerminateAsync(CancellationToken cancellationToken = default) => VerbAsync(ProcessVerb.ProcessTerminate, "ComputeProcess.Terminate", null, cancellationToken);

    public Task<string> GetPropertiesAsync(string? query, CancellationToken cancellationToken = default) =>
        VerbAsync(ProcessVerb.ProcessGetProperties, "ComputeProcess.GetProperties", query, cancellationToken);

    public async Task ModifyAsync(string request, CancellationToken cancellationToken = default)
    {
        if (_stdin is not null && request is not null && ClosesStdIn(request))
        {
            // What was written to stdin travels on the stdio stream, this request on the session stream: first wait
            // until hcsd says the process has every byte written so far, so the close cannot overtake them (in process,
            // a write that returned is in the pipe).
            try
            {
                await SyncStdinAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new HcsException(HResults.ERROR_CANCELLED, "ComputeProcess.Modify", _systemId, ProcessId);
            }
        }

        await VerbAsync(ProcessVerb.ProcessModify, "ComputeProcess.Modify", request, cancellationToken).ConfigureAwait(false);
    }

    public Task<string> WaitForExitAsync(CancellationToken cancellationToken = default) =>
        VerbAsync(ProcessVerb.ProcessWaitForExit, "ComputeProcess.WaitForExit", null, cancellationToken);

    public IAsyncEnumerable<HcsEventRecord> ReadEventsAsync(CancellationToken cancellationToken = default) => SubscribeEventsAsync(cancellationToken);

    /// <summary>Opens the stdio stream and starts copying stdout/stderr into bounded pipes (back-pressure reaches the process).</summary>
    internal async Task AttachStdioAsync()
    {
        if (Stdio is null)
        {
            return;
        }

        var headers = await Session.HeadersAsync().ConfigureAwait(false);
        _stdio = Session.Rpc.ProcessStdio(new CallOptions(headers));
        await _stdio.RequestStream.WriteAsync(new StdioChunk { Handle = Number }).ConfigureAwait(false);
        _ = Task.Run(() => PumpOutputAsync(_stdio));
    }

    internal async Task WriteStdinAsync(ReadOnlyMemory<byte> data, bool eof, CancellationToken cancellationToken, bool sync = false)
    {
        if (_stdio is null)
        {
            throw new IOException("stdin is not attached");
        }

        try
        {
            await _stdio.RequestStream.WriteAsync(new StdioChunk { Stream = StdioStream.Stdin, Data = ByteString.CopyFrom(data.Span), Eof = eof, Sync = sync }, cancellationToken)
                .ConfigureAwait(false);
            if (eof)
            {
                await _stdio.RequestStream.CompleteAsync().ConfigureAwait(false);
            }
        }
        catch (RpcException e)
        {
            throw new IOException("the process's stdin is closed", e);
        }
        catch (InvalidOperationException e)
        {
            throw new IOException("the process's stdin is closed", e);
        }
    }

    private async Task PumpOutputAsync(AsyncDuplexStreamingCall<StdioChunk, StdioChunk> call)
    {
        try
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
            {
                var chunk = call.ResponseStream.Current;
                if (chunk.Stream == StdioStream.Stdin)
                {
                    if (chunk.Sync)
                    {
                        Volatile.Read(ref _synced)?.TrySetResult();
                    }

                    if (chunk.Eof)
                    {
                        _stdinClosed.TrySetResult();
                    }

                    continue;
                }

                var pipe = chunk.Stream == StdioStream.Stdout ? _stdout : chunk.Stream == StdioStream.Stderr ? _stderr : null;
                if (pipe is null)
                {
                    continue;
                }

                if (!chunk.Data.IsEmpty)
                {
                    var flushed = await pipe.Writer.WriteAsync(chunk.Data.Memory).ConfigureAwait(false);
                    if (flushed.IsCompleted)
                    {
                        continue; // the reader gave up: drop the rest of this stream
                    }
                }

                if (chunk.Eof)
                {
                    await pipe.Writer.CompleteAsync().ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is RpcException or IOException or OperationCanceledException or InvalidOperationException)
        {
            // The service went away: the streams end here.
        }
        finally
        {
            _stdioEnded = true;
            _stdinClosed.TrySetResult(); // the stream ended: nothing more of stdin can reach the process
            Volatile.Read(ref _synced)?.TrySetResult();
            if (_stdout is not null)
            {
                await _stdout.Writer.CompleteAsync().ConfigureAwait(false);
            }

            if (_stderr is not null)
            {
                await _stderr.Writer.CompleteAsync().ConfigureAwait(false);
            }

            call.Dispose();
        }
    }

    private Task<string> VerbAsync(ProcessVerb verb, string label, string? json, CancellationToken cancellationToken)
    {
        var call = new ProcessCallRequest { Handle = Number, Verb = verb };
        if (json is not null)
        {
            call.Json = json;
        }

        return JsonCallAsync(label, new Request { ProcessCall = call }, cancellationToken);
    }

    /// <summary>
    /// Waits until hcsd has written every stdin byte sent so far into the process (or stdin is closed, or the stdio stream
    /// ended, when nothing more can arrive).
    /// </summary>
    private async Task SyncStdinAsync(CancellationToken cancellationToken)
    {
        await _syncGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var synced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _synced, synced);
            if (_stdioEnded || !await _stdin!.TrySendSyncAsync(cancellationToken).ConfigureAwait(false))
            {
                await _stdinClosed.Task.WaitAsync(cancellationToken).ConfigureAwait(false); // closed by its owner: wait for its end
                return;
            }

            await synced.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _syncGate.Release();
        }
    }

    /// <summary>True when <paramref name="request"/> is a ProcessModifyRequest that closes stdin (a malformed one goes to hcsd, which says why).</summary>
    private static bool ClosesStdIn(string request)
    {
        try
        {
            return HcsJson.Deserialize<ProcessModifyRequest>(request) is { Operation: ModifyOperation.CloseHandle, CloseHandle.Handle: StdHandle.StdIn or StdHandle.All };
        }
        catch (HcsException)
        {
            return false;
        }
    }

    /// <summary>The process's stdin: each write is one chunk on the stdio stream; disposing it closes stdin.</summary>
    private sealed class StdinStream(RemoteProcessHandle owner) : Stream
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private bool _closed;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => !_closed;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Blocking.Run(WriteAsync(buffer.AsMemory(offset, count)).AsTask());

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                ObjectDisposedException.ThrowIf(_closed, this);
                for (var offset = 0; offset < buffer.Length; offset += 64 * 1024)
                {
                    await owner.WriteStdinAsync(buffer.Slice(offset, Math.Min(64 * 1024, buffer.Length - offset)), false, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                _gate.Release();
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        /// <summary>Asks hcsd to answer once every byte written so far is in the process; false if stdin is closed.</summary>
        public async Task<bool> TrySendSyncAsync(CancellationToken cancellationToken)
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_closed)
                {
                    return false;
                }

                await owner.WriteStdinAsync(ReadOnlyMemory<byte>.Empty, false, cancellationToken, sync: true).ConfigureAwait(false);
                return true;
            }
            catch (IOException)
            {
                return false; // the stream broke: its end completes the wait
            }
            finally
            {
                _gate.Release();
            }
        }

        public override async ValueTask DisposeAsync()
        {
            await CloseAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }

        private async Task CloseAsync()
        {
            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (!_closed)
                {
                    _closed = true;
                    try
                    {
                        await owner.WriteStdinAsync(ReadOnlyMemory<byte>.Empty, true, CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (IOException)
                    {
                        // Already closed on the other side.
                    }
                }
            }
            finally
            {
                _gate.Release();
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Blocking.Run(CloseAsync());
            }

            base.Dispose(disposing);
        }
    }
}
