// An echo server for bench/callgrind/echo.mjs: answers every datagram with
// send() (no callback), exits after COUNT datagrams. Usage:
//   node echo-server.cjs MODULE COUNT   (MODULE: node:dgram or a path to fastdgram)
const dgram = require(process.argv[2]);
const count = Number(process.argv[3]);
const sock = dgram.createSocket('udp4');
let seen = 0;
sock.on('message', (msg, rinfo) => {
  sock.send(msg, rinfo.port, rinfo.address);
  if (++seen === count) setImmediate(() => sock.close());
});
sock.bind(0, '127.0.0.1', () => process.stdout.write(`${sock.address().port}\n`));
setTimeout(() => process.exit(1), 120000).unref();
