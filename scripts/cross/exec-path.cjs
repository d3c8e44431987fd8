// Preloaded (--require) into every Node.js that scripts/test-cross.sh starts
// under qemu-user. There, process.execPath is the foreign (Arm) node binary,
// which this x86_64 machine cannot execute by itself when binfmt_misc has no
// qemu entry (as in a container); ava's workers and the tests' children are
// started with process.execPath. Pointing it at the wrapper script that
// starts that binary under qemu makes every child run emulated too.
'use strict';

const wrapper = process.env.FASTDGRAM_QEMU_NODE;
if (wrapper) process.execPath = wrapper;
