namespace ArtGrid.Imaging;

/// <summary>
/// An image's pixels as they were scored, before resizing: EXIF-oriented, transparency composited over white, at the
/// size it was decoded at (its own, or the reduced size a large JPEG is decoded at). RGB, 3 bytes a pixel, row-major.
/// Pixels a decoder produced, never file bytes: drawing on them parses nothing.
/// </summary>
public sealed record OrientedImage(int Width, int Height, byte[] Rgb);
