# syntax=docker/dockerfile:1
# The Event API simulator alone (cmd/eventsim), for the fleet in compose.yaml
# and the demo in k8s/demo/. Build from the repository root:
#   docker build -f deploy/eventsim.Dockerfile -t event-gateway-eventsim .
# Same two stages as ../Dockerfile: a static build, then the binary alone.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/eventsim ./cmd/eventsim

# Run: no shell, non-root. It reads only SIM_* variables (docs/configuration.md).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/eventsim /eventsim
# Every interface: other containers reach it (the binary's default is the loopback).
ENV SIM_LISTEN_ADDR=0.0.0.0 SIM_PORT=4000
EXPOSE 4000
USER nonroot:nonroot
ENTRYPOINT ["/eventsim"]
