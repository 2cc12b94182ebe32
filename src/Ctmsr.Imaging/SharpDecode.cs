using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Pbm;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SL = SixLabors.ImageSharp;

namespace Ctmsr.Imaging;

/// <summary>Decoding through ImageSharp: the header is identified first and the pixel limit checked before any
/// pixel buffer exists; each decode then runs under a memory budget sized from that header. Samples are stored
/// values (no gamma or colour management, as cv2.imread), EXIF orientation is applied, grey stays grey, and alpha is
/// kept where the file has it (PNG alpha or tRNS; any other format with a pixel below full opacity).</summary>
internal static class SharpDecode
{
    static readonly Configuration Base = MakeBase();

    static Configuration MakeBase()
    {
        var c = Configuration.Default.Clone();
        // An animated GIF is a sequence; the first frame is the picture.
        c.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
        return c;
    }

    /// <summary>ImageSharp's thread cap, on the decoders' configuration and on the default one the encoders use.</summary>
    public static int Threads
    {
        get => Base.MaxDegreeOfParallelism;
        set
        {
            Base.MaxDegreeOfParallelism = value;
            Configuration.Default.MaxDegreeOfParallelism = value;
        }
    }

    /// <summary>The format of the leading bytes as ImageSharp recognises it (TGA by its header's plausibility), or null.</summary>
    public static IImageFormat? DetectFormat(ReadOnlySpan<byte> bytes) => SL.Image.DetectFormat(Base, bytes);

    public static Image Decode(byte[] bytes, string name, ImageDecodeOptions opt)
    {
        var cfg = Base.Clone();
        var detected = SL.Image.DetectFormat(cfg, bytes);
        if (detected is null)
            throw new ImageFormatException(name, $"{ImageCodec.DescribeUnknown(bytes)}: convert it to PNG or JPEG");
        string kind = KindName(detected);
        IImageInfo? info;
        IImageFormat? format;
        try
        {
            info = SL.Image.Identify(cfg, bytes, out format);
        }
        catch (Exception e) when (IsDecodeFailure(e))
        {
            throw new ImageFormatException(name, $"corrupt or truncated {kind} header ({Reason(e)}): the file is damaged, re-export or remove it", e);
        }
        if (info is null || format is null)
            throw new ImageFormatException(name, $"corrupt or truncated {kind} header: the file is damaged, re-export or remove it");
        ImageCodec.CheckSize(name, info.Width, info.Height, opt);

        bool? grey = false; // null: from the first frame's metadata (TIFF)
        bool sixteen = false, swap16 = false;
        bool? alpha = null; // null: decided from the pixels
        switch (format)
        {
            case PngFormat:
                var (complete, trns) = ContainerWalk.Png(bytes);
                if (!complete)
                    throw new ImageFormatException(name, "truncated PNG (ends before its IEND chunk): the file is damaged, re-download or remove it");
                var pm = info.Metadata.GetPngMetadata();
                grey = pm.ColorType is PngColorType.Grayscale or PngColorType.GrayscaleWithAlpha;
                alpha = pm.ColorType is PngColorType.GrayscaleWithAlpha or PngColorType.RgbWithAlpha || trns;
                sixteen = pm.BitDepth == PngBitDepth.Bit16;
                break;
            case JpegFormat:
                if (opt.StrictJpeg && !ContainerWalk.JpegHasEndAfterScan(bytes))
                    throw new ImageFormatException(name, "truncated JPEG (no end-of-image marker after the image data): the file is damaged, re-download or remove it (or decode leniently)");
                grey = info.Metadata.GetJpegMetadata().ColorType == JpegColorType.Luminance;
                alpha = false;
                break;
            case PbmFormat:
                if (ContainerWalk.PnmProblem(bytes) is { } problem)
                    throw new ImageFormatException(name, $"PPM/PGM {problem}: the file is damaged or unusual, re-export it as PNG");
                var bm = info.Metadata.GetPbmMetadata();
                grey = bm.ColorType != PbmColorType.Rgb;
                sixteen = bm.ComponentType == PbmComponentType.Short;
                // ImageSharp 2.1 reads 16-bit samples least significant byte first; Netpbm stores the most significant first.
                swap16 = sixteen;
                alpha = false;
                break;
            case SixLabors.ImageSharp.Formats.Tiff.TiffFormat:
                grey = null;
                sixteen = info.PixelType.BitsPerPixel >= 48;
                break;
            default:
                sixteen = info.PixelType.BitsPerPixel >= 48;
                break;
        }

        var budget = new DecodeBudget(DecodeBudget.For(info.Width, info.Height));
        cfg.MemoryAllocator = budget;
        try
        {
            return sixteen
                ? swap16
                    ? Load<Rgba64>(cfg, bytes, opt, grey, alpha, 16, p => (Swap(p.R) / 65535f, Swap(p.G) / 65535f, Swap(p.B) / 65535f, 1f), p => false)
                    : Load<Rgba64>(cfg, bytes, opt, grey, alpha, 16, p => (p.R / 65535f, p.G / 65535f, p.B / 65535f, p.A / 65535f), p => p.A != ushort.MaxValue)
                : Load<Rgba32>(cfg, bytes, opt, grey, alpha, 8, p => (Lut[p.R], Lut[p.G], Lut[p.B], Lut[p.A]), p => p.A != byte.MaxValue);
        }
        catch (DecodeBudgetExceededException e)
        {
            throw new ImageFormatException(name, $"corrupt {kind}: {e.Message}: the file is damaged, re-export or remove it", e);
        }
        catch (Exception e) when (IsDecodeFailure(e))
        {
            throw new ImageFormatException(name, $"corrupt or truncated {kind} data ({Reason(e)}): the file is damaged, re-download or remove it", e);
        }
    }

    static string KindName(IImageFormat f) => f.Name.ToUpperInvariant() switch
    {
        "WEBP" => "WebP",
        "PBM" => "PPM/PGM",
        var n => n,
    };

    static ushort Swap(ushort v) => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v);

    static readonly float[] Lut = Enumerable.Range(0, 256).Select(i => i / 255f).ToArray();

    static Image Load<TPixel>(Configuration cfg, byte[] bytes, ImageDecodeOptions opt, bool? greyOrNull, bool? alpha, int depth,
        Func<TPixel, (float R, float G, float B, float A)> unpack, Func<TPixel, bool> translucent)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        using var img = SL.Image.Load<TPixel>(cfg, bytes);
        bool grey = greyOrNull ?? img.Frames.RootFrame.Metadata.GetTiffMetadata().PhotometricInterpretation
            is SixLabors.ImageSharp.Formats.Tiff.Constants.TiffPhotometricInterpretation.BlackIsZero
            or SixLabors.ImageSharp.Formats.Tiff.Constants.TiffPhotometricInterpretation.WhiteIsZero;
        if (opt.ApplyExifOrientation) img.Mutate(c => c.AutoOrient());
        int w = img.Width, h = img.Height, n = w * h;
        bool hasAlpha = alpha ?? AnyTranslucent(img, translucent);
        int colour = grey ? 1 : 3, ch = colour + (hasAlpha ? 1 : 0);
        var result = new Image(w, h, ch, depth, GC.AllocateUninitializedArray<float>(ch * n)) { Profiles = Profiles(img, bytes) };
        var d = result.Data;
        img.ProcessPixelRows(acc =>
        {
            for (int y = 0; y < h; y++)
            {
                var row = acc.GetRowSpan(y);
                int o = y * w;
                for (int x = 0; x < w; x++)
                {
                    var (r, g, b, a) = unpack(row[x]);
                    d[o + x] = r;
                    if (!grey)
                    {
                        d[n + o + x] = g;
                        d[2 * n + o + x] = b;
                    }
                    if (hasAlpha) d[colour * n + o + x] = a;
                }
            }
        });
        return result;
    }

    static bool AnyTranslucent<TPixel>(SL.Image<TPixel> img, Func<TPixel, bool> translucent) where TPixel : unmanaged, IPixel<TPixel>
    {
        bool any = false;
        img.ProcessPixelRows(acc =>
        {
            for (int y = 0; y < acc.Height && !any; y++)
                foreach (var p in acc.GetRowSpan(y))
                    if (translucent(p)) { any = true; break; }
        });
        return any;
    }

    static ImageProfiles? Profiles(SL.Image img, byte[] bytes)
    {
        // ImageSharp 2.1.13 keeps a TIFF's profile on the frame and reads no PNG iCCP
        var icc = (img.Metadata.IccProfile ?? img.Frames.RootFrame.Metadata.IccProfile)?.ToByteArray() ?? IccEmbedding.ReadFromPng(bytes);
        byte[]? exif = null;
        if (img.Metadata.ExifProfile is { } e)
        {
            // The pixels are upright now; a carried orientation tag would turn them a second time.
            e.SetValue(ExifTag.Orientation, (ushort)1);
            exif = e.ToByteArray();
        }
        var p = new ImageProfiles(icc is { Length: > 0 } ? icc : null, exif is { Length: > 0 } ? exif : null);
        return p.IsEmpty ? null : p;
    }

    /// <summary>What a damaged file can make ImageSharp throw. Its own exceptions name the problem; the others are
    /// what a parser that trusted a lying field runs into.</summary>
    static bool IsDecodeFailure(Exception e) => e is SL.ImageFormatException or NotSupportedException or InvalidDataException
        or EndOfStreamException or IndexOutOfRangeException or ArgumentException or OverflowException or InvalidOperationException
        or NullReferenceException or InvalidCastException or SixLabors.ImageSharp.Memory.InvalidMemoryOperationException
        or DivideByZeroException or AggregateException;

    static string Reason(Exception e) => (e is AggregateException a ? a.InnerException ?? e : e).Message.ReplaceLineEndings(" ").TrimEnd('.');
}
