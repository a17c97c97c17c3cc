package dev.dsv32.tokenizer;

import dev.dsv32.Dsv32Exception;

/** A tokenizer file could not be used; the message names the file and the field. */
public class TokenizerException extends Dsv32Exception {
    private static final long serialVersionUID = 1L;

    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
