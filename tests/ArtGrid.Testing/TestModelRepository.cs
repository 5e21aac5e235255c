using System.Text.Json;
using ArtGrid.Grains.Models;
using ArtGrid.Inference;

namespace ArtGrid.Tests;

/// <summary>Model repositories built for a test from the shipped model: versions that differ in known ways.</summary>
public static class TestModelRepository
{
    public const string Name = "artgrid-resnet18";

    /// <summary>
    /// Copies the shipped <c>artgrid-resnet18/1</c> to <paramref name="root"/>/artgrid-resnet18/<paramref name="version"/>,
    /// its model.json naming <paramref name="named"/> (the folder's version unless told), its head changed by
    /// <paramref name="head"/>. Returns the version folder.
    /// </summary>
    public static string CopyVersion(string root, string version, Func<LinearHead, LinearHead>? head = null, string? named = null)
    {
        string source = Path.Combine(TestAssets.ModelsDir, Name, "1");
        string target = Path.Combine(root, Name, version);
        Directory.CreateDirectory(target);
        foreach (string file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }

        string configPath = Path.Combine(target, ModelRepository.ConfigFile);
        ModelConfig config = JsonSerializer.Deserialize<ModelConfig>(File.ReadAllText(configPath), ModelConfig.JsonOptions)!;
        File.WriteAllText(configPath, JsonSerializer.Serialize(config with { Version = named ?? version }, ModelConfig.JsonOptions));
        if (head is not null)
        {
            string headPath = Path.Combine(target, config.Head);
            head(LinearHead.Load(headPath)).Save(headPath);
        }

        return target;
    }

    /// <summary>The head with weights and bias negated: its logit changes sign, so every probability p becomes 1 - p.</summary>
    public static LinearHead Negated(LinearHead head) =>
        head with { Weights = [.. head.Weights.Select(w => -w)], Bias = -head.Bias };

    /// <summary>A version whose head.json is cut in half: its model.json is fine, the version does not load.</summary>
    public static string BrokenVersion(string root, string version)
    {
        string folder = CopyVersion(root, version);
        string headPath = Path.Combine(folder, "head.json");
        string text = File.ReadAllText(headPath);
        File.WriteAllText(headPath, text[..(text.Length / 2)]);
        return folder;
    }
}
