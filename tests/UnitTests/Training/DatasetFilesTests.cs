using ArtGrid.Training;

namespace ArtGrid.Tests.Training;

/// <summary>Data sets kept in git may hold symbolic links as text files naming their target.</summary>
public sealed class DatasetFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("artgrid-dataset-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ALinkStoredAsTextIsFollowedRelativeToItsFolder()
    {
        byte[] image = File.ReadAllBytes(TestAssets.Photo);
        Directory.CreateDirectory(Path.Combine(_dir, "v1", "images"));
        Directory.CreateDirectory(Path.Combine(_dir, "v2", "images"));
        File.WriteAllBytes(Path.Combine(_dir, "v1", "images", "a.jpg"), image);
        File.WriteAllText(Path.Combine(_dir, "v2", "images", "a.jpg"), "../../v1/images/a.jpg");

        Assert.Equal(image, DatasetFiles.ReadAllBytes(Path.Combine(_dir, "v2", "images", "a.jpg")));
    }

    [Fact]
    public void SmallFilesThatAreNotLinksToExistingFilesAreReadAsTheyAre()
    {
        string dangling = Path.Combine(_dir, "dangling.jpg");
        File.WriteAllText(dangling, "../missing/a.jpg");
        string binary = Path.Combine(_dir, "tiny.png");
        byte[] png = TestAssets.FlatGreyPng(2, 2);
        File.WriteAllBytes(binary, png);

        Assert.Equal("../missing/a.jpg"u8.ToArray(), DatasetFiles.ReadAllBytes(dangling));
        Assert.Equal(png, DatasetFiles.ReadAllBytes(binary));
    }
}
