// The desktop container's healthcheck (OBS): healthy only when obs-websocket completes its handshake (Hello, then
// Identify with the password, then Identified) within the time limit. A bare TCP connect is not enough:
// the kernel accepts it for a frozen OBS. Plain JavaScript on node's own modules, so it starts fast.
//   node src/obs-healthcheck.mjs   (OBS_WS_PORT, OBS_WS_PASSWORD from the environment; exit 0 healthy, 1 not)
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';

const port = Number(process.env.OBS_WS_PORT || 4455);
const password = process.env.OBS_WS_PASSWORD || '';
const limitMs = Number(process.env.OBS_HEALTHCHECK_TIMEOUT_MS || 4000);

const sha256 = (text) => createHash('sha256').update(text).digest('base64');
const fail = (why) => {
  process.stderr.write(`obs-websocket not healthy: ${why}\n`);
  process.exit(1);
};
setTimeout(() => fail(`no complete handshake within ${limitMs} ms`), limitMs).unref();

/** One masked text frame (clients must mask). */
function frame(text) {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const header =
    payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const body = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]));
  return Buffer.concat([header, mask, body]);
}

const socket = connect(port, '127.0.0.1');
socket.on('error', (error) => fail(error.message));
socket.on('close', () => fail('connection closed before Identified'));
let buffer = Buffer.alloc(0);
let upgraded = false;
socket.on('connect', () => {
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: obswebsocket.json\r\n\r\n`,
  );
});
socket.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  if (!upgraded) {
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    if (!/^HTTP\/1\.1 101/.test(buffer.subarray(0, end).toString())) fail(`upgrade refused: ${buffer.subarray(0, buffer.indexOf('\r\n')).toString()}`);
    upgraded = true;
    buffer = buffer.subarray(end + 4);
  }
  while (buffer.length >= 2) {
    let length = buffer[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) return;
      length = buffer.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buffer.length < 10) return;
      length = Number(buffer.readBigUInt64BE(2));
      offset = 10;
    }
    if (buffer.length < offset + length) return;
    const opcode = buffer[0] & 0x0f;
    const payload = buffer.subarray(offset, offset + length).toString();
    buffer = buffer.subarray(offset + length);
    if (opcode === 0x8) fail('OBS closed the connection (wrong password?)');
    if (opcode !== 0x1) continue;
    const message = JSON.parse(payload);
    if (message.op === 0) {
      const auth = message.d.authentication;
      const identify = { rpcVersion: 1, eventSubscriptions: 0 };
      if (auth) identify.authentication = sha256(sha256(password + auth.salt) + auth.challenge);
      socket.write(frame(JSON.stringify({ op: 1, d: identify })));
    } else if (message.op === 2) {
      socket.removeAllListeners('close');
      socket.end();
      process.exit(0);
    }
  }
});
