/** Types for snappyjs (it ships none): snappy block compression, output of the input's type. */
declare module "snappyjs" {
  const SnappyJS: {
    compress(input: Uint8Array): Uint8Array;
    uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
  };
  export default SnappyJS;
}
