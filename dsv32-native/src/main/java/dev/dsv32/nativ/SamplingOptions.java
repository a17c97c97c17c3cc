package dev.dsv32.nativ;

/**
 * How a {@link Sampler} picks the next token from a row of logits ({@code dsv32_sampling_params} plus the seed).
 * Immutable; validated on construction.
 *
 * <p>The native algorithm (libdsv32 {@code sampling.h}), in order: {@code temperature == 0} is greedy (the argmax,
 * the lowest id wins ties; top-k, top-p and the seed are ignored). Otherwise the finite logits are ordered (logit
 * descending, id ascending), top-k keeps the first {@code topK}, the softmax of {@code logit / temperature} is taken
 * in double precision, top-p keeps the shortest prefix whose probability mass is at least {@code topP} (at least one
 * token), and one SplitMix64 draw picks a token from what is left, renormalised. The same seed gives the same tokens
 * on every platform. A NaN or +inf logit is an error; -inf excludes a token.
 *
 * <pre>{@code
 * SamplingOptions o = SamplingOptions.builder().temperature(0.6).topP(0.95).seed(42).build();
 * Sampler s = o.newSampler();
 * }</pre>
 *
 * @param temperature softmax temperature, finite and {@code >= 0}; 0 = greedy (default 1.0, the model card's)
 * @param topP nucleus mass in {@code (0, 1]}; 1 = off (default 0.95, the model card's)
 * @param topK keep only the {@code topK} most likely tokens; 0 = off (default)
 * @param seed the initial state of the SplitMix64 generator (any value; default 0)
 */
public record SamplingOptions(double temperature, double topP, int topK, long seed) {
    /** The model card's recommendation (DeepSeek-V3.2): temperature 1.0. */
    public static final double DEFAULT_TEMPERATURE = 1.0;
    /** The model card's recommendation (DeepSeek-V3.2): top-p 0.95. */
    public static final double DEFAULT_TOP_P = 0.95;

    public SamplingOptions {
        if (!Double.isFinite(temperature) || temperature < 0) {
            throw new IllegalArgumentException("temperature must be finite and >= 0 (0 = greedy), got " + temperature);
        }
        if (!Double.isFinite(topP) || !(topP > 0) || topP > 1) {
            throw new IllegalArgumentException("topP must be in (0, 1] (1 = off), got " + topP);
        }
        if (topK < 0) throw new IllegalArgumentException("topK must be >= 0 (0 = off), got " + topK);
    }

    /** Temperature 1.0, top-p 0.95, top-k off, seed 0. */
    public static SamplingOptions defaults() {
        return new SamplingOptions(DEFAULT_TEMPERATURE, DEFAULT_TOP_P, 0, 0L);
    }

    /** Greedy decoding: the argmax of every row (temperature 0, top-p and top-k off). */
    public static SamplingOptions greedy() {
        return new SamplingOptions(0.0, 1.0, 0, 0L);
    }

    /** A builder starting from {@link #defaults()}. */
    public static Builder builder() {
        return new Builder(defaults());
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Whether this is greedy decoding (temperature 0). */
    public boolean isGreedy() {
        return temperature == 0;
    }

    /** A new sampler with these options, its generator at {@link #seed()}. */
    public Sampler newSampler() {
        return new Sampler(this);
    }

    /** Builds {@link SamplingOptions}; {@link #build()} validates. Not thread-safe. */
    public static final class Builder {
        private double temperature;
        private double topP;
        private int topK;
        private long seed;

        private Builder(SamplingOptions o) {
            this.temperature = o.temperature;
            this.topP = o.topP;
            this.topK = o.topK;
            this.seed = o.seed;
        }

        public Builder temperature(double v) {
            this.temperature = v;
            return this;
        }

        public Builder topP(double v) {
            this.topP = v;
            return this;
        }

        public Builder topK(int v) {
            this.topK = v;
            return this;
        }

        public Builder seed(long v) {
            this.seed = v;
            return this;
        }

        /** @throws IllegalArgumentException naming the field when a value is out of range */
        public SamplingOptions build() {
            return new SamplingOptions(temperature, topP, topK, seed);
        }
    }
}
