package dev.dsv32.nativ.synth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A deterministic normal-distribution stream: SplitMix64 uniforms and Marsaglia's polar form of Box-Muller, with
 * {@link StrictMath#log} (bit-exact on every JVM) and {@link Math#sqrt} (correctly rounded), so the same seed gives the
 * same numbers on every platform and JDK. One stream per tensor, seeded from SHA-256 of {@code "<seed>:<name>"} as
 * the reference generator does, so a tensor's values do not depend on the order in which tensors are made.
 */
public final class Rng {
    private long state;
    private double spare;
    private boolean hasSpare;

    public Rng(long seed) {
        this.state = seed;
    }

    /** The stream of tensor {@code name} under global seed {@code seed}. */
    public static Rng forTensor(long seed, String name) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((seed + ":" + name).getBytes(StandardCharsets.UTF_8));
            long s = 0;
            for (int i = 7; i >= 0; i--) s = (s << 8) | (d[i] & 0xFF);
            return new Rng(s);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    /** The next 64 random bits (SplitMix64). */
    public long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A uniform double in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** A standard normal N(0, 1). */
    public double nextGaussian() {
        if (hasSpare) {
            hasSpare = false;
            return spare;
        }
        double u, v, s;
        do {
            u = 2 * nextDouble() - 1;
            v = 2 * nextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        double f = Math.sqrt(-2 * StrictMath.log(s) / s);
        spare = v * f;
        hasSpare = true;
        return u * f;
    }
}
