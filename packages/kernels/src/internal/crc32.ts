// CRC-32 (IEEE 802.3 polynomial, reflected 0xEDB88320) over bytes: the checksum of checkpoint bodies
// (@rxrnn/trainer) and state snapshots (@rxrnn/cells) that turns a flipped bit anywhere in the
// stored numbers into a clear load error. One 1 KiB table, built once; no allocation per call.
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * The CRC-32 of `bytes` (the zlib / PNG / Ethernet checksum: polynomial 0x04C11DB7 reflected,
 * initial value and final XOR 0xFFFFFFFF), an unsigned 32-bit integer. CRC-32 of the ASCII bytes
 * "123456789" is 0xCBF43926.
 */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
