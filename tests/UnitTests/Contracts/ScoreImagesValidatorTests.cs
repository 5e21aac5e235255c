using ArtGrid.Contracts;

namespace ArtGrid.Tests.Contracts;

/// <summary>The one set of rules for a ScoreImages command, shared by the consumer and the gateway.</summary>
public sealed class ScoreImagesValidatorTests
{
    [Theory]
    [InlineData("job-1", 1, null)]
    [InlineData("job-1", 64, null)]
    [InlineData("job-1", 0, "a job needs 1 to 64 images")]
    [InlineData("job-1", 65, "a job needs 1 to 64 images")]
    [InlineData("", 1, "the job id must be 1 to 200 printable characters")]
    [InlineData(" ", 1, "the job id must be 1 to 200 printable characters")]
    [InlineData("a\nb", 1, "the job id must be 1 to 200 printable characters")]
    public void TheShapeIsCheckedWithoutAnyBytes(string jobId, int images, string? problem)
    {
        Assert.Equal(problem, ScoreImagesValidator.ValidateShape(jobId, images));
    }

    [Fact]
    public void AJobIdOfTwoHundredCharactersPassesAndOneMoreDoesNot()
    {
        Assert.True(ScoreImagesValidator.IsValidJobId(new string('x', 200)));
        Assert.False(ScoreImagesValidator.IsValidJobId(new string('x', 201)));
    }

    [Fact]
    public void EachReferenceNamesExactlyOneSource()
    {
        var none = new ImageReference { Name = "a.jpg" };
        var url = new ImageReference { Name = "b.jpg", Url = new Uri("https://example.com/b.jpg") };
        var two = new ImageReference { Name = "c.jpg", Url = new Uri("https://example.com/c.jpg"), Key = "c.jpg" };

        Assert.Equal("image 'a.jpg' names 0 sources; exactly one of data, url, key or sha256 is needed", ScoreImagesValidator.ValidateReference(none));
        Assert.Null(ScoreImagesValidator.ValidateReference(url));
        Assert.Equal("image 'c.jpg' names 2 sources; exactly one of data, url, key or sha256 is needed", ScoreImagesValidator.ValidateReference(two));

        var command = new ScoreImages { JobId = "j", Images = [url, two] };
        Assert.Equal(ScoreImagesValidator.ValidateReference(two), ScoreImagesValidator.Validate(command));
        Assert.Null(ScoreImagesValidator.Validate(command with { Images = [url] }));
    }

    [Theory]
    [InlineData("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", null)]
    [InlineData("9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08", null)]
    [InlineData("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0", "image 'a.jpg': sha256 must be 64 hex digits")]
    [InlineData("sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f0", "image 'a.jpg': sha256 must be 64 hex digits")]
    [InlineData("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g", "image 'a.jpg': sha256 must be 64 hex digits")]
    [InlineData("", "image 'a.jpg': sha256 must be 64 hex digits")]
    public void AnImageNamedByItsHashNeedsSixtyFourHexDigits(string sha256, string? problem)
    {
        Assert.Equal(problem, ScoreImagesValidator.ValidateReference(new ImageReference { Name = "a.jpg", Sha256 = sha256 }));
    }

    [Fact]
    public void AHashIsASourceOfItsOwn_NotAnAdditionToAnother()
    {
        var both = new ImageReference { Name = "a.jpg", Key = "a.jpg", Sha256 = new string('a', 64) };

        Assert.Equal("image 'a.jpg' names 2 sources; exactly one of data, url, key or sha256 is needed", ScoreImagesValidator.ValidateReference(both));
    }
}
