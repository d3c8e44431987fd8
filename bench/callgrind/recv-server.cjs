// A receive-only server for bench/callgrind/recv.mjs: counts the datagrams
// delivered to 'message' (or, with LISTENER `messages`, to 'messages') and
// after every BURST of them sends one 1-byte acknowledgement from a separate
// node:dgram socket (the same cost for both modules), exits after COUNT.
// Usage: node recv-server.cjs MODULE COUNT BURST SIZE [message|messages]
const dgram = require(process.argv[2]);
const nodeDgram = require('node:dgram');
const count = Number(process.argv[3]);
const burst = Number(process.argv[4]);
const size = Number(process.argv[5]);
const listener = process.argv[6] || 'message';
const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
const ack = nodeDgram.createSocket('udp4');
const ACK = Buffer.alloc(1);
let seen = 0;
let client = 0;
let bytes = 0;
const counted = (n, port) => {
  const before = seen;
  seen += n;
  client = port;
  if (Math.floor(seen / burst) !== Math.floor(before / burst)) ack.send(ACK, client, '127.0.0.1');
  if (seen >= count) setImmediate(() => { sock.close(); ack.close(); });
};
if (listener === 'messages') {
  sock.on('messages', (batch) => {
    for (const { msg } of batch) bytes += msg.length;
    counted(batch.length, batch[batch.length - 1].rinfo.port);
  });
} else {
  sock.on('message', (msg, rinfo) => {
    bytes += msg.length;
    counted(1, rinfo.port);
  });
}
sock.bind(0, '127.0.0.1', () => process.stdout.write(`${sock.address().port}\n`));
process.on('exit', (code) => {
  if (bytes === seen * size) return;
  process.stderr.write(`bad sizes: ${bytes} bytes in ${seen} datagrams\n`);
  process.exitCode = code || 3;
});
setTimeout(() => process.exit(1), 300000).unref();
