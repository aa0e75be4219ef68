# Builds the recovery engine image used by docker-compose.yml.
FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV GOTOOLCHAIN=local CGO_ENABLED=1
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# btcd (the version go.mod pins) runs recovery dev's local btc chain.
RUN go build -trimpath -o /out/recovery ./cmd/recovery && go build -trimpath -o /out/casectl ./cmd/casectl \
    && go build -trimpath -o /out/btcd github.com/btcsuite/btcd

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/recovery --create-home recovery
COPY --from=build /out/recovery /out/casectl /out/btcd /usr/local/bin/
USER recovery
WORKDIR /var/lib/recovery
EXPOSE 8080
ENTRYPOINT ["recovery"]
CMD ["worker"]
