# The compose test's stand-in for Twitch: nginx with the RTMP module, plus ffprobe to read the stream
# back from inside the compose network. Test only.
FROM debian:bookworm-slim
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light libnginx-mod-rtmp ffmpeg >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY test/compose/rtmp-sink.conf /etc/nginx/rtmp-sink.conf
EXPOSE 1935
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=5 CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/1935"]
CMD ["nginx", "-c", "/etc/nginx/rtmp-sink.conf"]
