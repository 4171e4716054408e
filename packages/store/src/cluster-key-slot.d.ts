/** The package ships no types: CRC16/XMODEM mod 16384 of a key's hash tag (or whole key), as Redis Cluster computes it. */
declare module 'cluster-key-slot' {
  function generate(key: string | Buffer): number;
  export default generate;
}
