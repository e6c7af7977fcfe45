// Free TCP/UDP ports on loopback, for tests that start real servers (the product's own helpers).
export { freeLoopbackTcpPort as freeTcpPort, freeLoopbackUdpPort as freeUdpPort } from '@irlkit/shared';
