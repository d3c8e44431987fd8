// What the tests need to know when they run under qemu-user, and the reasons
// they give when a scenario cannot be tested there.
//
// UNDER_QEMU: scripts/test-cross.sh runs the suite with an Arm Node.js under
// qemu-user and says so (FASTDGRAM_QEMU=arm64 | armv7, set by the wrapper
// every emulated node starts through, so children inherit it).
// Native Linux runs are unchanged: every value below is neutral there.
export const QEMU_TARGET = process.env.FASTDGRAM_QEMU || null;
export const UNDER_QEMU = QEMU_TARGET !== null;

// Emulated code runs some ten times slower than native here (a Node.js start
// takes ~1 s instead of ~50 ms); deadlines and waits that bound a scenario in
// time are multiplied by this. FASTDGRAM_QEMU_TIME_SCALE overrides it.
export const TIME_SCALE = UNDER_QEMU ? Number(process.env.FASTDGRAM_QEMU_TIME_SCALE || 10) : 1;

/** ms, stretched under emulation. */
export function timeScaled(ms) {
  return ms * TIME_SCALE;
}

// The socket options the kernel supports but qemu-user does not translate
// (its setsockopt/getsockopt return ENOPROTOOPT for them), found by
// scripts/cross/sockopt-probe.c natively and under qemu before each run.
const untranslated = new Set((process.env.FASTDGRAM_QEMU_UNTRANSLATED || '').split(',').filter(Boolean));

/**
 * The reason a test skips under qemu when it needs one of these socket
 * options, or null when it can run (always null natively).
 * @param {...string} options
 * @returns {string | null}
 */
export function untranslatedOptions(...options) {
  if (!UNDER_QEMU) return null;
  const missing = options.filter((option) => untranslated.has(option));
  return missing.length === 0 ? null : `qemu-user does not translate ${missing.join(', ')}`;
}

/**
 * `register` (ava's test, test.serial) natively and wherever qemu translates
 * the options; else its .skip, with the reason in the title.
 * (No import of ava here: fixtures run outside ava import this file too.)
 * @param {any} register
 * @param {...string} options
 */
export function unlessUntranslated(register, ...options) {
  const reason = untranslatedOptions(...options);
  if (!reason) return register;
  return (title, ...rest) => register.skip(`${title} — skipped: ${reason}`, ...rest);
}

// qemu-user checks a socket option before the descriptor: setMulticastInterface
// on a socket without one gives node:dgram ENOPROTOOPT there, EBADF on Linux
// (and from fastdgram, which has no descriptor to ask about).
export const MULTICAST_INTERFACE_UNTRANSLATED = untranslatedOptions('IP_MULTICAST_IF', 'IPV6_MULTICAST_IF');

// Resident memory under qemu-user counts the emulator's translation cache and
// heap as well as the program's, so RSS bounds are logged there, not asserted.
const RSS_UNDER_QEMU = 'not asserted under qemu-user: its RSS includes the emulator\'s translation cache';

/** t.true(withinBound, message) natively; under qemu, the message logged with the reason. */
export function assertRss(t, withinBound, message) {
  if (UNDER_QEMU) t.log(`${message}: ${withinBound ? 'within' : 'over'} the bound, ${RSS_UNDER_QEMU}`);
  else t.true(withinBound, message);
}

/** calls without the setMulticastInterface ones where MULTICAST_INTERFACE_UNTRANSLATED; natively calls itself. */
export function withoutMulticastInterfaceUnderQemu(calls) {
  if (!MULTICAST_INTERFACE_UNTRANSLATED) return calls;
  return Object.fromEntries(Object.entries(calls).filter(([name]) => !name.startsWith('setMulticastInterface')));
}
