# The CUDA silo: the GPU build of artgrid-silo (-p:ArtGridGpu=true: ONNX Runtime's CUDA package, docs/GPU.md) on
# NVIDIA's CUDA 13 / cuDNN 9 runtime image, with the ASP.NET Core runtime copied in from Microsoft's image.
#   docker build -f deploy/docker/silo-cuda.Dockerfile -t artgrid/silo-cuda .      (from the repository root)
# CUDA's kernel cache goes to /tmp (CUDA_CACHE_PATH): the root filesystem is read-only and the user has no home.
# The node needs an NVIDIA driver that supports CUDA 13 and the NVIDIA container toolkit, which also mounts
# nvidia-smi (what "cuda:all" lists GPUs with). The tag below is the CUDA 13.0 runtime with cuDNN 9; another
# CUDA 13.x cuDNN 9 runtime tag works the same (--build-arg CUDA_IMAGE=...).
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN deploy/docker/publish.sh silo-gpu /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS dotnet

FROM ${CUDA_IMAGE}
# What the .NET runtime needs from the OS (no ICU: the programs run with invariant globalization).
# And the SIMD libjpeg-turbo that the decode workers decode JPEGs with (libturbojpeg on Ubuntu, libturbojpeg0 on Debian).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata libstdc++6 zlib1g \
 && (apt-get install -y --no-install-recommends libturbojpeg || apt-get install -y --no-install-recommends libturbojpeg0) \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1654 app && useradd --uid 1654 --gid 1654 --no-create-home --shell /usr/sbin/nologin app
COPY --from=dotnet /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
WORKDIR /app
COPY --from=build /app .
COPY deploy/docker/healthcheck.sh /usr/local/bin/artgrid-healthcheck
ENV DOTNET_ENVIRONMENT=Production \
    DOTNET_ROOT=/usr/share/dotnet \
    TMPDIR=/tmp \
    CUDA_CACHE_PATH=/tmp/cuda-cache \
    ArtGrid__Inference__ModelsPath=/app/models \
    ArtGrid__Inference__Devices__0=cuda:all \
    ArtGrid__Silo__ListenAddress=0.0.0.0 \
    ArtGrid__Silo__HttpAddress=0.0.0.0 \
    ArtGrid__Silo__SiloPort=11111 \
    ArtGrid__Silo__GatewayPort=30000 \
    ArtGrid__Silo__HttpPort=8081 \
    ArtGrid__Logging__Format=Json
EXPOSE 11111 30000 8081
USER 1654:1654
# Longer start period than the CPU silo: cuDNN's exhaustive convolution search runs at warm-up.
HEALTHCHECK --interval=10s --timeout=5s --start-period=300s --retries=3 CMD ["artgrid-healthcheck", "8081", "/health/ready"]
ENTRYPOINT ["dotnet", "/app/artgrid-silo.dll"]
