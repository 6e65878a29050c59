// Copyright (c) hcs contributors. Licensed under the MIT licence.
// Line-by-line C# transcription of Microsoft's "event callback" HCS sample (shared/seed/event-callback-sample.txt).
// C++ → C#: THROW_IF_FAILED → ThrowIfFailed, WI_ASSERT → Assert, unique_hcs_* → using/Dispose, LR"(...)" → """...""".

using Hcs.Client;
using Hcs.Schema;
using static Hcs.Client.ComputeCore;

namespace EventCallbackSample;

/// <summary>The seed scenario: create an empty UEFI VM, wait for creation, register the event callback.</summary>
public static class Sample
{
    public const string c_EmptyVM = """
    {
        "SchemaVersion": {
            "Major": 2,
            "Minor": 1
        },
        "Owner": "Sample",
        "VirtualMachine": {
            "Chipset": {
                "Uefi": {}
            },
            "ComputeTopology": {
                "Memory": {
                    "Backing": "Physical",
                    "SizeInMB": 1024
                },
                "Processor": {
                    "Count": 2
                }
            }
        },
        "ShouldTerminateOnLastHandleClosed": true
    }
    """;

    /// <summary>
    /// Runs the sample exactly as written: the returned handle has the callback registered.
    /// <paramref name="onEvent"/> sees every event the callback receives; <paramref name="assertions"/> collects WI_ASSERT failures.
    /// </summary>
    public static HcsSystem Run(string id, string configuration, Action<HcsEvent> onEvent, IList<string> assertions)
    {
        void Assert(bool condition, string what)
        {
            if (!condition)
            {
                lock (assertions)
                {
                    assertions.Add(what);
                }
            }
        }

        //
        // Start by creating a compute system.
        //
        using var operation = HcsCreateOperation(null, null);
        ThrowIfFailed(HcsCreateComputeSystem(id, configuration, operation, null, out var system));
        ThrowIfFailedMsg(HcsWaitForOperationResult(operation, INFINITE, out var resultDoc), resultDoc);

        //
        // Set the compute system's event callback function.
        // This callback is used to act on events that occur on compute systems
        // outside of an HCS operation. These vary on different contexts, and the
        // HCS_EVENT parameter determines what happened.
        //
        ThrowIfFailed(HcsSetComputeSystemCallback(
            system,
            HcsEventOptions.None,
            null,
            (ev, _) =>
            {
                onEvent(ev);
                switch (ev.Type)
                {
                    case HcsEventType.SystemExited:
                        // The compute system has exited (terminated, shut down, guest powered off, or an internal error).
                        // EventData is a JSON document that contains the system exit status.
                        Assert(ev.EventData != null, "SystemExited without EventData");
                        break;
                    case HcsEventType.SystemCrashInitiated:
                        // The guest operating system has initiated a crash. EventData is a JSON document with a guest report.
                        Assert(ev.EventData != null, "SystemCrashInitiated without EventData");
                        break;
                    case HcsEventType.SystemCrashReport:
                        // The guest has reported a crash. EventData can be used as input to HcsSubmitWerReport.
                        Assert(ev.EventData != null, "SystemCrashReport without EventData");
                        break;
                    case HcsEventType.SystemRdpEnhancedModeStateChanged:
                        // The compute system's RDP enhanced mode state has changed.
                        break;
                    case HcsEventType.SystemSiloJobCreated:
                        // Reserved for future use.
                        break;
                    case HcsEventType.SystemGuestConnectionClosed:
                        // The guest connection has been closed (expected or not).
                        break;
                    case HcsEventType.ProcessExited:
                        // Only valid for process callbacks set with HcsSetProcessCallback.
                        Assert(false, "ProcessExited on a compute system callback"); // Not valid for compute systems!
                        break;
                    case HcsEventType.OperationCallback:
                        // Only valid with HcsEventOptionEnableOperationCallbacks.
                        Assert(false, "OperationCallback without EnableOperationCallbacks"); // Not valid because we've used HcsEventOptionNone!
                        break;
                    case HcsEventType.ServiceDisconnect:
                        // The client has lost connection to the Host Compute Service.
                        break;
                    case HcsEventType.Invalid:
                    default:
                        Assert(false, $"unexpected event {ev.Type}"); // This shouldn't happen!
                        break;
                }
            }));

        return system!;
    }

    private static void ThrowIfFailed(int hr) => HcsException.ThrowIfFailed(hr);

    private static void ThrowIfFailedMsg(int hr, string? message)
    {
        if (hr < 0)
        {
            var result = message is null ? null : HcsJson.Deserialize<ResultError>(message);
            HcsException.Throw(hr, "EventCallbackSample", result: result);
        }
    }
}
