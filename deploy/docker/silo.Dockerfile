# The CPU silo: artgrid-silo with its decode worker beside it and the model repository baked in at /app/models.
#   docker build -f deploy/docker/silo.Dockerfile -t artgrid/silo .      (from the repository root)
# Read-only root filesystem: the only writes are the .NET runtime's diagnostic sockets and temporary files, under
# /tmp; mount a tmpfs or volume there. Mount another repository over /models and set
# ArtGrid__Inference__ModelsPath=/models to serve models that are not baked in.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN deploy/docker/publish.sh silo /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# The SIMD libjpeg-turbo that the decode workers decode JPEGs with (libturbojpeg0 on Debian, libturbojpeg on Ubuntu).
RUN apt-get update \
 && (apt-get install -y --no-install-recommends libturbojpeg0 || apt-get install -y --no-install-recommends libturbojpeg) \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
COPY deploy/docker/healthcheck.sh /usr/local/bin/artgrid-healthcheck
ENV DOTNET_ENVIRONMENT=Production \
    ASPNETCORE_HTTP_PORTS= \
    TMPDIR=/tmp \
    ArtGrid__Inference__ModelsPath=/app/models \
    ArtGrid__Silo__ListenAddress=0.0.0.0 \
    ArtGrid__Silo__HttpAddress=0.0.0.0 \
    ArtGrid__Silo__SiloPort=11111 \
    ArtGrid__Silo__GatewayPort=30000 \
    ArtGrid__Silo__HttpPort=8081 \
    ArtGrid__Logging__Format=Json
# 11111 silo to silo, 30000 Orleans clients (the gateway), 8081 /health/live, /health/ready, /metrics.
EXPOSE 11111 30000 8081
# The base image's non-root "app" user, by number so that runAsNonRoot can check it.
USER 1654:1654
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 CMD ["artgrid-healthcheck", "8081", "/health/ready"]
ENTRYPOINT ["dotnet", "/app/artgrid-silo.dll"]
