package dev.dsv32.api;

import dev.dsv32.encoding.ModelVariant;

/** Which DeepSeek-V3.2 checkpoint a model is: the standard one, or Speciale (reasoning only, no tool calling). */
public enum Variant {
    V32(ModelVariant.STANDARD), SPECIALE(ModelVariant.SPECIALE);

    private final ModelVariant encoding;

    Variant(ModelVariant encoding) {
        this.encoding = encoding;
    }

    /** The encoder's name for it. */
    public ModelVariant encodingVariant() {
        return encoding;
    }

    public boolean supportsTools() {
        return encoding.supportsTools();
    }
}
