/**
 * java.util.Random, bit for bit: the 48-bit linear congruential generator of Knuth TAOCP 3.2.1
 * that Java specifies exactly, so that values ZooKeeper derives from it (session passwords,
 * see session-password.ts) come out identical here.
 *
 * The 48-bit state is kept as two 24-bit halves in plain numbers: every partial product stays
 * below 2^53, so the arithmetic is exact without bigint on the per-draw path.
 */

const MULTIPLIER = 0x5deece66dn;
const MULTIPLIER_HIGH = 0x5de; // MULTIPLIER >> 24
const MULTIPLIER_LOW = 0xece66d; // MULTIPLIER & 0xffffff
const ADDEND = 0xb;
const HALF = 0x1000000; // 2^24
const MASK_48 = (1n << 48n) - 1n;

export class JavaRandom {
  #high = 0;
  #low = 0;

  /** `new Random(seed)`: a Java long; a bigint outside 64 bits is taken modulo 2^64, as a cast. */
  constructor(seed: bigint) {
    this.setSeed(seed);
  }

  /** `setSeed(seed)`: scrambles the seed with the multiplier, keeping its low 48 bits. */
  setSeed(seed: bigint): void {
    const scrambled = (seed ^ MULTIPLIER) & MASK_48;
    this.#high = Number(scrambled >> 24n);
    this.#low = Number(scrambled & 0xffffffn);
  }

  /** `next(bits)`: advances the state and returns its top `bits` bits (1..32) as a Java int. */
  next(bits: number): number {
    // state * MULTIPLIER + ADDEND mod 2^48, schoolbook on 24-bit halves; the high half's
    // product with MULTIPLIER_HIGH only affects bits above 48 and is dropped.
    const low = this.#low * MULTIPLIER_LOW + ADDEND;
    const high = this.#high * MULTIPLIER_LOW + this.#low * MULTIPLIER_HIGH + Math.floor(low / HALF);
    this.#low = low % HALF;
    this.#high = high % HALF;
    const state = this.#high * HALF + this.#low;
    // Java's `(int) (seed >>> (48 - bits))`: the shift is exact on a double below 2^48, and
    // `| 0` is the int cast (keeps the low 32 bits, two's complement).
    return Math.floor(state / 2 ** (48 - bits)) | 0;
  }

  /** `nextInt()`: a uniformly distributed Java int (-2^31..2^31-1). */
  nextInt(): number {
    return this.next(32);
  }

  /** `nextLong()`: `((long) next(32) << 32) + next(32)`, as a signed 64-bit bigint. */
  nextLong(): bigint {
    const high = BigInt(this.next(32));
    const low = BigInt(this.next(32));
    return BigInt.asIntN(64, (high << 32n) + low);
  }

  /** `nextBytes(bytes)`: fills `bytes` from successive nextInt()s, low byte first. */
  nextBytes(bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length) {
      let random = this.nextInt();
      for (let n = Math.min(bytes.length - i, 4); n > 0; n--) {
        bytes[i++] = random & 0xff;
        random >>= 8;
      }
    }
  }
}
