namespace ArtGrid;

/// <summary>
/// The generator family an image most resembles, and its probability among the families the model's attribution head
/// was trained on. It says "if this is AI, which kind of generator": it is a reason shown with a verdict, never what
/// decides it.
/// </summary>
[GenerateSerializer, Immutable, Alias("artgrid.GeneratorGuess")]
public sealed record GeneratorGuess([property: Id(0)] string Family, [property: Id(1)] double Probability);
