package dev.dsv32.nativ.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class E4m3Test {
    private static int enc(float x) {
        return E4m3.encode(x) & 0xFF;
    }

    @Test
    void everyCodeRoundTripsThroughDecode() {
        int finite = 0;
        for (int c = 0; c < 256; c++) {
            float v = E4m3.decode((byte) c);
            if ((c & 0x7F) == 0x7F) {
                assertTrue(Float.isNaN(v), "code " + c);
                assertEquals(0x7F, enc(v));
                continue;
            }
            finite++;
            assertEquals(c, enc(v), "code 0x" + Integer.toHexString(c) + " = " + v);
        }
        assertEquals(254, finite);
    }

    @Test
    void knownValues() {
        assertEquals(0x00, enc(0f));
        assertEquals(0x80, enc(-0f));
        assertEquals(0x38, enc(1f));
        assertEquals(0xB8, enc(-1f));
        assertEquals(0x7E, enc(448f));
        assertEquals(0xFE, enc(-448f));
        assertEquals(0x01, enc(0x1p-9f));  // smallest subnormal
        assertEquals(0x07, enc(7 * 0x1p-9f)); // largest subnormal
        assertEquals(0x08, enc(0x1p-6f));  // smallest normal
        assertEquals(448f, E4m3.decode((byte) 0x7E));
        assertEquals(0x1p-9f, E4m3.decode((byte) 0x01));
        assertEquals(240f, E4m3.decode((byte) 0x77));
    }

    @Test
    void saturatesInsteadOfOverflowing() {
        for (float x : new float[] {449f, 463.99f, 464f, 480f, 1e6f, Float.MAX_VALUE, Float.POSITIVE_INFINITY}) {
            assertEquals(0x7E, enc(x), "x=" + x);
            assertEquals(0xFE, enc(-x), "x=" + -x);
        }
    }

    @Test
    void tiesRoundToEven() {
        assertEquals(0x38, enc(1.0625f));   // 1 (even) vs 1.125
        assertEquals(0x3A, enc(1.1875f));   // 1.125 vs 1.25 (even)
        assertEquals(0x00, enc(0x1p-10f));  // 0 (even) vs 2^-9
        assertEquals(0x80, enc(-0x1p-10f));
        assertEquals(0x02, enc(3 * 0x1p-10f)); // 1 vs 2 (even) subnormal steps
        assertEquals(0x08, enc(7.5f * 0x1p-9f)); // largest subnormal vs smallest normal (even)
        assertEquals(0x7C, enc(400f));      // 384 (0x7C, even) vs 416
        assertEquals(0x7E, enc(432f));      // 416 vs 448 (even)
        assertEquals(0x00, enc(0x1p-11f));
        assertEquals(0x01, enc(Math.nextUp(0x1p-10f)));
    }

    @Test
    void agreesWithABruteForceNearestEven() {
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 200_000; i++) {
            float x = (float) (r.nextDouble(-1, 1) * Math.pow(2, r.nextInt(-12, 10)));
            assertEquals(bruteForce(x), enc(x), "x=" + x);
        }
    }

    private static int bruteForce(float x) {
        double cx = Math.max(-448, Math.min(448, x));
        int best = -1;
        double bestErr = Double.MAX_VALUE;
        for (int c = 0; c < 256; c++) {
            float v = E4m3.decode((byte) c);
            if (Float.isNaN(v) || (v == 0 && (c & 0x80) != (Float.floatToRawIntBits(x) >>> 24 & 0x80))) continue;
            double err = Math.abs(v - cx);
            if (err < bestErr || (err == bestErr && (c & 1) == 0 && (best & 1) == 1)) {
                best = c;
                bestErr = err;
            }
        }
        return best;
    }
}
