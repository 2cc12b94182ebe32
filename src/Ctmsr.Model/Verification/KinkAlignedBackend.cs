using Ctmsr.Kernels;

namespace Ctmsr.Model.Verification;

/// <summary>
/// LeakyReLU (and ReLU) has a kink at 0: an input within rounding of zero can land on the other side in a float32 forward than in
/// the float64 run that made a golden fixture, and the backward then takes the other slope there (x5 at that element:
/// one element out of millions moves a bias gradient by ~1e-3, a failure that says nothing about the kernels). This
/// decorator takes the subgradient choice from the float64 run at exactly those elements: the backward of each LeakyReLU or ReLU
/// sees an input whose sign agrees with the reference's wherever the reference's |input| is below
/// <see cref="Undecided"/> times that call's RMS. Everything else, the forward included, runs unchanged. It counts what it
/// aligned and the sign differences it refused to align (outside that band: a wrong forward); <see cref="Problem"/> says
/// when those counts mean the forward is off rather than rounded.
/// </summary>
public sealed class KinkAlignedBackend(Backend inner, IReadOnlyList<float[]> referenceInputs, bool ownsInner = true) : ForwardingBackend(inner, ownsInner)
{
    /// <summary>A reference input this close to zero (relative to the call's RMS) is within float32's reach of the kink.</summary>
    public const double Undecided = 1e-4;
    /// <summary>More aligned elements than this in one call is not rounding: the forward is off.</summary>
    public const int MaxPerCall = 16;

    readonly Dictionary<DeviceBuffer, int> _call = new(ReferenceEqualityComparer.Instance);
    readonly HashSet<int> _matched = new();
    int _calls;

    /// <summary>Elements whose sign was taken from the reference, per kinked activation call in forward order.</summary>
    public List<int> Aligned { get; } = new();
    /// <summary>Sign differences outside the undecided band (left as they are; a correct forward has none).</summary>
    public int Refused { get; private set; }
    /// <summary>Kinked activation calls of the reference run.</summary>
    public int ReferenceCalls => referenceInputs.Count;

    /// <summary>The activations with a kink at 0 whose inputs are recorded and aligned.</summary>
    public static bool Kinked(Activation act) => act is Activation.LeakyReLU or Activation.ReLU;

    /// <summary>Why the alignment cannot be trusted after a forward and backward (null when it can): a kinked backward
    /// that was not matched to its reference call, too many elements at one kink, or a sign difference away from it.</summary>
    public string? Problem()
    {
        if (_matched.Count != referenceInputs.Count)
            return $"{_matched.Count} of the reference's {referenceInputs.Count} kinked activation calls were matched in the backward";
        if (Aligned.Count > 0 && Aligned.Max() > MaxPerCall)
            return $"{Aligned.Max()} inputs of one call rounded across the kink (at most {MaxPerCall} is rounding): the forward is off";
        if (Refused > 0)
            return $"{Refused} inputs away from the kink have the other sign than in float64: the forward is off";
        return null;
    }

    /// <summary>What was aligned, in one line (verify and selfcheck print it).</summary>
    public string Summary() =>
        $"{Aligned.Sum()} LeakyReLU inputs within {Undecided:0e0} x RMS of 0 took their backward slope from float64 (at most " +
        $"{(Aligned.Count == 0 ? 0 : Aligned.Max())} in one of {ReferenceCalls} calls, bound {MaxPerCall}; other sign differences {Refused})";

    /// <summary>Records the input of every kinked activation's forward, in call order (run it on the float64 reference).</summary>
    public sealed class Recorder(Backend inner) : ForwardingBackend(inner)
    {
        public List<float[]> Inputs { get; } = new();
        public override void ActivationForward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer y)
        {
            if (Kinked(act)) { var a = new float[count]; Inner.Download(x, a); Inputs.Add(a); }
            Inner.ActivationForward(act, slope, count, x, y);
        }
    }

    public override void ActivationForward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer y)
    {
        if (Kinked(act)) _call[x] = _calls++;
        Inner.ActivationForward(act, slope, count, x, y);
    }

    public override void ActivationBackward(Activation act, float slope, long count, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, bool accumulate)
    {
        if (!Kinked(act) || !_call.TryGetValue(x, out int k) || k >= referenceInputs.Count || referenceInputs[k].Length != count)
        {
            Inner.ActivationBackward(act, slope, count, x, dy, dx, accumulate);
            return;
        }
        var r = referenceInputs[k];
        var ours = new float[count];
        Inner.Download(x, ours);
        double rms = Math.Sqrt(r.Sum(v => (double)v * v) / Math.Max(1, r.Length));
        int aligned = 0;
        for (int i = 0; i < count; i++)
        {
            if (ours[i] > 0 == r[i] > 0) continue;
            if (Math.Abs(r[i]) <= Undecided * rms) { ours[i] = r[i]; aligned++; }
            else Refused++;
        }
        _matched.Add(k);
        while (Aligned.Count <= k) Aligned.Add(0);
        Aligned[k] += aligned;
        using var patched = Inner.Allocate(count);
        Inner.Upload(ours, patched);
        Inner.ActivationBackward(act, slope, count, patched, dy, dx, accumulate);
    }
}
