namespace Ctmsr.Cli;

/// <summary>
/// Ctrl+C in a long verb: the first press cancels the work (seen between model evaluations) and, if the work has not
/// wound down within <paramref name="grace"/>, leaves through <paramref name="leave"/> (one evaluation of a large
/// model on a large tile takes seconds); a second press leaves at once. <paramref name="leave"/> runs at most once.
/// </summary>
sealed class InterruptPolicy(CancellationTokenSource cts, Action<bool> leave, TimeSpan grace)
{
    int _presses, _left;

    /// <summary>One Ctrl+C.</summary>
    public void Press()
    {
        if (Interlocked.Increment(ref _presses) > 1) { Leave(second: true); return; }
        cts.Cancel();
        _ = Task.Delay(grace).ContinueWith(_ => Leave(second: false), TaskScheduler.Default);
    }

    /// <summary>Claims the exit for the verb's own wind-down; false when a forced exit already did.</summary>
    public bool ClaimExit() => Interlocked.Exchange(ref _left, 1) == 0;

    void Leave(bool second)
    {
        if (Interlocked.Exchange(ref _left, 1) != 0) return;
        leave(second);
    }
}
