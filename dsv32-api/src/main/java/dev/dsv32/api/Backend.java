package dev.dsv32.api;

/** Where a local model runs. This build has the CPU engine only. */
public enum Backend {
    /** The best backend this build has: {@link #CPU}. */
    AUTO,
    /** The native CPU engine (dsv32-native). */
    CPU,
    /** NVIDIA GPUs: not available in this build. */
    CUDA,
    /** AMD GPUs (ROCm): not available in this build. */
    HIP
}
