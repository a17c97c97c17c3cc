package dev.dsv32.nativ;

/**
 * What the engine reports about an open model ({@code dsv32_model_info}, {@code dsv32_model_device}).
 *
 * @param backend where the model computes: {@link NativeBackend#CPU} or {@link NativeBackend#CUDA} (what
 *     {@link NativeBackend#AUTO} chose)
 * @param device the device in words, e.g. {@code "cpu (16 threads)"} or {@code "NVIDIA H200 (sm_90, ...)"}
 */
public record ModelInfo(int vocabSize, int hiddenSize, int numLayers, int maxSeqLen, Numerics numerics, int mp,
                        NativeBackend backend, String device) {
    public ModelInfo {
        java.util.Objects.requireNonNull(backend, "backend");
        java.util.Objects.requireNonNull(device, "device");
    }

    /** A CPU model's info. */
    public ModelInfo(int vocabSize, int hiddenSize, int numLayers, int maxSeqLen, Numerics numerics, int mp) {
        this(vocabSize, hiddenSize, numLayers, maxSeqLen, numerics, mp, NativeBackend.CPU, "cpu");
    }
}
