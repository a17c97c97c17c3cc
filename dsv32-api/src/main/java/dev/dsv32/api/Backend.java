package dev.dsv32.api;

/** Where a local model runs. */
public enum Backend {
    /** {@link #CUDA} when the native library has it and a CUDA device is present, else {@link #CPU}. */
    AUTO,
    /** The native CPU engine (dsv32-native). */
    CPU,
    /** One NVIDIA GPU (Hopper, sm_90a build); the engine says why when it is not available (no device, not built). */
    CUDA,
    /**
     * One AMD GPU (ROCm; libdsv32_hip.so opened at run time; the CUDA engine's code on the HIP kernels, not yet run on
     * AMD hardware): the engine says why it cannot run (not built, library not found, no HIP device).
     */
    HIP
}
