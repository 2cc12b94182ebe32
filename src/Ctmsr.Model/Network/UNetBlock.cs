using Ctmsr.Autograd;

namespace Ctmsr.Model.Network;

/// <summary>
/// EDM SongUNet block (spec section 3):
/// h = conv0(SiLU(norm0(x))) with 2x2 average pooling (down) or nearest x2 (up) before the conv;
/// h = SiLU(norm1(h + affine(emb))); h = conv1(dropout(h)); h = (h + skip(x)) / sqrt 2;
/// with attention, h = SwinLayer(h) / sqrt 2.
/// </summary>
public sealed class UNetBlock : Module
{
    readonly GroupNorm _norm0, _norm1;
    readonly Conv2d _conv0, _conv1;
    readonly Linear _affine;
    readonly Conv2d? _skip;
    readonly SwinLayer? _swin;
    readonly bool _up, _down;
    readonly float _dropout;
    readonly DropoutStream _rng;

    public static int Groups(int channels) => Math.Min(32, channels / 4);

    public UNetBlock(Context ctx, int cin, int cout, CtmsrConfig cfg, DropoutStream rng, bool up = false, bool down = false, bool attention = false) : base(ctx)
    {
        _up = up; _down = down; _dropout = cfg.Dropout; _rng = rng;
        _norm0 = RegisterModule("norm0", new GroupNorm(ctx, cin, Groups(cin), 1e-6f));
        _conv0 = RegisterModule("conv0", Conv(ctx, cin, cout, 3, up || down));
        _affine = RegisterModule("affine", new Linear(ctx, cfg.EmbChannels, cout));
        _norm1 = RegisterModule("norm1", new GroupNorm(ctx, cout, Groups(cout), 1e-6f));
        _conv1 = RegisterModule("conv1", new Conv2d(ctx, cout, cout, 3));
        if (cin != cout || up || down) _skip = RegisterModule("skip", Conv(ctx, cin, cout, 1, up || down));
        if (attention) _swin = RegisterModule("swin_layer", new SwinLayer(ctx, cout, cfg));
    }

    static Conv2d Conv(Context ctx, int cin, int cout, int k, bool resample) =>
        resample ? new ResampleConv2d(ctx, cin, cout, k) : new Conv2d(ctx, cin, cout, k);

    Tensor Resample(Tensor x) => _down ? F.AvgPool2x2(x) : _up ? F.UpsampleNearest2x(x) : x;

    public Tensor Forward(Tensor x, Tensor emb)
    {
        Tensor h;
        using (var a0 = _norm0.ForwardSilu(x))
        {
            if (_up || _down) { using var r = Resample(a0); h = _conv0.Forward(r); }
            else h = _conv0.Forward(a0);
        }
        Tensor h2;
        using (h)
        using (var e = _affine.Forward(emb))
        using (var he = F.AddPerChannel(h, e))
        using (var a1 = _norm1.ForwardSilu(he))
        {
            if (Training && _dropout > 0)
            {
                using var d = F.Dropout(a1, _dropout, _rng.Seed, _rng.Take(a1.Count));
                h2 = _conv1.Forward(d);
            }
            else h2 = _conv1.Forward(a1);
        }
        Tensor o;
        using (h2)
        {
            if (_skip is not null)
            {
                if (_up || _down) { using var r = Resample(x); using var sk = _skip.Forward(r); o = F.AddScaled(h2, MathF.Sqrt(0.5f), sk, MathF.Sqrt(0.5f)); }
                else { using var sk = _skip.Forward(x); o = F.AddScaled(h2, MathF.Sqrt(0.5f), sk, MathF.Sqrt(0.5f)); }
            }
            else o = F.AddScaled(h2, MathF.Sqrt(0.5f), x, MathF.Sqrt(0.5f));
        }
        if (_swin is null) return o;
        using (o)
        using (var sw = _swin.Forward(o))
            return F.Scale(sw, MathF.Sqrt(0.5f));
    }
}

/// <summary>
/// The model's dropout random stream: a Philox seed and a running element offset (saved with checkpoints).
/// Data-parallel ranks each hold one contiguous slice (<see cref="Shard"/> of <see cref="Shards"/>) of the global
/// batch: a rank's tensor is that slice of the single-process tensor, so it takes that slice of the offsets and the
/// stream advances by the global count, and every rank draws the masks one process would have drawn.
/// </summary>
public sealed class DropoutStream(ulong seed)
{
    public ulong Seed { get; set; } = seed;
    public ulong Offset { get; set; }
    public int Shard { get; set; }
    public int Shards { get; set; } = 1;
    public ulong Take(long count) { ulong o = Offset + (ulong)Shard * (ulong)count; Offset += (ulong)Shards * (ulong)count; return o; }
}
