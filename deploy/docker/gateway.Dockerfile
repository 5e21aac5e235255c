# The REST gateway: artgrid-gateway on port 8080 of every interface.
#   docker build -f deploy/docker/gateway.Dockerfile -t artgrid/gateway .      (from the repository root)
# Read-only root filesystem: writes go to /tmp only (the runtime's diagnostic sockets, the review export's zip);
# mount a tmpfs or volume there. The console's session keys live in Redis.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN deploy/docker/publish.sh gateway /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
COPY deploy/docker/healthcheck.sh /usr/local/bin/artgrid-healthcheck
ENV DOTNET_ENVIRONMENT=Production \
    TMPDIR=/tmp \
    Urls=http://0.0.0.0:8080
EXPOSE 8080
USER 1654:1654
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["artgrid-healthcheck", "8080", "/health/ready"]
ENTRYPOINT ["dotnet", "/app/artgrid-gateway.dll"]
