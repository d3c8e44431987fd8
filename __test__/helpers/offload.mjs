// The datagrams of the send-offload tests (windows-offload.spec and its
// fixture): each carries its index and bytes that depend on it and on their
// place, so that a datagram merged, split, repeated, reordered or altered
// on the way is told apart from the one sent.

/** Datagram `index` of `length` bytes (at least 4). */
export function offloadPayload(index, length) {
  const data = Buffer.alloc(length);
  data.writeUInt32BE(index, 0);
  for (let i = 4; i < length; i += 1) data[i] = (index * 7 + i) & 0xff;
  return data;
}

/**
 * What is wrong with `received` (Buffers, in order of arrival) as datagrams
 * 0..lengths.length-1 of those lengths: a list of problems (the first few),
 * empty when each arrived exactly once, intact, in order.
 */
export function offloadProblems(received, lengths) {
  const problems = [];
  if (received.length !== lengths.length) {
    problems.push(`${received.length} datagrams arrived, ${lengths.length} were sent`);
  }
  received.forEach((data, place) => {
    const number = data.length >= 4 ? data.readUInt32BE(0) : -1;
    if (number !== place) problems.push(`datagram ${place} is number ${number} (${data.length} bytes)`);
    else if (!data.equals(offloadPayload(place, lengths[place]))) problems.push(`datagram ${place} altered (${data.length} bytes)`);
  });
  return problems.slice(0, 5);
}
