// ES module entry: the same objects as require('fastdgram').
import dgram from '../dist/index.js';

export const { createSocket, Socket } = dgram;
export default dgram;
