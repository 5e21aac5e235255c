using ArtGrid.Training;

namespace ArtGrid.Tests.Training;

public sealed class SourceGroupsTests
{
    [Fact]
    public void SourcesAreTheirOwnGroupsByDefault()
    {
        Assert.Equal("github:codrops/GridFlowEffect", SourceGroups.Sources.Of("github:codrops/GridFlowEffect"));
        Assert.Equal("debian:pysiogame", SourceGroups.Sources.Of("debian:pysiogame"));
    }

    [Fact]
    public void ByOwnerJoinsAnOwnersRepositoriesAndJoinedSetsJoinSourcesOrOwners()
    {
        var groups = new SourceGroups(
            ByOwner: true,
            Joined: SourceGroups.ParseJoined(["debian:gcompris-qt-data, debian:pysiogame", "github:SupaGruen,github:amiantos", "lonely"]));

        Assert.Equal("github:codrops", groups.Of("github:codrops/GridFlowEffect"));
        Assert.Equal(groups.Of("github:codrops/GridFlowEffect"), groups.Of("github:codrops/LayersAnimation"));
        Assert.Equal(groups.Of("debian:gcompris-qt-data"), groups.Of("debian:pysiogame"));
        Assert.Equal(groups.Of("github:SupaGruen/StableDiffusion-CheatSheet"), groups.Of("github:amiantos/AI-Horde-Styles"));
        Assert.NotEqual(groups.Of("github:SupaGruen/StableDiffusion-CheatSheet"), groups.Of("github:codrops/LayersAnimation"));
        Assert.Equal("debian:stellarium-data", groups.Of("debian:stellarium-data"));
        Assert.Equal(2, groups.Joined!.Count); // a set of one joins nothing
    }
}
