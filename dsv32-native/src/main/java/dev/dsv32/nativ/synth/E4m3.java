package dev.dsv32.nativ.synth;

/**
 * The OCP FP8 {@code e4m3fn} format (PyTorch {@code float8_e4m3fn}): 1 sign, 4 exponent (bias 7), 3 mantissa bits, no
 * infinities, NaN = {@code S.1111.111}, largest finite ±448, smallest subnormal 2^-9.
 */
public final class E4m3 {
    /** The largest finite magnitude. */
    public static final float MAX = 448f;

    private static final float[] DECODE = new float[256];

    static {
        for (int c = 0; c < 256; c++) DECODE[c] = decodeSlow(c);
    }

    private E4m3() {}

    /**
     * Rounds {@code x} to the nearest e4m3 value, ties to even, saturating to ±448 (anything of larger magnitude,
     * infinities included, becomes ±448, code {@code 0x7E}/{@code 0xFE}); NaN becomes {@code 0x7F}. The sign of zero is
     * kept.
     */
    public static byte encode(float x) {
        if (Float.isNaN(x)) return 0x7F;
        int sign = (Float.floatToRawIntBits(x) >>> 24) & 0x80;
        double a = Math.abs((double) x);
        if (a >= MAX) return (byte) (sign | 0x7E);
        int code;
        if (a < 0x1p-6) {
            // subnormals: m * 2^-9, m = 0..7; m == 8 is the smallest normal (code 0x08), which the formula also gives
            code = (int) Math.rint(a * 0x1p9); // exact scaling; rint rounds half to even
        } else {
            int e = Math.getExponent(a);               // a in [2^e, 2^(e+1)), e in [-6, 8]
            double q = Math.rint(Math.scalb(a, 3 - e)); // mantissa with the implicit 1, in [8, 16]
            int m = (int) q;
            if (m == 16) {
                e++;
                m = 8;
            }
            code = ((e + 7) << 3) | (m - 8);
            if (code > 0x7E) code = 0x7E; // 464 and above round to 480 / NaN: saturate
        }
        return (byte) (sign | code);
    }

    /** The value of an e4m3 code (NaN for {@code 0x7F} and {@code 0xFF}). */
    public static float decode(byte b) {
        return DECODE[b & 0xFF];
    }

    private static float decodeSlow(int c) {
        int sign = c & 0x80, exp = (c >>> 3) & 0xF, man = c & 7;
        float v;
        if (exp == 15 && man == 7) v = Float.NaN;
        else if (exp == 0) v = Math.scalb((float) man, -9);
        else v = Math.scalb((float) (8 + man), exp - 10);
        return sign != 0 ? -v : v;
    }
}
