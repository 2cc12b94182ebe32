using Ctmsr.Kernels;

namespace Ctmsr.Autograd;

/// <summary>
/// A float32 tensor on a device: shape, a pooled device buffer (which may be longer than the
/// element count), and optionally a gradient. Ops live in <see cref="F"/>.
/// Disposal returns the buffer to the pool; a tensor that the tape saved for backward is kept
/// until its scope ends (disposing it early is deferred, so `using` on temporaries is always safe).
/// </summary>
public sealed class Tensor : IDisposable
{
    public Context Ctx { get; }
    public int[] Shape { get; }
    public long Count { get; }
    DeviceBuffer? _buffer;
    public DeviceBuffer Buffer => _buffer ?? throw new ObjectDisposedException("tensor", "the tensor was disposed");
    public bool RequiresGrad { get; set; }
    public Tensor? Grad { get; set; }
    /// <summary>Parameters, their gradients and optimiser state live outside scopes.</summary>
    public bool Persistent { get; }
    internal bool Saved { get; set; }

    public Backend Backend => Ctx.Backend;
    public int Rank => Shape.Length;
    public int this[int dim] => Shape[dim < 0 ? Shape.Length + dim : dim];

    internal Tensor(Context ctx, int[] shape, bool persistent)
    {
        Ctx = ctx;
        Shape = shape;
        long n = 1;
        foreach (int s in shape)
        {
            if (s < 0) throw new ArgumentException($"negative dimension in shape [{string.Join(", ", shape)}]");
            n *= s;
        }
        Count = n;
        Persistent = persistent;
        _buffer = ctx.Pool.Rent(Math.Max(1, n));
        if (!persistent) Tape.Register(this);
    }

    public static Tensor Empty(Context ctx, params int[] shape) => new(ctx, shape, false);
    public static Tensor EmptyPersistent(Context ctx, params int[] shape) => new(ctx, shape, true);

    public static Tensor Zeros(Context ctx, params int[] shape)
    {
        var t = new Tensor(ctx, shape, false);
        ctx.Backend.Fill(t.Buffer, 0f, 0, t.Count);
        return t;
    }

    public static Tensor From(Context ctx, ReadOnlySpan<float> data, params int[] shape)
    {
        var t = new Tensor(ctx, shape, false);
        if (data.Length != t.Count) throw new ArgumentException($"{data.Length} values do not fill shape [{string.Join(", ", shape)}] ({t.Count})");
        ctx.Backend.Upload(data, t.Buffer);
        return t;
    }

    public static Tensor Full(Context ctx, float value, params int[] shape)
    {
        var t = new Tensor(ctx, shape, false);
        ctx.Backend.Fill(t.Buffer, value, 0, t.Count);
        return t;
    }

    public float[] ToArray()
    {
        var r = new float[Count];
        Backend.Download(Buffer, r);
        return r;
    }

    public float ToScalar() => Count == 1 ? ToArray()[0] : throw new InvalidOperationException($"ToScalar() needs one element, the tensor has {Count}");

    public void CopyFrom(ReadOnlySpan<float> data)
    {
        if (data.Length != Count) throw new ArgumentException($"{data.Length} values for a tensor of {Count}");
        Backend.Upload(data, Buffer);
    }

    /// <summary>The same values in another shape with the same element count (a copy, differentiable).</summary>
    public Tensor Reshape(params int[] shape) => F.Reshape(this, shape);

    /// <summary>A copy that is not connected to the graph.</summary>
    public Tensor Detach()
    {
        var t = Empty(Ctx, (int[])Shape.Clone());
        Backend.CopyStrided([(int)Count], Buffer, 0, [1], t.Buffer, 0, [1], false);
        return t;
    }

    /// <summary>Reverse-mode differentiation from this tensor, seeded with ones (a scalar loss) or <paramref name="seed"/>.</summary>
    public void Backward(Tensor? seed = null)
    {
        if (!RequiresGrad) throw new InvalidOperationException("Backward() on a tensor that does not require a gradient (was it computed under NoGrad, or from inputs without RequiresGrad?)");
        if (seed is not null && seed.Count != Count) throw new ArgumentException("gradient seed has the wrong size");
        Grad?.Dispose();
        Grad = seed is null ? Full(Ctx, 1f, Shape) : seed.Detach();
        var entries = Tape.Entries;
        using (Tape.NoGrad())
        {
            for (int i = entries.Count - 1; i >= 0; i--)
            {
                var (output, backward) = entries[i];
                if (output.Grad is null) continue;
                backward();
                Tape.Observer?.ClosureDone();
                // Nothing reads an op output's gradient once its own backward has run (inputs get their own
                // gradient tensors; none alias), so it goes back to the pool now rather than at the scope's end.
                if (!output.Persistent) { output.Grad.ForceDispose(); output.Grad = null; }
            }
        }
        Tape.Clear();
    }

    /// <summary>The gradient buffer of an input for a backward closure: (tensor, accumulate).</summary>
    internal (Tensor grad, bool accumulate) GradSlot()
    {
        if (Persistent) Tape.Observer?.GradientWritten(this);
        if (Grad is not null) return (Grad, true);
        Grad = Persistent ? EmptyPersistent(Ctx, Shape) : Empty(Ctx, Shape);
        return (Grad, false);
    }

    /// <summary>Like <see cref="GradSlot"/> for kernels that can only accumulate: a fresh gradient is zeroed first.</summary>
    internal Tensor GradZeroed()
    {
        var (g, acc) = GradSlot();
        if (!acc) Backend.Fill(g.Buffer, 0f, 0, g.Count);
        return g;
    }

    public void ZeroGrad()
    {
        Grad?.ForceDispose();
        Grad = null;
    }

    public void Dispose()
    {
        if (Saved && Tape.Entries.Count > 0) return; // still needed by backward; its scope disposes it
        ForceDispose();
    }

    internal void ForceDispose()
    {
        if (_buffer is null) return;
        Ctx.Pool.Return(_buffer);
        _buffer = null;
        if (!Persistent) Tape.Unregister(this);
    }

    public override string ToString() => $"Tensor[{string.Join(", ", Shape)}] on {Backend.Name}";
}
