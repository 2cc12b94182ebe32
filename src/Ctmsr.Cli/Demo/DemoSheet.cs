using Ctmsr.Imaging;
using Ctmsr.Imaging.Plotting;

namespace Ctmsr.Cli.Demo;

/// <summary>One panel of a comparison sheet: the image, its label above, and up to two lines of text below.</summary>
public sealed record SheetPanel(string Label, Image Image, string Line1 = "", string Line2 = "");

/// <summary>
/// Side-by-side panels of equal size on a dark background: a title line, then for each panel its label, the
/// image, and two lines of text under it (metrics). Panel i's image sits at <see cref="PanelOrigin"/>.
/// </summary>
public static class DemoSheet
{
    public const int Margin = 16, TitleHeight = 30, LabelHeight = 26, FooterHeight = 44, TextScale = 2;
    public static readonly Rgb Background = new(0.11f, 0.11f, 0.13f), Ink = new(0.92f, 0.92f, 0.92f), Accent = new(1f, 0.8f, 0.3f);

    public static (int Width, int Height) Size(int panels, int panelWidth, int panelHeight) =>
        (panels * panelWidth + (panels + 1) * Margin, Margin + TitleHeight + LabelHeight + panelHeight + FooterHeight + Margin);

    public static (int X, int Y) PanelOrigin(int index, int panelWidth) =>
        (Margin + index * (panelWidth + Margin), Margin + TitleHeight + LabelHeight);

    public static Image Compose(string title, IReadOnlyList<SheetPanel> panels)
    {
        if (panels.Count == 0) throw new ArgumentException("a sheet needs at least one panel");
        int pw = panels[0].Image.Width, ph = panels[0].Image.Height;
        foreach (var p in panels)
            if (p.Image.Width != pw || p.Image.Height != ph)
                throw new ArgumentException($"panel '{p.Label}' is {p.Image.Width}x{p.Image.Height} but the first is {pw}x{ph}; panels must be the same size");
        var (w, h) = Size(panels.Count, pw, ph);
        var cv = new Canvas(w, h, Background);
        cv.Text(Margin, Margin, title, Ink, TextScale);
        for (int i = 0; i < panels.Count; i++)
        {
            var (x, y) = PanelOrigin(i, pw);
            cv.TextCentred(x + pw / 2, y - LabelHeight + 4, panels[i].Label, Accent, TextScale);
            cv.Paste(panels[i].Image, x, y);
            cv.TextCentred(x + pw / 2, y + ph + 8, panels[i].Line1, Ink, TextScale);
            cv.TextCentred(x + pw / 2, y + ph + 26, panels[i].Line2, Ink, TextScale);
        }
        return cv.ToImage();
    }
}
