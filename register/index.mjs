// `node --import fastdgram/register`: the same as --require (index.js), which
// redirects both require() and import of 'dgram' / 'node:dgram'.
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./index.js');
