# syntax=docker/dockerfile:1
# Build: the same command as without Docker (README, "Building and containers").
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/server ./server

# Run: the static binary alone, no shell, as a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/server /server
ENV APP_ENV=production PORT=3000
EXPOSE 3000
USER nonroot:nonroot
ENTRYPOINT ["/server"]
