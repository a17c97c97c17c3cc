package dev.dsv32.nativ;

/** What the engine reports about an open model ({@code dsv32_model_info}). */
public record ModelInfo(int vocabSize, int hiddenSize, int numLayers, int maxSeqLen, Numerics numerics, int mp) {}
