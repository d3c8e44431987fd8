// Shared by app.cjs and app.mjs: exchanges datagrams on loopback through two
// unmodified third-party packages from npm, neither of which knows fastdgram:
//   dns2          — require('node:dgram'); its UDP server *extends* dgram.Socket
//   statsd-client — require('dgram')
// and counts which datagram sockets fastdgram's Socket actually served, by
// wrapping fastdgram.Socket.prototype (a library that got node:dgram instead
// leaves the counts at zero). Prints one JSON line and exits.
'use strict';

const fastdgram = require('fastdgram');

const served = { bind: 0, send: 0 };
for (const method of Object.keys(served)) {
  const original = fastdgram.Socket.prototype[method];
  fastdgram.Socket.prototype[method] = function counted(...args) {
    served[method] += 1;
    return original.apply(this, args);
  };
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function dnsRoundTrip() {
  const { UDPServer, UDPClient, Packet } = require('dns2');
  const server = new UDPServer((request, send) => {
    const response = Packet.createResponseFromRequest(request);
    const [question] = request.questions;
    response.answers.push({
      name: question.name,
      type: Packet.TYPE.A,
      class: Packet.CLASS.IN,
      ttl: 60,
      address: '127.0.0.42',
    });
    send(response);
  });
  await server.listen(0, '127.0.0.1');
  const { port } = server.address();
  try {
    const resolve = UDPClient({ dns: '127.0.0.1', port, timeout: 5000, retryOverTCP: false });
    const answer = await withTimeout(resolve('fastdgram.test', 'A'), 5000, 'dns2 query');
    return {
      serverIsFastdgram: server instanceof fastdgram.Socket,
      answer: answer.answers.map((a) => `${a.name} ${a.address}`),
    };
  } finally {
    server.close();
  }
}

async function statsdDelivery(dgram) {
  const SDC = require('statsd-client');
  const receiver = dgram.createSocket('udp4');
  await new Promise((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  const received = new Promise((resolve) => receiver.once('message', (msg) => resolve(msg.toString())));
  const client = new SDC({ host: '127.0.0.1', port: receiver.address().port, socketTimeout: 0 });
  try {
    client.increment('fastdgram.register');
    return { receiverIsFastdgram: receiver instanceof fastdgram.Socket, line: await withTimeout(received, 5000, 'statsd') };
  } finally {
    client.close();
    receiver.close();
  }
}

async function run(report) {
  const dgram = require('dgram');
  report.requireDgramIsFastdgram = dgram === fastdgram;
  report.requireNodeDgramIsFastdgram = require('node:dgram') === fastdgram;
  report.dns = await dnsRoundTrip();
  report.statsd = await statsdDelivery(dgram);
  report.served = served;
  report.registerMode = (globalThis[Symbol.for('fastdgram.register')] || {}).mode || null;
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

module.exports = { run };
