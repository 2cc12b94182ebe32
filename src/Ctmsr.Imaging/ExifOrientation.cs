namespace Ctmsr.Imaging;

/// <summary>Reads the EXIF orientation (TIFF tag 0x0112 in IFD0 of a JPEG APP1 "Exif" segment) and applies it.
/// Values: 1 as stored, 2 mirror horizontally, 3 rotate 180, 4 mirror vertically, 5 transpose, 6 rotate 90 clockwise,
/// 7 transverse, 8 rotate 90 counter-clockwise. Anything malformed counts as 1: a bad EXIF block never fails a decode.</summary>
public static class ExifOrientation
{
    /// <summary>The orientation of a JPEG stream, 1..8; 1 when absent or unreadable.</summary>
    public static int Read(ReadOnlySpan<byte> jpeg)
    {
        if (jpeg.Length < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) return 1;
        int pos = 2;
        while (pos + 4 <= jpeg.Length)
        {
            if (jpeg[pos] != 0xFF) return 1;
            byte marker = jpeg[pos + 1];
            if (marker == 0xFF) { pos++; continue; } // fill byte
            if (marker is 0xD9 or 0xDA) return 1;    // EOI or start of scan: no more headers
            if (marker is >= 0xD0 and <= 0xD7 or 0x01) { pos += 2; continue; } // markers without length
            int len = (jpeg[pos + 2] << 8) | jpeg[pos + 3];
            if (len < 2 || pos + 2 + len > jpeg.Length) return 1;
            if (marker == 0xE1)
            {
                var seg = jpeg.Slice(pos + 4, len - 2);
                if (seg.Length >= 6 && seg[0] == 'E' && seg[1] == 'x' && seg[2] == 'i' && seg[3] == 'f' && seg[4] == 0 && seg[5] == 0)
                    return FromTiff(seg[6..]);
            }
            pos += 2 + len;
        }
        return 1;
    }

    static int FromTiff(ReadOnlySpan<byte> t)
    {
        if (t.Length < 8) return 1;
        bool le;
        if (t[0] == 'I' && t[1] == 'I') le = true;
        else if (t[0] == 'M' && t[1] == 'M') le = false;
        else return 1;
        if (U16(t, 2, le) != 42) return 1;
        long ifd = U32(t, 4, le);
        if (ifd < 8 || ifd + 2 > t.Length) return 1;
        int count = U16(t, (int)ifd, le);
        for (int i = 0; i < count; i++)
        {
            long e = ifd + 2 + 12L * i;
            if (e + 12 > t.Length) return 1;
            int tag = U16(t, (int)e, le);
            if (tag != 0x0112) continue;
            int type = U16(t, (int)e + 2, le);
            int value = type switch
            {
                3 => U16(t, (int)e + 8, le),       // SHORT, left-justified in the value field
                4 => (int)Math.Min(U32(t, (int)e + 8, le), int.MaxValue), // LONG, seen in some writers
                _ => 1,
            };
            return value is >= 1 and <= 8 ? value : 1;
        }
        return 1;
    }

    static int U16(ReadOnlySpan<byte> b, int o, bool le) => le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];

    static long U32(ReadOnlySpan<byte> b, int o, bool le) =>
        le ? (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24))
           : (uint)((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);

    /// <summary>Returns the image as it should be displayed for the given orientation (this image itself for 1).</summary>
    public static Image Apply(Image src, int orientation)
    {
        if (orientation is <= 1 or > 8) return src;
        int w = src.Width, h = src.Height;
        bool swap = orientation >= 5;
        int ow = swap ? h : w, oh = swap ? w : h;
        // The stored pixel shown at display position (r, col) is (sy, sx) = (y0 + yr*r + yc*col, x0 + xr*r + xc*col),
        // so its index is a linear function of r and col.
        (int y0, int yr, int yc, int x0, int xr, int xc) = orientation switch
        {
            2 => (0, 1, 0, w - 1, 0, -1),
            3 => (h - 1, -1, 0, w - 1, 0, -1),
            4 => (h - 1, -1, 0, 0, 0, 1),
            5 => (0, 0, 1, 0, 1, 0),
            6 => (h - 1, 0, -1, 0, 1, 0),          // rotate 90 degrees clockwise
            7 => (h - 1, 0, -1, w - 1, -1, 0),
            _ => (0, 0, 1, w - 1, -1, 0),          // 8: rotate 90 degrees counter-clockwise
        };
        int start = y0 * w + x0, perRow = yr * w + xr, perCol = yc * w + xc;
        var dst = new Image(ow, oh, src.Channels, src.BitDepth, GC.AllocateUninitializedArray<float>(src.Data.Length));
        for (int c = 0; c < src.Channels; c++)
        {
            ReadOnlySpan<float> s = src.Plane(c);
            var d = dst.Plane(c);
            for (int r = 0; r < oh; r++)
            {
                int si = start + r * perRow;
                var row = d.Slice(r * ow, ow);
                for (int col = 0; col < ow; col++, si += perCol) row[col] = s[si];
            }
        }
        return dst;
    }
}
