using ArtGrid.Cli;

namespace ArtGrid.Tests.Cli;

/// <summary>What <c>artgrid submit</c> takes for a URL, how its inputs group into jobs, and the metadata options.</summary>
public sealed class SubmitInputsTests
{
    [Theory]
    [InlineData("https://example.com/a.png", true)]
    [InlineData("http://127.0.0.1:8080/images/a%20b.jpg?size=2", true)]
    [InlineData("HTTPS://EXAMPLE.COM/A.PNG", true)]
    [InlineData("samples/ai/photo.jpg", false)]
    [InlineData("/tmp/photo.jpg", false)]
    [InlineData("photo:2.jpg", false)]
    [InlineData("file:///tmp/photo.jpg", false)]
    [InlineData("ftp://example.com/a.png", false)]
    [InlineData("https:photo.jpg", false)]
    [InlineData("http://", false)]
    public void OnlyAbsoluteHttpAndHttpsUrlsAreUrls(string text, bool isUrl)
    {
        Assert.Equal(isUrl, SubmitInputs.IsHttpUrl(text, out Uri? url));
        Assert.Equal(isUrl, url is not null);
    }

    [Fact]
    public void ArgumentsKeepTheirOrderAndUrlOptionsComeAfterThem()
    {
        IReadOnlyList<SubmitInput> inputs = SubmitInputs.Classify(
            ["a.jpg", "https://example.com/x/b.png", "folder"],
            ["http://example.com/c.webp"]);

        Assert.Equal(["a.jpg", "https://example.com/x/b.png", "folder", "http://example.com/c.webp"], inputs.Select(i => i.Display));
        Assert.Equal([false, true, false, true], inputs.Select(i => i.Url is not null));
        Assert.Equal(new Uri("https://example.com/x/b.png"), inputs[1].Url);
        Assert.Null(inputs[1].Path);
    }

    [Theory]
    [InlineData("photo.jpg")]
    [InlineData("ftp://example.com/a.png")]
    [InlineData("")]
    public void AUrlOptionThatIsNoHttpUrlIsAUsageError(string value)
    {
        var error = Assert.Throws<UsageException>(() => SubmitInputs.Classify([], [value]));
        Assert.Equal($"--url '{value}' is not an http:// or https:// URL.", error.Message);
    }

    [Fact]
    public void JobsAreOnePerImageOrOnePerFolderWithUrlsByTheirPath()
    {
        string[] texts =
        [
            Path.Combine("a", "1.jpg"), "https://example.com/x/1.png", Path.Combine("b", "1.jpg"), Path.Combine("a", "2.jpg"),
            "https://example.com/x/2.png", "https://example.com/y/1.png", "https://other.example/x/3.png",
        ];
        IReadOnlyList<SubmitInput> inputs = SubmitInputs.Classify(texts, []);

        Assert.Equal(texts.Select(t => new[] { t }), SubmitInputs.Jobs(inputs, jobPerFolder: false).Select(j => j.Select(i => i.Display)));
        Assert.Equal(
            [
                [Path.Combine("a", "1.jpg"), Path.Combine("a", "2.jpg")],
                ["https://example.com/x/1.png", "https://example.com/x/2.png"],
                [Path.Combine("b", "1.jpg")],
                ["https://example.com/y/1.png"],
                ["https://other.example/x/3.png"],
            ],
            SubmitInputs.Jobs(inputs, jobPerFolder: true).Select(j => j.Select(i => i.Display).ToArray()));
    }

    [Fact]
    public void AJobIsCheckedAgainstTheClustersRulesBeforeAnyByteIsRead()
    {
        SubmitInput[] files = [.. Enumerable.Range(0, 65).Select(i => SubmitInput.File($"does-not-exist-{i}.jpg"))];

        Assert.Null(SubmitInputs.Validate("job-1", files[..64]));
        Assert.Equal("a job needs 1 to 64 images", SubmitInputs.Validate("job-1", files));
        Assert.Equal("a job needs 1 to 64 images", SubmitInputs.Validate("job-1", []));
        Assert.Equal("the job id must be 1 to 200 printable characters", SubmitInputs.Validate("", files[..1]));
        Assert.Null(SubmitInputs.Validate("job-1", [SubmitInput.Web(new Uri("https://example.com/a.png")), files[0]]));
    }

    [Theory]
    [InlineData("https://example.com/images/a%20b.png?x=1", "a b.png")]
    [InlineData("https://example.com/", "example.com")]
    [InlineData("https://example.com/dir/", "dir")]
    public void AUrlImageIsNamedByItsLastSegment(string url, string name)
    {
        Assert.Equal(name, SubmitInputs.Name(SubmitInput.Web(new Uri(url))));
        Assert.Equal("b.jpg", SubmitInputs.Name(SubmitInput.File(Path.Combine("a", "b.jpg"))));
    }

    [Fact]
    public void MetadataOptionsBecomeTheJobsMetadata()
    {
        Assert.Same(JobMetadata.None, JobMetadataOptions.Build(null, null, null, null, null));
        Assert.Same(JobMetadata.None, JobMetadataOptions.Build(null, null, null, null, []));

        JobMetadata metadata = JobMetadataOptions.Build(" alice ", "forum", "CC-BY-4.0", false, ["cats", " dogs", "cats"]);
        Assert.Equal(("alice", "forum", "CC-BY-4.0", (bool?)false), (metadata.Author, metadata.Source, metadata.Licence, metadata.DeclaredAi));
        Assert.Equal(["cats", "dogs"], metadata.Tags!);

        Assert.Equal(new JobMetadata(DeclaredAi: true), JobMetadataOptions.Build(null, null, null, true, null));
    }

    [Theory]
    [InlineData("", null, null, null, "--author must not be blank.")]
    [InlineData(null, " ", null, null, "--source must not be blank.")]
    [InlineData(null, null, "\t", null, "--licence must not be blank.")]
    [InlineData(null, null, null, " ", "--tag must not be blank.")]
    public void ABlankMetadataValueIsAUsageError(string? author, string? source, string? licence, string? tag, string message)
    {
        var error = Assert.Throws<UsageException>(() => JobMetadataOptions.Build(author, source, licence, null, tag is null ? null : ["ok", tag]));
        Assert.Equal(message, error.Message);
    }
}
