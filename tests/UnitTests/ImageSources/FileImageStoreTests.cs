using ArtGrid.Hosting.Images;
using Microsoft.Extensions.Options;

namespace ArtGrid.Tests.ImageSources;

/// <summary>
/// The store over a temporary folder: "root" holds a real sample image and links, "outside" (its sibling) holds
/// a file no key may reach.
/// </summary>
public sealed class FileImageStoreTests : IDisposable
{
    private readonly string _base = Directory.CreateTempSubdirectory("artgrid-store-").FullName;
    private readonly string _root;
    private readonly string _outside;
    private readonly byte[] _image = File.ReadAllBytes(TestAssets.Photo);

    public FileImageStoreTests()
    {
        _root = Directory.CreateDirectory(Path.Combine(_base, "root")).FullName;
        _outside = Directory.CreateDirectory(Path.Combine(_base, "outside")).FullName;
        Directory.CreateDirectory(Path.Combine(_root, "images"));
        File.WriteAllBytes(Path.Combine(_root, "images", "real.jpg"), _image);
        File.WriteAllBytes(Path.Combine(_outside, "secret.jpg"), _image);

        // Links that stay inside the root are fine; links that leave it are not.
        File.CreateSymbolicLink(Path.Combine(_root, "alias.jpg"), Path.Combine("images", "real.jpg"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "gallery"), "images");
        File.CreateSymbolicLink(Path.Combine(_root, "escape.jpg"), Path.Combine(_outside, "secret.jpg"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "escape-dir"), _outside);
        File.CreateSymbolicLink(Path.Combine(_root, "images", "relative-escape.jpg"), Path.Combine("..", "..", "outside", "secret.jpg"));
        File.CreateSymbolicLink(Path.Combine(_root, "dangling-outside.jpg"), Path.Combine(_outside, "no-such-file.jpg"));
        // "gallery/up" is "images/up" for real, so its ".." is the root and "../../outside" leaves it, although
        // read as text "gallery/up/../x" would stay inside.
        Directory.CreateSymbolicLink(Path.Combine(_root, "images", "up"), "..");
        File.CreateSymbolicLink(Path.Combine(_root, "sneaky.jpg"), Path.Combine("gallery", "up", "..", "outside", "secret.jpg"));
    }

    public void Dispose() => Directory.Delete(_base, recursive: true);

    private static FileImageStore Store(string? root, int maxBytes = 64 * 1024 * 1024) =>
        new(Options.Create(new ImageStoreOptions { Root = root, MaxBytes = maxBytes }));

    private static async Task<ImageUnavailableException> Unavailable(FileImageStore store, string key) =>
        await Assert.ThrowsAsync<ImageUnavailableException>(() => store.ReadAsync(key, CancellationToken.None));

    [Theory]
    [InlineData("images/real.jpg")]
    [InlineData("alias.jpg")]
    [InlineData("gallery/real.jpg")]
    public async Task ReadsTheFileByteForByte(string key)
    {
        byte[] bytes = await Store(_root).ReadAsync(key, CancellationToken.None);

        Assert.Equal(_image, bytes);
    }

    [Fact]
    public async Task RootGivenThroughALinkWorks()
    {
        string linkedRoot = Path.Combine(_base, "root-link");
        Directory.CreateSymbolicLink(linkedRoot, _root);

        Assert.Equal(_image, await Store(linkedRoot).ReadAsync("images/real.jpg", CancellationToken.None));
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("../outside/secret.jpg")]
    [InlineData("/etc/passwd")]
    [InlineData("a/../../x")]
    [InlineData("images/../images/real.jpg")]
    [InlineData("./images/real.jpg")]
    [InlineData("images//real.jpg")]
    [InlineData("images/")]
    [InlineData("images\\real.jpg")]
    [InlineData("..\\outside\\secret.jpg")]
    [InlineData("images/real.jpg\0.png")]
    [InlineData("images/real\n.jpg")]
    [InlineData("")]
    [InlineData("escape.jpg")]
    [InlineData("escape-dir/secret.jpg")]
    [InlineData("images/relative-escape.jpg")]
    [InlineData("dangling-outside.jpg")]
    [InlineData("sneaky.jpg")]
    public async Task KeysThatLeaveTheRootAreBadReferences(string key)
    {
        ImageUnavailableException error = await Unavailable(Store(_root), key);

        Assert.Equal(ImageSourceErrors.BadReference, error.Code);
        Assert.True(error.Permanent);
    }

    [Fact]
    public async Task NullKeyIsABadReference()
    {
        ImageUnavailableException error = await Unavailable(Store(_root), null!);

        Assert.Equal(ImageSourceErrors.BadReference, error.Code);
    }

    [Theory]
    [InlineData("images/missing.jpg")]
    [InlineData("missing/real.jpg")]
    [InlineData("images/real.jpg/more")]
    [InlineData("images")]
    public async Task KeysWithoutAFileAreNotFound(string key)
    {
        ImageUnavailableException error = await Unavailable(Store(_root), key);

        Assert.Equal(ImageSourceErrors.NotFound, error.Code);
        Assert.True(error.Permanent);
    }

    [Fact]
    public async Task FileAboveTheLimitIsTooLarge()
    {
        ImageUnavailableException error = await Unavailable(Store(_root, maxBytes: _image.Length - 1), "images/real.jpg");

        Assert.Equal(ImageSourceErrors.TooLarge, error.Code);
        Assert.True(error.Permanent);
    }

    [Fact]
    public async Task FileOfExactlyTheLimitIsRead()
    {
        Assert.Equal(_image, await Store(_root, maxBytes: _image.Length).ReadAsync("images/real.jpg", CancellationToken.None));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task UnconfiguredRootRefusesEveryKey(string? root)
    {
        ImageUnavailableException error = await Unavailable(Store(root), "images/real.jpg");

        Assert.Equal(ImageSourceErrors.BadReference, error.Code);
        Assert.True(error.Permanent);
        Assert.Contains("not configured", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingRootFolderIsTransient()
    {
        ImageUnavailableException error = await Unavailable(Store(Path.Combine(_base, "not-mounted")), "images/real.jpg");

        Assert.Equal(ImageSourceErrors.FetchFailed, error.Code);
        Assert.False(error.Permanent);
    }
}
