package dev.dsv32.nativ;

/** Where the native engine computes ({@code enum dsv32_backend}). */
public enum NativeBackend {
    /** The C++ CPU engine (the default). */
    CPU(0),
    /**
     * One NVIDIA GPU (sm_90a build, model parallelism 1). Opening fails with a {@link BackendUnavailableException}
     * when the native library was built without nvcc or no CUDA device can be used.
     */
    CUDA(1),
    /** {@link #CUDA} when it can be used, else {@link #CPU} (never {@link #HIP}); {@link ModelInfo#backend()} says which. */
    AUTO(2),
    /**
     * One AMD GPU through libdsv32_hip.so, which the native library opens at run time (libdsv32 itself never needs
     * ROCm). Where it cannot run, opening fails with a {@link BackendUnavailableException}: "not available in this
     * build", "... libdsv32_hip.so not found" or "... no HIP device".
     */
    HIP(3);

    private final int code;

    NativeBackend(int code) {
        this.code = code;
    }

    /** The C enum value. */
    public int code() {
        return code;
    }

    /** The backend with C enum value {@code code}. */
    public static NativeBackend ofCode(int code) {
        for (NativeBackend b : values()) {
            if (b.code == code) return b;
        }
        throw new IllegalArgumentException("unknown backend code " + code);
    }
}
