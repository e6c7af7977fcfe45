#!/bin/sh
# The compose test's sink: nginx-rtmp on 1935 and, in front of it, RTMPS on 1936 (stunnel, as Kick and
# YouTube's TLS door speak it) with a certificate for the name rtmp-sink made at start; the certificate
# (not its key) goes to /sink-tls, which the restream container trusts (RESTREAM_TLS_CA_FILE). Test only.
set -eu
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rtmp-sink -addext subjectAltName=DNS:rtmp-sink \
  -keyout /etc/stunnel/sink-key.pem -out /etc/stunnel/sink-cert.pem 2>/dev/null
cp /etc/stunnel/sink-cert.pem /sink-tls/cert.pem.new && chmod 644 /sink-tls/cert.pem.new && mv /sink-tls/cert.pem.new /sink-tls/cert.pem
printf 'foreground = no\npid = /tmp/stunnel.pid\n[rtmps]\naccept = 1936\nconnect = 127.0.0.1:1935\ncert = /etc/stunnel/sink-cert.pem\nkey = /etc/stunnel/sink-key.pem\n' >/etc/stunnel/sink.conf
stunnel4 /etc/stunnel/sink.conf
exec nginx -c /etc/nginx/rtmp-sink.conf
