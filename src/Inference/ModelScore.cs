using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ArtGrid.Inference;

/// <summary>One image's answer: the probability that it is AI-generated, and where the evidence lies when the model has a feature map.</summary>
public readonly record struct ModelScore(double AiProbability, ActivationMap? Map);
