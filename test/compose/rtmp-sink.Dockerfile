# The compose test's stand-in for the platforms: nginx with the RTMP module (RTMP on 1935) behind stunnel
# (RTMPS on 1936, as Kick and YouTube's TLS door), plus ffprobe to read the streams back from inside the
# compose network. Test only.
FROM debian:bookworm-slim
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light libnginx-mod-rtmp ffmpeg stunnel4 openssl >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /sink-tls
COPY test/compose/rtmp-sink.conf /etc/nginx/rtmp-sink.conf
COPY test/compose/rtmp-sink-start.sh /usr/local/bin/rtmp-sink-start
EXPOSE 1935 1936
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=5 CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/1935 && exec 4<>/dev/tcp/127.0.0.1/1936 && test -s /sink-tls/cert.pem"]
CMD ["/usr/local/bin/rtmp-sink-start"]
