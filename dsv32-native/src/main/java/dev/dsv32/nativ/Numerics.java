package dev.dsv32.nativ;

/** Numerics mode of the native engine ({@code enum dsv32_numerics}). */
public enum Numerics {
    /** The engine default: {@link #F32}, the numerics the golden references are checked in. */
    DEFAULT(0),
    /** Dequantised weights, f32 everywhere (the reference for the golden logits). */
    F32(1),
    /**
     * The official demo's numerics: bf16 activations, e4m3 activation quantisation, FP8 latent and indexer q/k, and the
     * decode attention's query and probabilities in bf16 (sums and softmax in f32).
     */
    FP8(2);

    private final int code;

    Numerics(int code) {
        this.code = code;
    }

    /** The C enum value. */
    public int code() {
        return code;
    }

    /** The mode with C enum value {@code code}. */
    public static Numerics ofCode(int code) {
        for (Numerics n : values()) {
            if (n.code == code) return n;
        }
        throw new IllegalArgumentException("unknown numerics code " + code);
    }
}
