# rtms-mock in a container, built on the single executable (UNTESTED: no Docker engine was available where
# this was written; the executable itself is tested by test/dist/binary.test.ts).
#
#   bun run build                       # makes dist/rtms-mock (linux-x64); for arm64 hosts:
#                                       #   bun scripts/build.ts --target bun-linux-arm64 --outfile dist/rtms-mock
#   docker build -t rtms-mock .
#   docker run --rm -p 9092:9092 -p 8081:8081 -e RTMS_MOCK_API_TOKEN=$(openssl rand -hex 16) rtms-mock --public-host localhost
#   (it binds 0.0.0.0 inside the container, which needs an API token: README "Security and limits")
#
# The executable needs only glibc, so a slim Debian base is enough. It carries the page, the synthetic media
# and the sample credentials; mount your own with -v ./creds.json:/creds.json and --credentials /creds.json.
FROM debian:bookworm-slim
COPY dist/rtms-mock /usr/local/bin/rtms-mock
# Listen on every interface inside the container; URLs handed to apps use --public-host (default localhost).
ENV RTMS_MOCK_HOST=0.0.0.0 \
    RTMS_MOCK_TLS_DIR=/var/lib/rtms-mock/tls
RUN useradd --system --home-dir /var/lib/rtms-mock --create-home rtms
USER rtms
EXPOSE 9092 8081
HEALTHCHECK --interval=10s --timeout=2s --start-period=5s CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9092 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '\"ok\"' <&3"]
ENTRYPOINT ["/usr/local/bin/rtms-mock"]
