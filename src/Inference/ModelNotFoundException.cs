using System.Text.Json;
using Google.Protobuf;
using Onnx;

namespace ArtGrid.Inference;

public sealed class ModelNotFoundException(string message) : Exception(message);
