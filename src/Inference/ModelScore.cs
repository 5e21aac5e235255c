using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ArtGrid.Inference;

/// <summary>
/// One image's answer: the probability that it is AI-generated, where the evidence lies when the model has a feature
/// map, and the generator family it most resembles when the model has an attribution head.
/// </summary>
public readonly record struct ModelScore(double AiProbability, ActivationMap? Map, GeneratorGuess? Generator = null);
