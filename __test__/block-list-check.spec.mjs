// Parity: a BlockList whose `check` is not BlockList's own — a subclass that
// overrides it, or an instance whose `check` was replaced, before or after
// the socket got the list. node:dgram calls `receiveBlockList.check(address,
// family)` for each datagram, and `sendBlockList.check(ip, family)` for each
// send and connect, so such a check decides, and sees every call; fastdgram
// must ask it the same (a plain list keeps the native path). Each scenario
// runs on node:dgram and on fastdgram; the calls the check got (arguments,
// `this`), the datagrams delivered and the send outcomes must be the same.
import test from 'ava';
import { BlockList } from 'node:net';
import { nodeAtLeast } from './helpers/parity.mjs';
import { Sockets, parity, skipWithReason, sleep, waitUntil } from './fixtures/udp.mjs';
import { UNDER_WINE, WINE_LOOPBACK_SOURCES } from './helpers/platform.mjs';

const NODE_HAS_BLOCK_LISTS = nodeAtLeast(22, 13);
const withBlockLists = NODE_HAS_BLOCK_LISTS
  ? test.serial
  : (title) => skipWithReason(title, `node ${process.version}'s node:dgram has no block lists (fastdgram adds them there; block-list-native.spec tests them)`);
// The receive scenarios block 127.0.0.2 and let 127.0.0.1 through; under
// Wine every loopback sender is seen from 127.0.0.1, so nothing would be
// blocked and node:dgram and fastdgram would agree on a list that decides
// nothing: they skip there (the send scenarios check destinations and run).
const withSourceBlockLists = UNDER_WINE ? (title) => skipWithReason(title, WINE_LOOPBACK_SOURCES) : withBlockLists;
/** What every receive scenario delivers: 127.0.0.2's datagrams blocked. */
const FROM_ONE_ONLY = ['one-0 from 127.0.0.1', 'one-1 from 127.0.0.1', 'one-2 from 127.0.0.1', 'end from 127.0.0.1'];

/** A check that blocks 127.0.0.2 and records each call. */
function recordingCheck(calls, list) {
  return function check(address, family) {
    calls.push({ address, family, thisIsList: this === list, args: arguments.length });
    return address === '127.0.0.2';
  };
}

/** Datagrams from 127.0.0.1 and 127.0.0.2 to a receiver with `list`; what arrived, in order per source. */
async function receive(dgram, list, afterBind) {
  const sockets = new Sockets(dgram);
  try {
    const receiver = await sockets.bound({ type: 'udp4', receiveBlockList: list }, 0, '127.0.0.1');
    afterBind?.();
    const got = [];
    receiver.on('message', (msg, rinfo) => got.push(`${msg} from ${rinfo.address}`));
    const one = await sockets.bound('udp4', 0, '127.0.0.1');
    const two = await sockets.bound('udp4', 0, '127.0.0.2');
    for (let i = 0; i < 3; i++) {
      one.send(`one-${i}`, receiver.address().port, '127.0.0.1');
      await sleep(5);
      two.send(`two-${i}`, receiver.address().port, '127.0.0.1');
      await sleep(5);
    }
    // Then one more from 127.0.0.1, which every list here lets through, marks the end.
    one.send('end', receiver.address().port, '127.0.0.1');
    await waitUntil(() => got.includes('end from 127.0.0.1'), 3000);
    return got;
  } finally {
    sockets.closeAll();
  }
}

class LoggingList extends BlockList {
  constructor(calls) {
    super();
    this.calls = calls;
  }

  check(address, family) {
    this.calls.push({ address, family, args: arguments.length });
    return address === '127.0.0.2' || super.check(address, family);
  }
}

withSourceBlockLists('receiveBlockList: a subclass overriding check() is asked for every datagram, as node:dgram asks it', async (t) => {
  const { expected } = await parity(t, async (dgram) => {
    const calls = [];
    const got = await receive(dgram, new LoggingList(calls));
    return { got, calls };
  });
  t.is(expected.calls.length, 7);
  t.deepEqual(expected.got, FROM_ONE_ONLY);
});

withSourceBlockLists('receiveBlockList: an instance whose check was replaced before the socket was made', async (t) => {
  const { expected } = await parity(t, async (dgram) => {
    const calls = [];
    const list = new BlockList();
    list.check = recordingCheck(calls, list);
    const got = await receive(dgram, list);
    return { got, calls, ownKeys: Object.keys(list) };
  });
  t.deepEqual(expected.got, FROM_ONE_ONLY, "127.0.0.2's datagrams blocked");
});

withSourceBlockLists('receiveBlockList: check replaced after bind: the new check decides from then on', async (t) => {
  const { expected } = await parity(t, async (dgram) => {
    const calls = [];
    const list = new BlockList();
    list.addAddress('127.0.0.1'); // blocked by the rules until the check is replaced
    const got = await receive(dgram, list, () => { list.check = recordingCheck(calls, list); });
    return { got, calls, checkIsOwn: Object.prototype.hasOwnProperty.call(list, 'check'), enumerable: Object.keys(list).includes('check') };
  });
  t.deepEqual(expected.got, FROM_ONE_ONLY, "127.0.0.2's datagrams blocked");
});

withSourceBlockLists('receiveBlockList: a subclass that does not override check() keeps the rules, also those added after bind', async (t) => {
  const { expected } = await parity(t, async (dgram) => {
    class Named extends BlockList {
      describe() { return 'named list'; }
    }
    const list = new Named();
    list.addAddress('127.0.0.3');
    const got = await receive(dgram, list, () => list.addAddress('127.0.0.2'));
    return { got, checkIsBlockLists: list.check === BlockList.prototype.check };
  });
  t.deepEqual(expected.got, FROM_ONE_ONLY, "127.0.0.2's datagrams blocked");
});

withBlockLists('sendBlockList: a replaced check is asked for each send and connect with (ip, family), and decides ERR_IP_BLOCKED', async (t) => {
  const { expected } = await parity(t, async (dgram) => {
    const calls = [];
    const list = new BlockList();
    list.check = recordingCheck(calls, list);
    const sockets = new Sockets(dgram);
    try {
      const receiver = await sockets.bound('udp4', 0, '127.0.0.1');
      const got = [];
      receiver.on('message', (msg) => got.push(String(msg)));
      const sender = sockets.create({ type: 'udp4', sendBlockList: list });
      const outcomes = [];
      const port = receiver.address().port;
      await new Promise((resolve) => sender.send('to .1', port, '127.0.0.1', (err) => { outcomes.push(err ? err.code : 'sent'); resolve(); }));
      await new Promise((resolve) => sender.send('to .2', port, '127.0.0.2', (err) => { outcomes.push(err ? err.code : 'sent'); resolve(); }));
      await new Promise((resolve) => sender.connect(port, '127.0.0.2', (err) => { outcomes.push(err ? err.code : 'connected'); resolve(); }));
      await sleep(30);
      return { got, calls, outcomes };
    } finally {
      sockets.closeAll();
    }
  });
  t.deepEqual(expected.outcomes, ['sent', 'ERR_IP_BLOCKED', 'ERR_IP_BLOCKED']);
});
