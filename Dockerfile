# Multi-stage build: a static pingan binary on an empty base image, running
# as an unprivileged user with its data in the /data volume.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/pingan ./cmd/pingan \
 && mkdir -p /out/data && chown 65532:65532 /out/data

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/pingan /pingan
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV PINGAN_DATA_DIR=/data PINGAN_ADDR=:8080
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/pingan"]
CMD ["serve"]
