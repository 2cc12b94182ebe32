using Ctmsr.Imaging.Native;

namespace Ctmsr.Imaging;

/// <summary>JPEG through TurboJPEG. Decoding and encoding both use the accurate integer DCT (libjpeg's JDCT_ISLOW) and
/// fancy upsampling, the defaults of libjpeg and therefore of cv2.imread/imencode, so results match OpenCV bit for bit.
/// Warnings (truncated data, corrupt entropy codes) stop the decode when <see cref="ImageDecodeOptions.StrictJpeg"/>.</summary>
internal static unsafe class JpegCodec
{
    public static Image Decode(ReadOnlySpan<byte> data, string name, ImageDecodeOptions opt)
    {
        var tj = TurboJpeg.Api;
        nint h = tj.InitDecompress();
        if (h == 0) throw new OutOfMemoryException("TurboJPEG could not create a decompressor");
        Image img;
        try
        {
            fixed (byte* p = data)
            {
                int w, hgt, subsamp, cs;
                if (tj.DecompressHeader3(h, p, (nuint)data.Length, &w, &hgt, &subsamp, &cs) != 0)
                    throw new ImageFormatException(name, $"corrupt JPEG header ({tj.ErrorText(h)}): the file is damaged, re-export or remove it");
                ImageCodec.CheckSize(name, w, hgt, opt);
                (int pf, int ch) = cs switch
                {
                    TurboJpeg.CsGray => (TurboJpeg.PfGray, 1),
                    TurboJpeg.CsCmyk or TurboJpeg.CsYcck => (TurboJpeg.PfCmyk, 4),
                    _ => (TurboJpeg.PfRgb, 3),
                };
                var buf = GC.AllocateUninitializedArray<byte>(checked(w * hgt * ch));
                int flags = TurboJpeg.FlagAccurateDct | TurboJpeg.FlagLimitScans | (opt.StrictJpeg ? TurboJpeg.FlagStopOnWarning : 0);
                int rc;
                fixed (byte* d = buf) rc = tj.Decompress2(h, p, (nuint)data.Length, d, w, 0, hgt, pf, flags);
                if (rc != 0)
                {
                    bool warning = tj.GetErrorCode(h) == TurboJpeg.ErrWarning;
                    if (!warning || opt.StrictJpeg)
                        throw new ImageFormatException(name, $"corrupt or truncated JPEG data ({tj.ErrorText(h)}): the file is damaged, re-download or remove it");
                }
                img = ch == 4 ? FromAdobeCmyk(buf, w, hgt) : Unpack(buf, w, hgt, ch);
            }
        }
        finally
        {
            tj.Destroy(h);
        }
        return opt.ApplyExifOrientation ? ExifOrientation.Apply(img, ExifOrientation.Read(data)) : img;
    }

    static Image Unpack(byte[] buf, int w, int h, int ch)
    {
        var img = new Image(w, h, ch, 8, GC.AllocateUninitializedArray<float>(ch * w * h));
        PixelPacking.Unpack8(buf, ch, img.Data, w * h);
        return img;
    }

    // CMYK/YCCK JPEGs: Photoshop stores them inverted (Adobe marker) and libjpeg hands the stored values through.
    // The conversion is cv2's (icvCvt_CMYK2BGR_8u_C4C3R), so colours match cv2.imread; no colour management.
    static Image FromAdobeCmyk(byte[] buf, int w, int h)
    {
        int n = w * h;
        var img = new Image(w, h, 3, 8);
        var d = img.Data;
        for (int i = 0; i < n; i++)
        {
            int k = buf[4 * i + 3];
            for (int c = 0; c < 3; c++) d[c * n + i] = (k - (((255 - buf[4 * i + c]) * k) >> 8)) / 255f;
        }
        return img;
    }

    /// <summary>Encodes the colour planes (alpha is dropped) as a baseline JPEG, 4:2:0 for colour as cv2.imencode does.</summary>
    public static byte[] Encode(Image image, int quality)
    {
        if (quality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(quality), $"JPEG quality {quality} must be 1..100");
        int ch = image.ColorChannels;
        var px = GC.AllocateUninitializedArray<byte>(image.PlaneSize * ch);
        PixelPacking.Pack8(image.Data, image.PlaneSize, ch, px);
        return Encode(px, image.Width, image.Height, ch, quality);
    }

    public static byte[] Encode(byte[] interleaved, int w, int h, int ch, int quality)
    {
        var tj = TurboJpeg.Api;
        nint hnd = tj.InitCompress();
        if (hnd == 0) throw new OutOfMemoryException("TurboJPEG could not create a compressor");
        byte* jpeg = null;
        nuint size = 0;
        try
        {
            int pf = ch == 1 ? TurboJpeg.PfGray : TurboJpeg.PfRgb;
            int samp = ch == 1 ? TurboJpeg.SampGray : TurboJpeg.Samp420;
            int rc;
            fixed (byte* s = interleaved) rc = tj.Compress2(hnd, s, w, 0, h, pf, &jpeg, &size, samp, quality, TurboJpeg.FlagAccurateDct);
            if (rc != 0) throw new InvalidOperationException($"TurboJPEG failed to encode a {w}x{h} image: {tj.ErrorText(hnd)}");
            return new ReadOnlySpan<byte>(jpeg, checked((int)size)).ToArray();
        }
        finally
        {
            if (jpeg != null) tj.Free(jpeg);
            tj.Destroy(hnd);
        }
    }

    /// <summary>Decodes a JPEG that this process just produced into interleaved RGB bytes (no checks beyond errors).</summary>
    public static void DecodeRgb(byte[] jpeg, int w, int h, Span<byte> rgb)
    {
        var tj = TurboJpeg.Api;
        nint hnd = tj.InitDecompress();
        if (hnd == 0) throw new OutOfMemoryException("TurboJPEG could not create a decompressor");
        try
        {
            int rc;
            fixed (byte* s = jpeg)
            fixed (byte* d = rgb)
                rc = tj.Decompress2(hnd, s, (nuint)jpeg.Length, d, w, 0, h, TurboJpeg.PfRgb, TurboJpeg.FlagAccurateDct);
            if (rc != 0) throw new InvalidOperationException($"TurboJPEG failed to decode its own output: {tj.ErrorText(hnd)}");
        }
        finally
        {
            tj.Destroy(hnd);
        }
    }
}
